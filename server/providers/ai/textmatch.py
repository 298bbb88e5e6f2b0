"""Finding words and sentences in answers written in any of the 12 interview languages.

Term matching is case-insensitive. Terms of 4 or more characters are found anywhere, so a stem
("modifi", "изменяем") finds inflected forms ("modifier", "изменяемый") and a German word is
found inside a compound ("Reihenfolge" in "Ausführungsreihenfolge"). Short terms in spaced
scripts (Latin, Cyrillic, Greek: "GIL", "ORM", "key", "lag") must start at a word boundary and
may be followed by at most three more letters ("keys", "lagged", "TTLs" but not "keyboard");
a letter of another script (Korean "MSW를", Japanese "MSWを") ends a word too. Chinese, Japanese,
Korean, Hindi and Arabic terms are always matched as substrings: those scripts either do not
separate words, attach particles and articles to words (Korean, Arabic), or use combining marks
that Python's `\\b` does not treat as word characters (Devanagari).

Sentences are split with their offsets so that evidence quotes stay verbatim substrings of the
answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

# Scripts matched as substrings: CJK, Hiragana/Katakana, Hangul, Devanagari, Arabic.
_SUBSTRING_SCRIPTS = re.compile(
    "[\u0600-\u06ff\u0750-\u077f\u0900-\u097f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\u1100-\u11ff\uf900-\ufaff]"
)
# Letters and digits of the spaced scripts: a word boundary is "not next to one of these", so
# "MSW" is found in Korean "MSW를" and Japanese "使用MSW" but not in "MSWordpad".
_LETTERS = "A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff"
_ALNUM = "0-9_" + _LETTERS
_SPACELESS_LANGUAGES = frozenset({"zh", "ja"})
# A Latin end mark ends a sentence only before whitespace or the end ("React.memo", "99.9" and
# "server.close()" stay whole); CJK full-width, Arabic and Devanagari marks always do.
_LATIN_ENDS = ".!?;"
_WIDE_ENDS = "\u3002\uff01\uff1f\uff1b\u061f\u0964"
_SENTENCE = re.compile(
    f"[^\\n]*?(?:[{re.escape(_LATIN_ENDS)}]+(?=\\s|$)|[{_WIDE_ENDS}]+|\\n|$)")
_MIN_SENTENCE = 12
MAX_QUOTE = 300


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int


@lru_cache(maxsize=8192)
def term_pattern(term: str) -> re.Pattern[str]:
    """The compiled pattern that finds `term` (see the module docstring for the rules)."""
    escaped = re.escape(term.strip())
    if _SUBSTRING_SCRIPTS.search(term) or len(term.strip()) >= 4:
        return re.compile(escaped, re.IGNORECASE)
    return re.compile(
        f"(?<![{_ALNUM}])" + escaped + f"[{_LETTERS}]{{0,3}}(?![{_ALNUM}])", re.IGNORECASE
    )


def find_term(text: str, terms: Iterable[str]) -> Span | None:
    """The earliest occurrence in `text` of any of `terms`, or None."""
    best: Span | None = None
    for term in terms:
        if not term.strip():
            continue
        match = term_pattern(term).search(text)
        if match and (best is None or match.start() < best.start):
            best = Span(match.start(), match.end())
    return best


def count_terms(text: str, terms: Iterable[str]) -> int:
    """How many distinct terms of `terms` occur in `text`."""
    return sum(1 for term in set(terms) if term.strip() and term_pattern(term).search(text))


def sentences(text: str) -> list[Span]:
    """Sentence spans of `text` (whitespace trimmed); fragments under a dozen characters are
    merged into their neighbour so that "e.g." or "3.5" do not make sentences of their own."""
    spans: list[Span] = []
    for match in _SENTENCE.finditer(text):
        start, end = match.start(), match.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start >= end:
            continue
        short = end - start < _MIN_SENTENCE
        if spans and (short or spans[-1].end - spans[-1].start < _MIN_SENTENCE):
            spans[-1] = Span(spans[-1].start, end)
        else:
            spans.append(Span(start, end))
    return spans


def quote(text: str, sentence: Span, hit: Span | None = None) -> str:
    """A verbatim quote of at most MAX_QUOTE characters: the sentence, or a window of it
    around `hit` when the sentence is longer."""
    if sentence.end - sentence.start <= MAX_QUOTE:
        return text[sentence.start : sentence.end]
    centre = (hit.start + hit.end) // 2 if hit else sentence.start + MAX_QUOTE // 2
    start = max(sentence.start, min(centre - MAX_QUOTE // 2, sentence.end - MAX_QUOTE))
    return text[start : start + MAX_QUOTE]


def containing(spans: list[Span], hit: Span) -> Span:
    """The sentence span that contains `hit` (or the hit itself)."""
    for span in spans:
        if span.start <= hit.start < span.end:
            return span
    return hit


def length_units(text: str, language: str) -> float:
    """Answer length in word-sized units: words, or characters / 2 for Chinese and Japanese."""
    if language in _SPACELESS_LANGUAGES:
        return sum(1 for ch in text if not ch.isspace() and ch.isalnum()) / 2
    return float(len(text.split()))
