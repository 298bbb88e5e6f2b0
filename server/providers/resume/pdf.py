"""PDF reading: the text layer a human sees, hidden characters set aside, OCR where there is no
text layer.

pdfplumber (pdfminer) gives every character with its font size, fill colour and position. A
character is hidden when (first match wins, that is its flag kind):

- OFF_PAGE: its centre lies outside the page's crop box;
- TINY_FONT: its font size is below `MIN_FONT_PT`;
- HIDDEN_TEXT: its fill colour is within `COLOR_DISTANCE` of the background behind it: the
  last filled rectangle drawn under it, else white (the page background); or its text render
  mode is invisible (3 or 7) — pdfminer does not expose render modes, so pypdfium2 lists the
  invisible text objects and characters inside their bounds are marked.

Pages holding invisible text are usually a scanner's OCR layer under a page image. Those pages
are rendered (pdfium never paints invisible text) and OCRed: the OCR text is what a human sees
(unless the visible layer already holds text), and only invisible words that the OCR did not
find are flagged.

Pages with fewer than `MIN_TEXT_CHARS` visible characters that draw something (images or
vector paths) are rendered with pypdfium2 at `ocr.OCR_DPI` (capped in pixels: a giant page box
cannot allocate a huge bitmap) and OCRed. Pages beyond `max_pages` are not read.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pdfplumber
import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.psparser import PSException
from PIL import Image

from server.domain.errors import InvalidArgument
from server.domain.resume_models import FlagKind
from server.providers.resume import ocr

MIN_FONT_PT = 4.0
COLOR_DISTANCE = 0.12
MIN_TEXT_CHARS = 25
MAX_RENDER_PIXELS = 12_000_000
_INVISIBLE_MODES = (3, 7)


@dataclass(slots=True)
class HiddenRun:
    kind: FlagKind
    page: int
    text: str
    detail: str


@dataclass(slots=True)
class PdfText:
    pages: list[str]
    page_count: int
    ocr: bool
    hidden: list[HiddenRun] = field(default_factory=list)


def _rgb(color: Any) -> tuple[float, float, float] | None:
    """A pdfminer colour as RGB in 0..1; None for patterns and unknown spaces."""
    if color is None:
        return (0.0, 0.0, 0.0)  # the default fill colour is black
    if isinstance(color, int | float):
        color = (color,)
    if not isinstance(color, list | tuple) or not all(isinstance(c, int | float) for c in color):
        return None
    values = [min(1.0, max(0.0, float(c))) for c in color]
    if len(values) == 1:
        return (values[0], values[0], values[0])
    if len(values) == 3:
        return (values[0], values[1], values[2])
    if len(values) == 4:
        c, m, y, k = values
        return ((1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k))
    return None


def _distance(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    return max(abs(x - y) for x, y in zip(a, b, strict=True))


def _inside(x: float, y: float, box: tuple[float, float, float, float], pad: float = 0.5) -> bool:
    return box[0] - pad <= x <= box[2] + pad and box[1] - pad <= y <= box[3] + pad


def _invisible_boxes(page: pdfium.PdfPage) -> list[tuple[float, float, float, float]]:
    """Bounds (PDF space, origin bottom-left) of text objects drawn in an invisible mode."""
    boxes = []
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT], max_depth=5):
        if pdfium_c.FPDFTextObj_GetTextRenderMode(obj.raw) in _INVISIBLE_MODES:
            boxes.append(obj.get_bounds())
    return boxes


def _classify(char: dict[str, Any], page: Any,
              fills: list[tuple[tuple[float, ...], tuple[float, float, float]]],
              invisible: list[tuple[float, float, float, float]]) -> str | None:
    x = (char["x0"] + char["x1"]) / 2
    top = (char["top"] + char["bottom"]) / 2
    x0, top0, x1, bottom1 = page.bbox
    if not (x0 - 1 <= x <= x1 + 1 and top0 - 1 <= top <= bottom1 + 1):
        return FlagKind.OFF_PAGE
    if char.get("size", 12.0) < MIN_FONT_PT:
        return FlagKind.TINY_FONT
    if invisible:
        y = (char["y0"] + char["y1"]) / 2
        if any(_inside(x, y, box) for box in invisible):
            return "invisible"
    color = _rgb(char.get("non_stroking_color"))
    if color is None:
        return None
    background = (1.0, 1.0, 1.0)
    for box, fill in reversed(fills):
        if box[0] <= x <= box[2] and box[1] <= top <= box[3]:
            background = fill
            break
    if _distance(color, background) <= COLOR_DISTANCE:
        return FlagKind.HIDDEN_TEXT
    return None


_DESCRIBE = {
    FlagKind.OFF_PAGE: "outside the page",
    FlagKind.TINY_FONT: f"in a font smaller than {MIN_FONT_PT:g} pt",
    FlagKind.HIDDEN_TEXT: "in the background colour (white or the box behind it)",
    "invisible": "in invisible render mode",
}


def _text_of(page: Any, keep: Callable[[dict[str, Any]], bool]) -> str:
    chars = page.filter(lambda obj: obj.get("object_type") != "char" or keep(obj))
    return str(chars.extract_text(x_tolerance=1.5, y_tolerance=3) or "")


def _render(page: pdfium.PdfPage) -> Image.Image:
    width, height = page.get_size()
    scale = ocr.OCR_DPI / 72
    if width * height * scale * scale > MAX_RENDER_PIXELS:
        scale = (MAX_RENDER_PIXELS / max(1.0, width * height)) ** 0.5
    image: Image.Image = page.render(scale=scale, grayscale=True).to_pil()
    return image


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"\w{2,}", text)}


# pdfium is not thread-safe (concurrent documents crash the process): one PDF at a time per
# process. Parallel reading uses processes (server/providers/resume/workers.py).
_PDFIUM = threading.Lock()


def read_pdf(data: bytes, *, max_pages: int, ocr_languages: str) -> PdfText:
    with _PDFIUM:
        return _read_pdf(data, max_pages=max_pages, ocr_languages=ocr_languages)


def _read_pdf(data: bytes, *, max_pages: int, ocr_languages: str) -> PdfText:
    try:
        plumber = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # pdfminer raises a zoo of errors on damaged files
        # pdfplumber wraps pdfminer's errors in PdfminerException(original)
        causes = [exc, exc.__cause__, *(a for a in exc.args if isinstance(a, BaseException))]
        if any(isinstance(c, PDFPasswordIncorrect | PDFEncryptionError) for c in causes):
            raise InvalidArgument("the PDF is password-protected",
                                  reason="PASSWORD_PROTECTED") from exc
        raise InvalidArgument("the PDF is damaged and cannot be read",
                              reason="CORRUPT_FILE") from exc
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        plumber.close()
        if "password" in str(exc).lower():
            raise InvalidArgument("the PDF is password-protected",
                                  reason="PASSWORD_PROTECTED") from exc
        raise InvalidArgument("the PDF is damaged and cannot be read",
                              reason="CORRUPT_FILE") from exc
    try:
        return _read(plumber, pdf, max_pages=max_pages, ocr_languages=ocr_languages)
    except (InvalidArgument, RuntimeError, MemoryError):
        raise
    except (PSException, ValueError, KeyError, TypeError, AttributeError, IndexError,
            AssertionError, ArithmeticError, RecursionError, OSError) as exc:
        raise InvalidArgument("the PDF is damaged and cannot be read",
                              reason="CORRUPT_FILE") from exc
    finally:
        plumber.close()
        pdf.close()


def _read(plumber: Any, pdf: pdfium.PdfDocument, *, max_pages: int,
          ocr_languages: str) -> PdfText:
    page_count = len(pdf)
    if page_count == 0:
        raise InvalidArgument("the PDF has no pages", reason="CORRUPT_FILE")
    result = PdfText(pages=[], page_count=page_count, ocr=False)
    for index in range(min(page_count, max_pages, len(plumber.pages))):
        page = plumber.pages[index]
        result.pages.append(_read_page(page, pdf[index], index + 1, ocr_languages, result))
        page.flush_cache()
    return result


def _read_page(page: Any, rendered: pdfium.PdfPage, number: int, ocr_languages: str,
               result: PdfText) -> str:
    """The visible text of one page; hidden runs and OCR use recorded on `result`."""
    fills: list[tuple[tuple[float, ...], tuple[float, float, float]]] = []
    for rect in page.rects:
        fill = _rgb(rect.get("non_stroking_color")) if rect.get("fill") else None
        if fill is not None:
            fills.append(((rect["x0"], rect["top"], rect["x1"], rect["bottom"]), fill))
    invisible = _invisible_boxes(rendered)
    kinds: dict[int, str | None] = {id(c): _classify(c, page, fills, invisible)
                                    for c in page.chars}
    visible = _text_of(page, lambda c: kinds.get(id(c)) is None)
    for kind in (FlagKind.OFF_PAGE, FlagKind.TINY_FONT, FlagKind.HIDDEN_TEXT):
        count = sum(1 for c in page.chars if kinds[id(c)] == kind and not c["text"].isspace())
        if count:
            hidden = _text_of(page, lambda c, k=kind: kinds.get(id(c)) == k)  # type: ignore[misc]
            result.hidden.append(HiddenRun(kind, number, hidden, f"{count} characters "
                                           f"{_DESCRIBE[kind]} on page {number}"))
    has_invisible = any(kind == "invisible" for kind in kinds.values())
    draws = bool(page.images) or len(page.curves) + len(page.rects) > 20
    if not has_invisible and (len(visible.strip()) >= MIN_TEXT_CHARS or not draws):
        return visible
    seen = ocr.ocr_image(_render(rendered), ocr_languages)
    result.ocr = True
    if has_invisible:
        layer = _text_of(page, lambda c: kinds.get(id(c)) == "invisible")
        seen_words = _words(seen)
        unseen = [w for w in re.findall(r"\w{2,}", layer) if w.lower() not in seen_words]
        if unseen:
            result.hidden.append(HiddenRun(
                FlagKind.HIDDEN_TEXT, number, " ".join(unseen),
                f"{len(unseen)} words in invisible text on page {number} "
                "that the rendered page does not show"))
    return visible if len(visible.strip()) >= MIN_TEXT_CHARS else seen
