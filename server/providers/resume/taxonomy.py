"""The shipped skills taxonomy (skills.json) and finding its skills in text.

Each canonical skill has aliases: synonyms, abbreviations and localized names (JS, ECMAScript →
JavaScript; k8s → Kubernetes; "aprendizaje automático" → Machine Learning). Matching is by
tokens, not by one giant regular expression: the text is split once into tokens that keep the
characters skills are spelled with (C++, C#, .NET, Node.js, scikit-learn), and the longest alias
(up to four tokens) starting at each token wins. That is word-boundary aware ("Java" never
matches inside "JavaScript", "ts" never inside "its") and linear in the text: a 3,000-character
resume takes well under a millisecond.

Two kinds of alias need more care:
- strict aliases ("Go", "R", "C", "Spring", "Rust", "Swift", "REST") are English words or
  letters: they match case-sensitively and only where they read as a skill — not before "to",
  "ahead", "live", …; not before a digit ("Spring 2019"), "&" ("R&D") or "'", and not as an
  initial ("R. Smith").
- aliases in scripts without spaces between words or with attached particles (Chinese,
  Japanese, Korean, Arabic, Devanagari) are found as substrings of the lower-cased text.
Hyphens and spaces are interchangeable in aliases ("machine-learning", "react native").
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).with_name("skills.json")
MAX_TOKENS = 4

# A token: letters/digits with inner "." or "-" (Node.js, scikit-learn, t-sql) and trailing
# "+"/"#" (C++, C#), or a leading-dot name (.NET).
TOKEN = re.compile(r"[^\W_](?:[\w+#]|[.\-](?=[^\W_]))*|\.(?=[^\W_])\w+")
# Words after which a capitalised strict alias is an English word ("Go to market").
GLUE = frozenset({"to", "ahead", "beyond", "live", "back", "through", "further", "forward",
                  "on", "out", "over", "into", "up", "for", "from", "with", "by", "the", "a",
                  "an", "is", "was", "of", "at", "get", "getting", "deeper", "green", "more"})


def _spaced_script(alias: str) -> bool:
    """True when the alias is Latin/Greek/Cyrillic text (tokens separated by spaces)."""
    return all(ord(ch) < 0x530 for ch in alias)


def tokens(text: str) -> list[re.Match[str]]:
    return list(TOKEN.finditer(text))


@dataclass(frozen=True, slots=True)
class SkillEntry:
    name: str
    category: str


class Taxonomy:
    """Canonical skills and their aliases; `find` reads skills out of a text."""

    def __init__(self, data: dict[str, object]) -> None:
        self.entries: dict[str, SkillEntry] = {}
        self._lower: dict[tuple[str, ...], str] = {}
        self._strict: dict[tuple[str, ...], str] = {}
        self._substrings: list[tuple[str, str]] = []
        skills = data["skills"]
        assert isinstance(skills, list)
        for item in skills:
            name = str(item["name"])
            self.entries[name.lower()] = SkillEntry(name=name, category=str(item["category"]))
            strict = list(item.get("strict", ()))
            # A name that is itself a strict alias ("Go", "R") only matches strictly.
            for alias in [*([] if name in strict else [name]), *item.get("aliases", ())]:
                self._add(alias, name)
            for alias in strict:
                key = tuple(m.group(0) for m in tokens(alias))
                if key:
                    self._strict[key] = name

    def _add(self, alias: str, name: str) -> None:
        if not _spaced_script(alias):
            self._substrings.append((alias.lower(), name))
            return
        variants = {alias, re.sub(r"(?<=\w)-(?=\w)", " ", alias),
                    re.sub(r"(?<=\w) (?=\w)", "-", alias)}
        for variant in variants:
            key = tuple(m.group(0).lower() for m in tokens(variant))
            if key and len(key) <= MAX_TOKENS:
                self._lower.setdefault(key, name)

    def __len__(self) -> int:
        return len(self.entries)

    def category(self, name: str) -> str:
        entry = self.entries.get(name.lower())
        return entry.category if entry else ""

    def find(self, text: str) -> dict[str, list[str]]:
        """Canonical skill → the distinct ways the text wrote it, in order of appearance."""
        found: dict[str, list[str]] = {}

        def note(name: str, mention: str) -> None:
            mentions = found.setdefault(name, [])
            if mention not in mentions and len(mentions) < 5:
                mentions.append(mention)

        toks = tokens(text)
        words = [m.group(0) for m in toks]
        lower = [w.lower() for w in words]
        i, n = 0, len(toks)
        while i < n:
            step = 1
            for size in range(min(MAX_TOKENS, n - i), 0, -1):
                key = tuple(lower[i:i + size])
                name = self._lower.get(key)
                if name is None:
                    name = self._strict.get(tuple(words[i:i + size]))
                    if name is not None and not self._reads_as_skill(text, toks, i + size):
                        name = None
                if name is not None:
                    note(name, text[toks[i].start():toks[i + size - 1].end()])
                    step = size
                    break
            i += step
        if self._substrings:
            folded = text.lower()
            for alias, name in self._substrings:
                at = folded.find(alias)
                if at >= 0:
                    note(name, text[at:at + len(alias)])
        return found

    @staticmethod
    def _reads_as_skill(text: str, toks: list[re.Match[str]], after: int) -> bool:
        end = toks[after - 1].end()
        following = text[end:end + 2]
        if following[:1] in ("&", "'", "\u2019"):
            return False
        if following[:1] == "." and following[1:2] not in ("", "\n", "\r"):
            return False
        if after < len(toks):
            nxt = toks[after]
            between = text[end:nxt.start()]
            if "\n" not in between and "," not in between and "/" not in between:
                word = nxt.group(0)
                if word[:1].isdigit() or word.lower() in GLUE:
                    return False
        return True

    def canonical(self, raw: str) -> str | None:
        """The canonical name when the whole of `raw` is one skill ("k8s" → "Kubernetes")."""
        text = raw.strip()
        if not text:
            return None
        if text.lower() in self.entries:
            return self.entries[text.lower()].name
        key = tuple(m.group(0).lower() for m in tokens(text))
        if key in self._lower:
            return self._lower[key]
        strict = tuple(m.group(0) for m in tokens(text))
        if strict in self._strict:
            return self._strict[strict]
        found = self.find(text)
        if len(found) == 1:
            (name, mentions), = found.items()
            if len(mentions[0]) >= len(text) * 0.6:
                return name
        return None

    def normalize(self, raw: Iterable[str]) -> list[str]:
        """Job skills as canonical names (unknown skills kept as written), without repeats."""
        out: dict[str, str] = {}
        for skill in raw:
            text = skill.strip()
            if not text:
                continue
            name = self.canonical(text) or text
            out.setdefault(name.lower(), name)
        return list(out.values())


@functools.lru_cache(maxsize=1)
def taxonomy() -> Taxonomy:
    """The shipped taxonomy, loaded once per process."""
    return Taxonomy(json.loads(DATA.read_text(encoding="utf-8")))
