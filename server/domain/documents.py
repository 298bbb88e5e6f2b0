"""Uploaded documents as the use-cases see them: a sniffed media type and extracted text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ExtractedDocument:
    media_type: str
    text: str


class DocumentReader(Protocol):
    """Sniffs a file's type from its content and extracts its text; raises InvalidArgument
    (UNSUPPORTED_FILE_TYPE, UNREADABLE_FILE) for anything it cannot read."""

    async def read(self, data: bytes) -> ExtractedDocument: ...
