"""The queue between a speech session's producer (a provider's receive loop or worker thread
callbacks, on the event loop) and its `results()` consumer.

Unread interim hypotheses are coalesced: a newer interim replaces an unread one, so a slow
consumer holds at most one interim besides the final pieces — the queue cannot grow with the
audio. `None` ends the stream; a SpeechError is raised to the consumer where it was queued
(after the pieces before it).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator

from server.domain.speech import SpeechError, TranscriptPiece

Item = TranscriptPiece | SpeechError | None


class PieceQueue:
    def __init__(self) -> None:
        self._items: deque[Item] = deque()
        self._wake = asyncio.Event()

    def push(self, item: Item) -> None:
        last = self._items[-1] if self._items else None
        if (isinstance(item, TranscriptPiece) and not item.is_final
                and isinstance(last, TranscriptPiece) and not last.is_final):
            self._items[-1] = item     # a newer hypothesis replaces an unread one
        else:
            self._items.append(item)
        self._wake.set()

    async def drain(self) -> AsyncIterator[TranscriptPiece]:
        while True:
            while not self._items:
                self._wake.clear()
                await self._wake.wait()
            item = self._items.popleft()
            if item is None:
                return
            if isinstance(item, SpeechError):
                raise item
            yield item
