"""Resume reading in worker processes: safe and parallel.

Why processes, not threads:
- pdfium (pypdfium2) is not thread-safe: two threads reading PDFs at once crash the process
  (a segmentation fault, seen when ranking 1,000 resumes with 4 reads in flight). Each worker
  process reads one file at a time, so pdfium is never entered concurrently, and the server
  process never loads a resume into pdfium at all.
- pdfminer (the text layer) is pure Python and holds the GIL: threads cannot use the second
  core; two processes can (bench/RESUME_RANK.md).

`PooledResumeReader` has the reader's interface (`read`, `health`). Workers are started with
"spawn" (never fork a process running gRPC threads), lazily on the first read, and each keeps one
`ResumeReader` with the caps it was given. A worker that dies (a crash in native code) breaks
the pool: the reads in flight answer INVALID_ARGUMENT UNREADABLE_FILE (a ranking lists them
last with that reason) and the next read starts a fresh pool.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import structlog

from server.domain.errors import InvalidArgument
from server.domain.resume_models import ResumeDocument
from server.providers.resume.ocr import OMP_LIMIT_FOR_OCR
from server.providers.resume.reader import DEFAULT_OCR_LANGUAGES, ResumeReader

log = structlog.get_logger(__name__)


@functools.lru_cache(maxsize=4)
def _reader(max_bytes: int, max_pages: int, max_chars: int, ocr_languages: str) -> ResumeReader:
    return ResumeReader(max_bytes=max_bytes, max_pages=max_pages, max_chars=max_chars,
                        ocr_languages=ocr_languages)


def _read(caps: tuple[int, int, int, str], data: bytes,
          file_name: str | None) -> ResumeDocument:
    """In a worker process: one file, with the process's reader."""
    return _reader(*caps).read_sync(data, file_name)


def _init_worker() -> None:
    """In a new worker process: tesseract with one OpenMP thread (see ocr.py)."""
    os.environ["OMP_THREAD_LIMIT"] = OMP_LIMIT_FOR_OCR


def _warm() -> int:
    """In a worker process: import the readers before the first real file."""
    return os.getpid()


class PooledResumeReader:
    """ResumeReader's interface over a pool of worker processes (see the module docstring)."""

    def __init__(self, *, max_bytes: int = 10 * 1024 * 1024, max_pages: int = 20,
                 max_chars: int = 100_000, ocr_languages: str = DEFAULT_OCR_LANGUAGES,
                 workers: int | None = None) -> None:
        self._caps = (max_bytes, max_pages, max_chars, ocr_languages)
        self._local = ResumeReader(max_bytes=max_bytes, max_pages=max_pages,
                                   max_chars=max_chars, ocr_languages=ocr_languages)
        self._workers = workers or max(1, min(2, os.cpu_count() or 1))
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def workers(self) -> int:
        return self._workers

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self._workers, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_init_worker)
            return self._pool

    async def start(self) -> None:
        """Start the workers now (imports take ~1 s per process), not on the first read."""
        loop = asyncio.get_running_loop()
        pool = self._executor()
        await asyncio.gather(*(loop.run_in_executor(pool, _warm)
                               for _ in range(self._workers)))

    async def read(self, data: bytes, file_name: str | None = None) -> ResumeDocument:
        if len(data) > self._caps[0] or not data:
            return self._local.read_sync(data, file_name)  # the size checks: no worker needed
        loop = asyncio.get_running_loop()
        pool = self._executor()
        try:
            return await loop.run_in_executor(pool, _read, self._caps, data, file_name)
        except BrokenProcessPool as exc:
            log.error("resume worker died; restarting the pool")
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            raise InvalidArgument("the file could not be read", reason="UNREADABLE_FILE") \
                from exc

    async def health(self) -> tuple[bool, str]:
        return await self._local.health()

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
