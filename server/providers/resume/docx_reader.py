"""DOCX reading: the zip is vetted before anything is inflated, the XML is parsed without
entities or network, and runs a reader of the printed page cannot see are set aside.

Zip caps (from the central directory, before any entry is opened): at most `MAX_ENTRIES`
entries, `MAX_ENTRY_BYTES` per entry, `MAX_TOTAL_BYTES` in all, and no entry larger than 1 MB
inflating more than `MAX_RATIO` times its compressed size. Python's zipfile stops inflating at
the size the directory declares (a lying entry fails its CRC), and parts are read with an
explicit byte limit as well. A breach is DECOMPRESSION_BOMB.

Text comes from word/document.xml (body, tables, text boxes) plus headers and footers, where
resumes often keep contact details. A run is hidden when its effective formatting (document
defaults ← paragraph style ← character style ← direct formatting, styles followed through
w:basedOn) has w:vanish (HIDDEN_TEXT), a size under 8 half-points (TINY_FONT), or a colour
within reach of the background: the run's or paragraph's or cell's shading/highlight, else
white (HIDDEN_TEXT). Deleted revisions and field codes are not text.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from server.domain.errors import InvalidArgument
from server.domain.resume_models import FlagKind

MAX_ENTRIES = 1_000
MAX_ENTRY_BYTES = 32 * 1024 * 1024
MAX_TOTAL_BYTES = 64 * 1024 * 1024
MAX_RATIO = 100
MIN_HALF_POINTS = 8
COLOR_DISTANCE = 0.12
MAIN_PART = "word/document.xml"

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_NS = {"w": _W}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=False, remove_comments=True, remove_pis=True)
_HIGHLIGHT = {"black": "000000", "blue": "0000FF", "cyan": "00FFFF", "green": "00FF00",
              "magenta": "FF00FF", "red": "FF0000", "yellow": "FFFF00", "white": "FFFFFF",
              "darkBlue": "000080", "darkCyan": "008080", "darkGreen": "008000",
              "darkMagenta": "800080", "darkRed": "800000", "darkYellow": "808000",
              "darkGray": "808080", "lightGray": "C0C0C0"}


def _q(tag: str) -> str:
    return f"{{{_W}}}{tag}"


@dataclass(slots=True)
class DocxText:
    text: str
    page_count: int
    hidden: dict[FlagKind, list[str]] = field(default_factory=dict)


def is_docx(data: bytes) -> bool:
    """A zip whose directory names word/document.xml (the directory is read, nothing inflated)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any(info.filename == MAIN_PART for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return False


def _bomb(why: str) -> InvalidArgument:
    return InvalidArgument(f"the DOCX expands too much ({why}); it is refused",
                           reason="DECOMPRESSION_BOMB", metadata={"why": why})


def _vet(archive: zipfile.ZipFile) -> None:
    entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        raise _bomb(f"more than {MAX_ENTRIES} entries")
    total = 0
    for info in entries:
        if info.file_size > MAX_ENTRY_BYTES:
            raise _bomb(f"{info.filename} inflates to {info.file_size // (1024 * 1024)} MB")
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(1, info.compress_size):
            raise _bomb(f"{info.filename} is compressed more than {MAX_RATIO} to 1")
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise _bomb(f"the parts inflate to {total // (1024 * 1024)} MB in all")


def _part(archive: zipfile.ZipFile, name: str) -> Any | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    with archive.open(info) as stream:
        raw = stream.read(MAX_ENTRY_BYTES + 1)
    if len(raw) > MAX_ENTRY_BYTES:
        raise _bomb(f"{name} is larger than declared")
    return etree.fromstring(raw, parser=_PARSER)


def _rgb(hex_color: str | None) -> tuple[float, float, float] | None:
    if not hex_color or not re.fullmatch(r"[0-9A-Fa-f]{6}", hex_color):
        return None
    return tuple(int(hex_color[i:i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


@dataclass(slots=True)
class _Props:
    vanish: bool | None = None
    color: str | None = None  # hex, "auto" = black
    size: int | None = None   # half-points
    shade: str | None = None  # background hex

    def over(self, base: _Props) -> _Props:
        return _Props(self.vanish if self.vanish is not None else base.vanish,
                      self.color if self.color is not None else base.color,
                      self.size if self.size is not None else base.size,
                      self.shade if self.shade is not None else base.shade)


def _on(element: Any) -> bool:
    return element.get(_q("val"), "true").lower() not in ("0", "false", "off", "none")


def _props(rpr: Any) -> _Props:
    props = _Props()
    if rpr is None:
        return props
    vanish = rpr.find("w:vanish", _NS)
    if vanish is not None:
        props.vanish = _on(vanish)
    color = rpr.find("w:color", _NS)
    if color is not None:
        props.color = color.get(_q("val"))
    size = rpr.find("w:sz", _NS)
    if size is not None and (size.get(_q("val")) or "").isdigit():
        props.size = int(size.get(_q("val")))
    shade = rpr.find("w:shd", _NS)
    if shade is not None and shade.get(_q("fill"), "auto") != "auto":
        props.shade = shade.get(_q("fill"))
    highlight = rpr.find("w:highlight", _NS)
    if highlight is not None and highlight.get(_q("val")) in _HIGHLIGHT:
        props.shade = _HIGHLIGHT[highlight.get(_q("val"))]
    return props


class _Styles:
    def __init__(self, root: Any | None) -> None:
        self.raw: dict[str, tuple[_Props, str | None]] = {}
        self.defaults = _Props()
        self.default_paragraph: str | None = None
        if root is None:
            return
        defaults = root.find("w:docDefaults/w:rPrDefault/w:rPr", _NS)
        self.defaults = _props(defaults)
        for style in root.findall("w:style", _NS):
            style_id = style.get(_q("styleId"))
            if not style_id:
                continue
            based = style.find("w:basedOn", _NS)
            self.raw[style_id] = (_props(style.find("w:rPr", _NS)),
                                  based.get(_q("val")) if based is not None else None)
            if style.get(_q("type")) == "paragraph" and style.get(_q("default")) in ("1", "true"):
                self.default_paragraph = style_id
        self.cache: dict[str, _Props] = {}

    def resolve(self, style_id: str | None, depth: int = 0) -> _Props:
        if not style_id or style_id not in self.raw or depth > 20:
            return _Props()
        if style_id in self.cache:
            return self.cache[style_id]
        own, based = self.raw[style_id]
        resolved = own.over(self.resolve(based, depth + 1))
        self.cache[style_id] = resolved
        return resolved


def _hidden_kind(props: _Props) -> FlagKind | None:
    if props.vanish:
        return FlagKind.HIDDEN_TEXT
    if props.size is not None and props.size < MIN_HALF_POINTS:
        return FlagKind.TINY_FONT
    color = _rgb(props.color) if props.color and props.color != "auto" else (0.0, 0.0, 0.0)
    background = _rgb(props.shade) or (1.0, 1.0, 1.0)
    if color is not None and max(abs(a - b) for a, b in zip(color, background, strict=True)) \
            <= COLOR_DISTANCE:
        return FlagKind.HIDDEN_TEXT
    return None


def _run_text(run: Any) -> str:
    parts = []
    for child in run:
        if child.tag == _q("t"):
            parts.append(child.text or "")
        elif child.tag == _q("tab"):
            parts.append("\t")
        elif child.tag in (_q("br"), _q("cr")):
            parts.append("\n")
    return "".join(parts)


_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def _owner(element: Any, root: Any) -> Any:
    """The text box (w:txbxContent) or `root` that `element` belongs to."""
    for ancestor in element.iterancestors():
        if ancestor is root:
            return root
        if ancestor.tag == _q("txbxContent"):
            return ancestor
    return root


def _walk(root: Any, styles: _Styles, out: DocxText, lines: list[str]) -> None:
    for paragraph in root.iter(_q("p")):
        if _owner(paragraph, root) is not root:
            continue  # a text box inside a paragraph: read on its own below
        ppr = paragraph.find("w:pPr", _NS)
        pstyle = ppr.find("w:pStyle", _NS) if ppr is not None else None
        base = styles.resolve(pstyle.get(_q("val")) if pstyle is not None
                              else styles.default_paragraph).over(styles.defaults)
        shade = ppr.find("w:shd", _NS) if ppr is not None else None
        cell = next((a for a in paragraph.iterancestors(_q("tc"))), None)
        cell_shade = cell.find("w:tcPr/w:shd", _NS) if cell is not None else None
        for element in (cell_shade, shade):
            if element is not None and element.get(_q("fill"), "auto") != "auto":
                base = _Props(shade=element.get(_q("fill"))).over(base)
        visible: list[str] = []
        for run in paragraph.iter(_q("r")):
            if next(run.iterancestors(_q("p")), None) is not paragraph:
                continue  # belongs to a nested paragraph (text box)
            if any(a.tag in (_q("del"), _q("moveFrom")) for a in run.iterancestors()):
                continue
            rpr = run.find("w:rPr", _NS)
            rstyle = rpr.find("w:rStyle", _NS) if rpr is not None else None
            props = _props(rpr).over(styles.resolve(rstyle.get(_q("val"))
                                                    if rstyle is not None else None).over(base))
            text = _run_text(run)
            if not text:
                continue
            kind = _hidden_kind(props)
            if kind is None:
                visible.append(text)
            elif text.strip():
                out.hidden.setdefault(kind, []).append(text)
        lines.append("".join(visible))
        for nested in paragraph.iter(_q("txbxContent")):
            if _owner(nested, paragraph) is paragraph and not any(
                    a.tag == _FALLBACK for a in nested.iterancestors()):
                _walk(nested, styles, out, lines)


def read_docx(data: bytes) -> DocxText:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise InvalidArgument("the DOCX is damaged and cannot be read",
                              reason="CORRUPT_FILE") from exc
    with archive:
        _vet(archive)
        try:
            document = _part(archive, MAIN_PART)
            styles = _Styles(_part(archive, "word/styles.xml"))
            app = _part(archive, "docProps/app.xml")
            extra = [name for name in archive.namelist()
                     if re.fullmatch(r"word/(header|footer)\d*\.xml", name)]
            out = DocxText(text="", page_count=1)
            lines: list[str] = []
            for name in sorted(extra, key=lambda n: (not n.startswith("word/header"), n)):
                if name.startswith("word/header"):
                    _walk(_part(archive, name), styles, out, lines)
            if document is None:
                raise InvalidArgument("the DOCX has no document part", reason="CORRUPT_FILE")
            _walk(document, styles, out, lines)
            for name in extra:
                if name.startswith("word/footer"):
                    _walk(_part(archive, name), styles, out, lines)
        except (etree.XMLSyntaxError, zipfile.BadZipFile, EOFError, OSError, ValueError,
                RuntimeError, NotImplementedError) as exc:
            raise InvalidArgument("the DOCX is damaged and cannot be read",
                                  reason="CORRUPT_FILE") from exc
    if app is not None:
        pages = app.find("{*}Pages")
        if pages is not None and (pages.text or "").strip().isdigit():
            out.page_count = max(1, min(10_000, int((pages.text or "1").strip())))
    out.text = "\n".join(lines)
    return out
