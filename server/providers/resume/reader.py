"""ResumeReader: bytes in, `ResumeDocument` out (what a human sees, the rest flagged).

Steps, all in a worker thread (`asyncio.to_thread`):

1. Size: empty → EMPTY_FILE; over `max_bytes` → FILE_TOO_LARGE.
2. Type from the content (the file name is only a hint, never trusted): `%PDF-` → PDF;
   a zip naming word/document.xml → DOCX; PNG/JPEG signatures → image; otherwise text if it
   decodes (UTF-8, UTF-16/32 with a BOM, or Latin-1 when it has no control bytes); anything
   else is UNSUPPORTED_FILE_TYPE.
3. Format readers: `pdf.read_pdf` (text layer + hidden characters + OCR of scanned pages),
   `docx_reader.read_docx` (zip vetted first, hidden runs), images through `ocr.ocr_image`
   (pixel cap → DECOMPRESSION_BOMB), text as decoded.
4. Defences on the visible text (`hidden`): invisible characters stripped, AI-directed
   sentences removed, keyword stuffing removed; the hidden text is checked for AI-directed
   instructions too. Every removal becomes a `ResumeFlag` and goes to `hidden_text`.
5. Caps: at most `max_pages` pages read, at most `max_chars` characters kept (both TRUNCATED).
   No readable text at all → NO_TEXT.
"""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import io
import re

from PIL import Image, UnidentifiedImageError

from server.domain.errors import InvalidArgument
from server.domain.resume_models import FlagKind, ResumeDocument, ResumeFlag
from server.providers.resume import docx_reader, hidden, ocr

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT = "text/plain"
PNG = "image/png"
JPEG = "image/jpeg"

DEFAULT_OCR_LANGUAGES = "eng+spa+fra+deu+por+ita+rus+ara+hin+chi_sim+jpn+kor"
MAX_IMAGE_PIXELS = 40_000_000
EXCERPT_CHARS = 300
# Pillow refuses (DecompressionBombError) above twice this and warns above it.
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
         (codecs.BOM_UTF16_BE, "utf-16-be"))
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _unsupported() -> InvalidArgument:
    return InvalidArgument("the file is not a PDF, DOCX, text, PNG or JPEG file",
                           reason="UNSUPPORTED_FILE_TYPE")


def decode_text(data: bytes) -> str:
    """Text from a BOM-marked UTF-8/16/32, plain UTF-8 or Latin-1 file; binary is refused."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding)
            except UnicodeDecodeError as exc:
                raise _unsupported() from exc
    sample = data[:4096]
    if b"\x00" in sample:
        raise _unsupported()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        if re.search(r"[\x80-\x9f]", text):  # C1 controls: binary, or a code page we don't read
            raise _unsupported() from None
    if len(_CONTROL.findall(text[:4096])) > max(2, len(text[:4096]) // 100):
        raise _unsupported()
    return text


def sniff(data: bytes) -> str:
    if data.startswith(b"%PDF-") or data[:1024].lstrip().startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        if docx_reader.is_docx(data):
            return DOCX
        raise _unsupported()
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    decode_text(data)
    return TEXT


def _bomb(pixels: str) -> InvalidArgument:
    return InvalidArgument(f"the image is too large to read ({pixels} pixels)",
                           reason="DECOMPRESSION_BOMB", metadata={"max_pixels":
                                                                  str(MAX_IMAGE_PIXELS)})


def read_image(data: bytes, ocr_languages: str) -> str:
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise _bomb(f"{width}x{height}")
            image.load()
            return ocr.ocr_image(image, ocr_languages)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bomb(f"more than {MAX_IMAGE_PIXELS}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidArgument("the image is damaged and cannot be read",
                              reason="CORRUPT_FILE") from exc


def _excerpt(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()[:EXCERPT_CHARS]


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class ResumeReader:
    """Reads resumes (PDF, DOCX, TXT, PNG, JPEG); see the module docstring."""

    def __init__(self, *, max_bytes: int = 10 * 1024 * 1024, max_pages: int = 20,
                 max_chars: int = 100_000, ocr_languages: str = DEFAULT_OCR_LANGUAGES) -> None:
        self.max_bytes = max_bytes
        self.max_pages = max_pages
        self.max_chars = max_chars
        self.ocr_languages = ocr_languages

    async def read(self, data: bytes, file_name: str | None = None) -> ResumeDocument:
        return await asyncio.to_thread(self.read_sync, data, file_name)

    async def health(self) -> tuple[bool, str]:
        return await asyncio.to_thread(ocr.health, self.ocr_languages)

    def read_sync(self, data: bytes, file_name: str | None = None) -> ResumeDocument:
        """The synchronous reader (for benchmarks and worker processes)."""
        del file_name  # the content decides the type; names lie
        if not data:
            raise InvalidArgument("the file is empty", reason="EMPTY_FILE")
        if len(data) > self.max_bytes:
            raise InvalidArgument(
                f"the file is larger than {self.max_bytes // (1024 * 1024)} MB",
                reason="FILE_TOO_LARGE",
                metadata={"max_bytes": str(self.max_bytes), "size": str(len(data))})
        media_type = sniff(data)
        flags: list[ResumeFlag] = []
        hidden_parts: list[tuple[str, int]] = []  # (text, page)
        page_count, used_ocr, truncated = 1, False, False
        if media_type == PDF:
            # Imported on first use: pdfplumber and pdfium (~15 MB) live in the resume worker
            # processes, not in the server process, which only sniffs and checks sizes.
            from server.providers.resume import pdf

            result = pdf.read_pdf(data, max_pages=self.max_pages,
                                  ocr_languages=self.ocr_languages)
            page_count, used_ocr = result.page_count, result.ocr
            text = "\n\n".join(result.pages)
            for run in result.hidden:
                flags.append(ResumeFlag(run.kind, run.detail, _excerpt(run.text), run.page))
                hidden_parts.append((run.text, run.page))
            if result.page_count > self.max_pages:
                truncated = True
                flags.append(ResumeFlag(FlagKind.TRUNCATED,
                                        f"read the first {self.max_pages} of "
                                        f"{result.page_count} pages"))
        elif media_type == DOCX:
            document = docx_reader.read_docx(data)
            page_count, text = document.page_count, document.text
            for kind, runs in document.hidden.items():
                joined = " ".join(r.strip() for r in runs)
                what = ("hidden (w:vanish) or in the background colour"
                        if kind == FlagKind.HIDDEN_TEXT else "in a font under 4 pt")
                flags.append(ResumeFlag(kind, f"{len(joined)} characters {what}",
                                        _excerpt(joined)))
                hidden_parts.append((joined, 0))
        elif media_type in (PNG, JPEG):
            text, used_ocr = read_image(data, self.ocr_languages), True
        else:
            text = decode_text(data)
        text = self._defend(text, flags, hidden_parts)
        text = _tidy(text)
        if len(text) > self.max_chars:
            cut = text.rfind(" ", 0, self.max_chars)
            text = text[:cut if cut > self.max_chars * 0.9 else self.max_chars].rstrip()
            truncated = True
            flags.append(ResumeFlag(FlagKind.TRUNCATED,
                                    f"kept the first {self.max_chars} characters"))
        if not re.search(r"\w", text):
            raise InvalidArgument("no readable text was found in the file", reason="NO_TEXT",
                                  metadata={"media_type": media_type})
        return ResumeDocument(
            text=text, media_type=media_type, sha256=hashlib.sha256(data).hexdigest(),
            page_count=page_count, ocr=used_ocr, flags=tuple(flags), truncated=truncated,
            hidden_text="\n".join(t for t, _ in hidden_parts if t.strip())[:self.max_chars])

    @staticmethod
    def _defend(text: str, flags: list[ResumeFlag],
                hidden_parts: list[tuple[str, int]]) -> str:
        """Invisible characters, AI-directed sentences and stuffing out of `text`; flags."""
        invisible = hidden.strip_invisible(text)
        text = invisible.text
        count = invisible.count
        smuggled = [invisible.smuggled] if invisible.smuggled else []
        cleaned_hidden: list[tuple[str, int]] = []
        for part, page in hidden_parts:
            found = hidden.strip_invisible(part)
            count += found.count
            if found.smuggled:
                smuggled.append(found.smuggled)
            cleaned_hidden.append((found.text, page))
        hidden_parts[:] = cleaned_hidden
        if count:
            detail = f"{count} zero-width or invisible characters removed"
            if smuggled:
                detail += "; tag characters carried a hidden message"
            flags.append(ResumeFlag(FlagKind.ZERO_WIDTH, detail, _excerpt(" ".join(smuggled))))
            hidden_parts.extend((message, 0) for message in smuggled)
        for part, page in list(hidden_parts):
            _, injected_hidden = hidden.find_injections(part)
            if injected_hidden:
                flags.append(ResumeFlag(FlagKind.PROMPT_INJECTION,
                                        f"{len(injected_hidden)} sentence(s) addressed to an AI "
                                        "in hidden text", _excerpt(" | ".join(injected_hidden)),
                                        page))
        text, injected = hidden.find_injections(text)
        if injected:
            flags.append(ResumeFlag(FlagKind.PROMPT_INJECTION,
                                    f"{len(injected)} sentence(s) addressed to an AI removed "
                                    "from the visible text", _excerpt(" | ".join(injected))))
            hidden_parts.append(("\n".join(injected), 0))
        for part, page in list(hidden_parts):
            _, runs, _ = hidden.find_stuffing(part)
            if runs:
                flags.append(ResumeFlag(FlagKind.KEYWORD_STUFFING,
                                        f"{len(runs)} run(s) of repeated keywords in hidden text",
                                        _excerpt(" | ".join(runs)), page))
        text, stuffed_runs, tokens = hidden.find_stuffing(text)
        if stuffed_runs:
            flags.append(ResumeFlag(FlagKind.KEYWORD_STUFFING,
                                    f"{len(stuffed_runs)} run(s) of repeated keywords removed"
                                    + (f" ({', '.join(tokens[:8])})" if tokens else ""),
                                    _excerpt(" | ".join(stuffed_runs))))
            hidden_parts.append(("\n".join(stuffed_runs), 0))
        elif tokens:
            flags.append(ResumeFlag(FlagKind.KEYWORD_STUFFING,
                                    f"keywords repeated abnormally: {', '.join(tokens[:8])}"))
        return text
