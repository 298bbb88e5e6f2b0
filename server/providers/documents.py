"""Uploaded documents (job descriptions, later resumes): the type sniffed from the content, never
from the name, and the text extracted.

Accepted: PDF (%PDF- magic), DOCX (a zip holding word/document.xml) and plain UTF-8 text. A zip is
opened only after its directory passes the caps below (entries, total uncompressed size), and
Python's zipfile never inflates an entry past the size its directory declares, so a
decompression bomb is refused before it is inflated. Extraction runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import io
import zipfile

from server.domain.documents import ExtractedDocument
from server.domain.errors import InvalidArgument

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT = "text/plain"

MAX_TEXT_CHARS = 200_000
MAX_PDF_PAGES = 500
MAX_ZIP_ENTRIES = 1_000
MAX_ZIP_UNCOMPRESSED = 64 * 1024 * 1024
DOCX_MAIN_PART = "word/document.xml"


def unsupported() -> InvalidArgument:
    return InvalidArgument("the file is not a PDF, DOCX or UTF-8 text file",
                           reason="UNSUPPORTED_FILE_TYPE")


def unreadable(why: str) -> InvalidArgument:
    return InvalidArgument(f"the file cannot be read: {why}", reason="UNREADABLE_FILE")


def _zip_of_docx(data: bytes) -> zipfile.ZipFile | None:
    """The zip if `data` is a DOCX within the caps; None if it is no DOCX at all."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    entries = archive.infolist()
    if DOCX_MAIN_PART not in {e.filename for e in entries}:
        return None
    if len(entries) > MAX_ZIP_ENTRIES:
        raise unreadable(f"the archive has more than {MAX_ZIP_ENTRIES} entries")
    if sum(e.file_size for e in entries) > MAX_ZIP_UNCOMPRESSED:
        raise unreadable("the archive expands to more than "
                         f"{MAX_ZIP_UNCOMPRESSED // (1024 * 1024)} MB")
    return archive


def sniff(data: bytes) -> str:
    """The media type of `data` by its content; UNSUPPORTED_FILE_TYPE for anything else."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        if _zip_of_docx(data) is None:
            raise unsupported()
        return DOCX
    if b"\x00" in data:
        raise unsupported()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise unsupported() from exc
    return TEXT


def _cap(parts: list[str]) -> str:
    return "\n".join(parts).strip()[:MAX_TEXT_CHARS]


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise unreadable("the PDF is encrypted")
        parts: list[str] = []
        size = 0
        for index, page in enumerate(reader.pages):
            if index >= MAX_PDF_PAGES or size > MAX_TEXT_CHARS:
                break
            text = page.extract_text() or ""
            parts.append(text)
            size += len(text)
    except InvalidArgument:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            OSError, RecursionError, ArithmeticError) as exc:
        raise unreadable("the PDF is damaged") from exc
    return _cap(parts)


def _docx_text(data: bytes) -> str:
    import docx

    if _zip_of_docx(data) is None:
        raise unsupported()
    try:
        document = docx.Document(io.BytesIO(data))
        parts: list[str] = []
        size = 0
        for paragraph in document.paragraphs:
            parts.append(paragraph.text)
            size += len(paragraph.text)
            if size > MAX_TEXT_CHARS:
                break
        for table in document.tables:
            if size > MAX_TEXT_CHARS:
                break
            for row in table.rows:
                line = "\t".join(cell.text for cell in row.cells)
                parts.append(line)
                size += len(line)
    except InvalidArgument:
        raise
    except Exception as exc:  # python-docx raises lxml, zipfile and its own errors alike
        raise unreadable("the DOCX is damaged") from exc
    return _cap(parts)


def extract(data: bytes) -> ExtractedDocument:
    """Sniff and extract, synchronously. A file without any text is UNREADABLE_FILE."""
    media_type = sniff(data)
    if media_type == PDF:
        text = _pdf_text(data)
    elif media_type == DOCX:
        text = _docx_text(data)
    else:
        text = _cap([data.decode("utf-8").removeprefix("\ufeff")])
    if not text:
        raise unreadable("no text found in it")
    return ExtractedDocument(media_type=media_type, text=text)


class DocumentReader:
    """The domain's DocumentReader port: extraction off the event loop."""

    async def read(self, data: bytes) -> ExtractedDocument:
        return await asyncio.to_thread(extract, data)
