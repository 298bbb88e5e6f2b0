"""Domain records. Plain dataclasses: no grpc, sqlalchemy or generated code here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar
from uuid import UUID

from server.domain.resume_models import ResumeMatch


class Role(StrEnum):
    SUPER_ADMIN = "super_admin"
    COMPANY_ADMIN = "company_admin"
    DEPARTMENT_USER = "department_user"


class EntityStatus(StrEnum):
    ACTIVE = "Active"
    INACTIVE = "Inactive"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as proven by an access token."""

    user_id: UUID
    email: str
    role: Role
    company_id: UUID | None
    department_id: UUID | None
    token_id: str
    expires_at: datetime
    session_id: UUID | None = None  # refresh-token family the access token was issued for


@dataclass(frozen=True, slots=True)
class User:
    id: UUID
    email: str
    full_name: str
    role: Role
    company_id: UUID | None
    department_id: UUID | None
    status: EntityStatus
    password_hash: str
    created_at: datetime
    updated_at: datetime
    phone: str | None = None
    version: int = 1


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime


@dataclass(frozen=True, slots=True)
class RefreshSession:
    """One stored refresh token (only its hash is kept)."""

    id: UUID
    family_id: UUID
    user_id: UUID
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Company:
    id: UUID
    name: str
    email: str | None
    phone: str | None
    address: str | None
    status: EntityStatus
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Department:
    id: UUID
    company_id: UUID
    name: str
    description: str | None
    status: EntityStatus
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling and from where: what use-cases need for scoping and the audit log."""

    principal: Principal | None
    request_id: str
    client_address: str


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    occurred_at: datetime
    actor_id: UUID | None
    actor_email: str | None
    actor_role: Role | None
    company_id: UUID | None
    action: str
    resource: str
    changes: tuple[FieldChange, ...]
    request_id: str | None
    client_address: str | None


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_page_token: str = ""


@dataclass(frozen=True, slots=True)
class PageRequest:
    size: int
    token: str
    filters: dict[str, object] = field(default_factory=dict)


class Seniority(StrEnum):
    INTERN = "intern"
    JUNIOR = "junior"
    MID = "mid"
    SENIOR = "senior"
    LEAD = "lead"
    PRINCIPAL = "principal"


class QuestionType(StrEnum):
    TECHNICAL = "technical"
    BEHAVIORAL = "behavioral"
    CODING = "coding"


class Difficulty(StrEnum):
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


LANGUAGES = ("en", "es", "fr", "de", "pt", "hi", "zh", "ja", "ko", "ar", "ru", "it")


@dataclass(frozen=True, slots=True)
class JobFile:
    """An uploaded job description: the bytes, what they are and the text found in them."""

    data: bytes
    name: str | None
    media_type: str
    sha256: str
    text: str


@dataclass(frozen=True, slots=True)
class Job:
    id: UUID
    company_id: UUID
    department_id: UUID
    title: str
    description: str | None
    required_skills: tuple[str, ...]
    domain: str | None
    seniority: Seniority | None
    status: EntityStatus
    version: int
    question_set_version: int
    created_at: datetime
    updated_at: datetime
    jd_file_name: str | None = None
    jd_media_type: str | None = None
    jd_sha256: str | None = None
    jd_text: str | None = None  # None when not loaded (lists)
    required_languages: tuple[str, ...] = ()  # languages whose fluency may be scored


@dataclass(frozen=True, slots=True)
class TestCase:
    __test__ = False  # not a pytest test class

    input: str
    expected_output: str


@dataclass(frozen=True, slots=True)
class RubricCriterion:
    name: str
    description: str
    weight: float


@dataclass(frozen=True, slots=True)
class KeyConcept:
    """A concept a good answer covers, with the words that show it per language ("*" = any
    language, e.g. "GIL")."""

    name: str
    terms: dict[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    type: QuestionType
    difficulty: Difficulty
    texts: dict[str, str]  # language -> text
    expected_answer: str = ""
    keywords: tuple[str, ...] = ()
    rubric: tuple[RubricCriterion, ...] = ()
    starter_code: str = ""
    code_language: str = ""
    hidden_tests: tuple[TestCase, ...] = ()
    examples: tuple[TestCase, ...] = ()
    # The expected answer in other languages than the set's default (language -> text).
    expected_answers: dict[str, str] = field(default_factory=dict)
    # Key concepts with their words per language (keywords stay as recruiter-given words).
    concepts: tuple[KeyConcept, ...] = ()
    # Where the question came from: "" (a recruiter), "bank:<id>" or "gemini".
    source: str = ""


@dataclass(frozen=True, slots=True)
class QuestionSet:
    job_id: UUID
    version: int
    default_language: str
    questions: tuple[Question, ...]
    created_at: datetime
    created_by: UUID | None


class InterviewStatus(StrEnum):
    PENDING = "pending"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class InterviewMode(StrEnum):
    STATIC = "static"
    DYNAMIC = "dynamic"


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Candidate:
    """The person interviewed. age and sex are optional personal data: never part of any AI
    input and never written to the audit log."""

    full_name: str
    email: str
    phone: str | None = None
    age: int | None = None
    sex: Sex | None = None


@dataclass(frozen=True, slots=True)
class ResumeFile:
    """An uploaded resume: the bytes (write-only), what they are and the text found in them."""

    data: bytes
    name: str | None
    media_type: str
    sha256: str
    text: str


@dataclass(frozen=True, slots=True)
class ResumeInfo:
    """What is shown of a stored resume: never its bytes."""

    file_name: str | None
    media_type: str
    sha256: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class Interview:
    id: UUID
    company_id: UUID
    department_id: UUID
    job_id: UUID
    question_set_version: int
    candidate: Candidate
    resume: ResumeInfo | None
    domain: str | None
    difficulty: Difficulty | None
    language: str
    mode: InterviewMode
    scheduled_at: datetime
    window_end: datetime
    status: InterviewStatus
    cancel_reason: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    reviewer_language: str = "en"
    resume_match: ResumeMatch | None = None  # computed at scheduling with a resume


@dataclass(frozen=True, slots=True)
class AnswerAudio:
    """The recording kept with a spoken answer (its bytes are stored, never returned)."""

    media_type: str
    size_bytes: int
    duration_ms: int
    truncated: bool            # longer than the cap: only the start was kept
    partial_transcript: bool   # the speech provider stopped early
    provider: str              # "deepgram" | "whisper"


@dataclass(frozen=True, slots=True)
class Answer:
    """A candidate's answer to one question of an interview (one per question, immutable)."""

    interview_id: UUID
    question_id: str
    position: int
    text: str
    code: str
    code_language: str
    request_id: UUID | None
    created_at: datetime
    audio: AnswerAudio | None = None


@dataclass(frozen=True, slots=True)
class CandidateTokenInfo:
    """What a candidate's link token (found by its hash) says."""

    interview_id: UUID
    expires_at: datetime
    revoked_at: datetime | None
