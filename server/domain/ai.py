"""AI capabilities as the domain sees them: what is asked of a provider, what it answers, and
what is recorded about every call.

Providers (server/providers/ai/) implement `AIProvider`: Gemini through google-genai, and a
local one (a curated question bank + multilingual embeddings) that needs no network. Every call
returns its value together with `CallInfo` (provider, model, prompt template id and hash, input
hash, latency, tokens) so that use-cases can store a decision record for it in the same
transaction as what the call produced.

A provider that cannot answer raises `ProviderError` with a reason (one of PROVIDER_REASONS);
`server/domain/ai_gateway.py` then falls back to the local provider and records why.

No AI input ever carries the candidate's name, email, phone, age or sex.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

import orjson

from server.domain.models import Difficulty, Question

T = TypeVar("T")

# Why a provider call failed; stored as the decision record's fallback reason.
PROVIDER_REASONS = (
    "TIMEOUT",            # no answer within the per-call timeout
    "RATE_LIMITED",       # 429 after the retries
    "UPSTREAM_ERROR",     # 5xx after the retries
    "REQUEST_REJECTED",   # other 4xx (bad key, bad request)
    "MALFORMED_OUTPUT",   # not JSON, twice
    "SCHEMA_VIOLATION",   # JSON that does not fit the schema / our checks, twice
    "UNAVAILABLE",        # connection refused, DNS, TLS
)


class ProviderError(Exception):
    """A provider could not produce a usable answer."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


def stable_hash(value: object) -> str:
    """sha256 hex of a JSON rendering with sorted keys (input and prompt hashes). Dataclasses
    are rendered as objects first, so that a request hashes the same whichever provider (or
    the gateway, for a failed call) computes it."""
    plain = orjson.loads(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS))
    return hashlib.sha256(orjson.dumps(plain, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True, slots=True)
class CallInfo:
    """What is known about one provider call (a decision record without its output)."""

    provider: str          # "gemini" | "local"
    model: str             # e.g. "gemini-2.5-flash", "local-bank-e5-v1"
    template_id: str       # e.g. "evaluate_answer/v1"
    template_hash: str     # sha256 of the prompt template text (local: of the method's version)
    input_hash: str        # stable_hash of the request dataclass (as a dict)
    latency_ms: float
    usage: Usage = Usage()
    attempts: int = 1


@dataclass(frozen=True, slots=True)
class AIResult(Generic[T]):
    value: T
    info: CallInfo


# --- question generation --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class QuestionSpec:
    """Ask for `count` questions for a job. `languages[0]` is the set's default language; each
    question has a text in every language listed."""

    job_title: str
    job_description: str           # trimmed to a few thousand characters by the caller
    skills: tuple[str, ...]        # the job's required skills (as written by the recruiter)
    domain: str | None             # e.g. "python", "system-design"; None = derive from skills
    seniority: str | None
    difficulty: Difficulty | None  # None = a mix, easy → hard
    count: int
    languages: tuple[str, ...]
    include_coding: bool = False
    include_behavioral: bool = True
    avoid_ids: tuple[str, ...] = ()    # questions already used (bank ids or texts' ids)


# --- answer evaluation ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AnswerToScore:
    """One question and the candidate's answer to it, in the interview's language."""

    question: Question
    language: str                  # the interview's language (the answer's language)
    answer_text: str
    code: str = ""
    code_language: str = ""
    coding: CodingResult | None = None   # sandbox results for coding questions
    fluency_required: bool = False       # only then may language quality be scored


@dataclass(frozen=True, slots=True)
class Evidence:
    """A concept of the question and the span of the answer that shows it."""

    concept: str
    quote: str                     # verbatim span of the answer (≤ 300 characters)


@dataclass(frozen=True, slots=True)
class Dimensions:
    """Rubric dimensions, each 0-100. Content only: no tone, emotion or confidence."""

    technical_accuracy: float
    depth: float
    clarity: float


@dataclass(frozen=True, slots=True)
class AnswerScore:
    question_id: str
    score: float                   # 0-100
    dimensions: Dimensions
    covered_concepts: tuple[str, ...]
    missing_concepts: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    feedback: str                  # one or two sentences, in the reviewer's language if known


# --- coding ---------------------------------------------------------------------------------

class TestOutcome(StrEnum):
    __test__ = False

    PASSED = "passed"
    FAILED = "failed"              # ran, wrong output
    ERROR = "error"                # non-zero exit / exception
    TIMEOUT = "timeout"            # wall clock or CPU limit
    MEMORY_LIMIT = "memory_limit"
    OUTPUT_LIMIT = "output_limit"  # output flood cut
    PROCESS_LIMIT = "process_limit"  # fork bomb contained
    UNSUPPORTED = "unsupported"    # language not supported by the sandbox


@dataclass(frozen=True, slots=True)
class TestResult:
    __test__ = False

    index: int
    outcome: TestOutcome
    time_ms: float
    output: str                    # stdout, truncated to the cap
    error: str                     # stderr / reason, truncated to the cap
    truncated: bool
    hidden: bool                   # hidden tests never show input/expected to candidates


@dataclass(frozen=True, slots=True)
class CodingResult:
    language: str
    passed: int
    total: int
    results: tuple[TestResult, ...]


# --- summaries ------------------------------------------------------------------------------

class Recommendation(StrEnum):
    STRONG_HIRE = "strong_hire"
    HIRE = "hire"
    LEAN_NO = "lean_no"
    NO_HIRE = "no_hire"


@dataclass(frozen=True, slots=True)
class SummaryRequest:
    """Write strengths, weaknesses and a summary of scored answers, in `reviewer_language`."""

    job_title: str
    skills: tuple[str, ...]
    reviewer_language: str
    scores: tuple[AnswerScore, ...]
    questions: tuple[Question, ...]    # same order as scores


@dataclass(frozen=True, slots=True)
class Summary:
    strengths: tuple[str, ...]
    weaknesses: tuple[str, ...]
    summary: str
    language: str


# --- follow-ups (DYNAMIC mode) --------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FollowUpRequest:
    """Choose the next question of a DYNAMIC interview. `history` holds the questions asked so
    far with their answers and scores; the next question stays within `skills`, probes a weak
    answer and goes deeper after a strong one, in `language`."""

    job_title: str
    skills: tuple[str, ...]
    domain: str | None
    language: str
    history: tuple[tuple[Question, str, AnswerScore | None], ...]
    remaining: int                 # questions still to ask, including this one
    pinned: tuple[Question, ...] = ()   # the job's pinned set (candidates to choose from)


@dataclass(frozen=True, slots=True)
class FollowUp:
    question: Question
    rationale: str                 # why this question (e.g. "probe: missed 'GIL'")
    kind: str = "next"             # "probe" | "deeper" | "next"


class AIProvider(Protocol):
    """One AI vendor (or the local engine). Methods raise ProviderError when they cannot give a
    usable answer; they never return partial garbage."""

    name: str
    model: str

    async def generate_questions(self, spec: QuestionSpec) -> AIResult[tuple[Question, ...]]: ...

    async def evaluate_answer(self, item: AnswerToScore) -> AIResult[AnswerScore]: ...

    async def summarize(self, request: SummaryRequest) -> AIResult[Summary]: ...

    async def follow_up(self, request: FollowUpRequest) -> AIResult[FollowUp]: ...

    async def health(self) -> tuple[bool, str]: ...

