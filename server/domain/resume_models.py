"""Resumes as the domain sees them: the document read from a file (visible text only, with
what was hidden flagged), the profile extracted from it, and its match to a job.

Shared interface: server/providers/resume/reader.py produces `ResumeDocument`;
server/domain/resumes.py (profile extraction, matching, ranking) consumes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class FlagKind(StrEnum):
    HIDDEN_TEXT = "hidden_text"            # white / near-background color
    TINY_FONT = "tiny_font"
    OFF_PAGE = "off_page"
    ZERO_WIDTH = "zero_width"
    PROMPT_INJECTION = "prompt_injection"
    KEYWORD_STUFFING = "keyword_stuffing"
    TRUNCATED = "truncated"


@dataclass(frozen=True, slots=True)
class ResumeFlag:
    kind: FlagKind
    detail: str
    excerpt: str = ""      # at most 300 characters
    page: int = 0          # 1-based; 0 when not page-bound


@dataclass(frozen=True, slots=True)
class ResumeDocument:
    """What a reader made of a file. `text` holds only what a human reader sees (hidden text,
    zero-width characters and AI-directed instructions removed); `flags` say what was removed."""

    text: str
    media_type: str        # application/pdf, a DOCX type, text/plain, image/png, image/jpeg
    sha256: str
    page_count: int
    ocr: bool
    flags: tuple[ResumeFlag, ...] = ()
    truncated: bool = False
    hidden_text: str = ""  # the removed text (for flags/excerpts only; never scored or prompted)


@dataclass(frozen=True, slots=True)
class Skill:
    name: str                          # canonical, from the taxonomy
    mentions: tuple[str, ...] = ()     # as written in the resume


@dataclass(frozen=True, slots=True)
class Experience:
    title: str
    organization: str
    start: str             # "YYYY-MM" or "YYYY"
    end: str               # "" when current
    current: bool
    months: int


@dataclass(frozen=True, slots=True)
class Education:
    degree: str
    institution: str
    year: int = 0


@dataclass(frozen=True, slots=True)
class ResumeProfile:
    name: str
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    links: tuple[str, ...]
    skills: tuple[Skill, ...]
    experience: tuple[Experience, ...]
    total_years: float
    education: tuple[Education, ...]
    spoken_languages: tuple[str, ...]
    language: str
    flags: tuple[ResumeFlag, ...]
    page_count: int
    ocr: bool
    media_type: str
    sha256: str
    text_chars: int


@dataclass(frozen=True, slots=True)
class ResumeMatch:
    score: float                       # 0-100
    matched_skills: tuple[str, ...]
    missing_skills: tuple[str, ...]
    experience_fit: float              # 0-100
    semantic_similarity: float         # 0-100
    explanation: str
    flagged: bool
    decision_ids: tuple[str, ...] = field(default=())
