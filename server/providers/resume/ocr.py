"""OCR with the Debian tesseract binary (through pytesseract), choosing the language cheaply.

Running tesseract with all 12 configured languages at once is slow (each extra model is tried
on every uncertain word: with one OpenMP thread a 200 DPI page takes 0.4 s in eng, 1.0 s in
the six Latin languages, 2.0 s in all twelve). So a page goes through two cheap steps instead:

1. Script detection (`--psm 0`, OSD) on a half-size copy (~0.4 s): Latin, Cyrillic, Arabic,
   Devanagari, Han, Japanese, Hangul. OSD failing (too little text) means Latin.
2. Non-Latin scripts are read with their language + eng (`rus+eng`, `chi_sim+eng`, ...). Latin
   pages are read with eng; if a stop-word count says the text is Spanish, French, German,
   Portuguese or Italian, the page is read again with that language + eng so accents come out
   right (one extra pass only for non-English Latin resumes).

Only languages present both in the configured `ocr_languages` and in tesseract's installed
packs are used. Images are grayscale and capped at `MAX_OCR_PIXELS` (downscaled, never
upscaled past it). Each tesseract call has a timeout.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess

import pytesseract  # type: ignore[import-untyped]
from PIL import Image

# tesseract's OpenMP threads fight each other on a small machine: one page took 1.75 s with
# the default and 0.4 s with one thread (2 cores); concurrency comes from parallel requests.
# Only the resume worker processes set OMP_THREAD_LIMIT=1 (server/providers/resume/workers.py):
# set in the server process it would also cap every other OpenMP user (whisper, embeddings).
OMP_LIMIT_FOR_OCR = "1"

OCR_DPI = 200
MAX_OCR_PIXELS = 12_000_000
TESSERACT_TIMEOUT_S = 60

_SCRIPT_LANGS = {
    "Cyrillic": "rus",
    "Arabic": "ara",
    "Devanagari": "hin",
    "Han": "chi_sim",
    "HanS": "chi_sim",
    "HanT": "chi_sim",
    "Japanese": "jpn",
    "Katakana": "jpn",
    "Hiragana": "jpn",
    "Hangul": "kor",
    "Korean": "kor",
}
_LATIN_STOPWORDS = {
    lang: frozenset(str.split(words)) for lang, words in {
        "spa": "de la el en y los las del con por para una que experiencia habilidades "
               "educación idiomas actualidad",
        "fra": "de la le les et des du au pour dans avec une expérience compétences formation "
               "langues",
        "deu": "der die das und mit von zu im den für auf ein eine erfahrung kenntnisse "
               "ausbildung sprachen",
        "por": "de da do em os as com para uma que experiência habilidades educação idiomas",
        "ita": "di il la e che per con gli le una esperienza competenze istruzione lingue",
        "eng": "the and of to in for with on at experience skills education languages",
    }.items()
}


@functools.cache
def installed_languages() -> frozenset[str]:
    """Language packs tesseract has (empty when tesseract is missing)."""
    if shutil.which("tesseract") is None:
        return frozenset()
    try:
        return frozenset(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractError, OSError, subprocess.SubprocessError, RuntimeError):
        return frozenset()


def available(configured: str) -> list[str]:
    wanted = [lang for lang in configured.split("+") if lang]
    have = installed_languages()
    return [lang for lang in wanted if lang in have]


def prepare(image: Image.Image) -> Image.Image:
    """Grayscale, at most MAX_OCR_PIXELS."""
    gray = image.convert("L")
    pixels = gray.width * gray.height
    if pixels > MAX_OCR_PIXELS:
        factor = (MAX_OCR_PIXELS / pixels) ** 0.5
        gray = gray.resize((max(1, int(gray.width * factor)), max(1, int(gray.height * factor))))
    return gray


def detect_script(image: Image.Image) -> str:
    """OSD's script name, "Latin" when it cannot tell."""
    if "osd" not in installed_languages():
        return "Latin"
    small = image.resize((max(1, image.width // 2), max(1, image.height // 2)))
    try:
        osd = pytesseract.image_to_osd(small, config="--psm 0", timeout=TESSERACT_TIMEOUT_S)
    except (pytesseract.TesseractError, RuntimeError):
        return "Latin"
    match = re.search(r"Script:\s*(\S+)", osd)
    return match.group(1) if match else "Latin"


def guess_latin_language(text: str) -> str:
    words = re.findall(r"[^\W\d_]+", text.lower())
    scores = {lang: sum(1 for w in words if w in stop) for lang, stop in _LATIN_STOPWORDS.items()}
    best = max(scores, key=lambda lang: scores[lang])
    return best if scores[best] >= 3 and scores[best] > scores["eng"] else "eng"


def _run(image: Image.Image, langs: list[str]) -> str:
    text: str = pytesseract.image_to_string(image, lang="+".join(langs), config="--psm 3",
                                            timeout=TESSERACT_TIMEOUT_S)
    return text


def ocr_image(image: Image.Image, configured: str) -> str:
    """The text tesseract reads on `image`, in the best configured language it can pick."""
    langs = available(configured)
    if not langs:
        raise RuntimeError("tesseract or its language packs are not installed")
    gray = prepare(image)
    script = detect_script(gray)
    primary = _SCRIPT_LANGS.get(script)
    base = ["eng"] if "eng" in langs else langs[:1]
    if primary and primary in langs:
        return _run(gray, [primary, *[b for b in base if b != primary]])
    text = _run(gray, base)
    latin = guess_latin_language(text)
    if latin != "eng" and latin in langs:
        text = _run(gray, [latin, *base])
    return text


def health(configured: str) -> tuple[bool, str]:
    if shutil.which("tesseract") is None:
        return False, "tesseract is not installed"
    wanted = [lang for lang in configured.split("+") if lang]
    have = installed_languages()
    missing = [lang for lang in wanted if lang not in have]
    if missing:
        return False, f"tesseract language packs missing: {', '.join(missing)}"
    return True, f"tesseract ready ({len(wanted)} languages)"
