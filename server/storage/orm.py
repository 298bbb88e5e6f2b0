"""SQLAlchemy models. The schema itself is owned by the Alembic migrations (reviewed by hand);
these mappings must agree with them (tests/storage/test_migrations.py checks)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


def _uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), primary_key=True,
                         server_default=text("gen_random_uuid()"))


class AuditColumns:
    """The seed's audit columns, on every business table, and the row version behind etags."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", use_alter=True, ondelete="SET NULL"))
    updated_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", use_alter=True, ondelete="SET NULL"))


STATUS_CHECK = "status IN ('Active', 'Inactive')"


class CompanyRow(AuditColumns, Base):
    __tablename__ = "companies"
    __table_args__ = (
        CheckConstraint(STATUS_CHECK, name="companies_status_check"),
        Index("companies_created_idx", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="Active")


class DepartmentRow(AuditColumns, Base):
    __tablename__ = "departments"
    __table_args__ = (
        CheckConstraint(STATUS_CHECK, name="departments_status_check"),
        UniqueConstraint("company_id", "id", name="departments_company_id_id_key"),
        Index("departments_company_name_key", "company_id", text("lower(name)"), unique=True),
        Index("departments_company_created_idx", "company_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("companies.id", ondelete="RESTRICT"), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="Active")


class UserRow(AuditColumns, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(STATUS_CHECK, name="users_status_check"),
        CheckConstraint(
            "(role = 'super_admin' AND company_id IS NULL AND department_id IS NULL)"
            " OR (role = 'company_admin' AND company_id IS NOT NULL AND department_id IS NULL)"
            " OR (role = 'department_user' AND company_id IS NOT NULL"
            " AND department_id IS NOT NULL)",
            name="users_role_scope_check",
        ),
        ForeignKeyConstraint(["company_id", "department_id"],
                             ["departments.company_id", "departments.id"],
                             name="users_department_in_company_fkey", ondelete="RESTRICT"),
        Index("users_email_lower_key", text("lower(email)"), unique=True),
        Index("users_created_idx", "created_at", "id"),
        Index("users_company_created_idx", "company_id", "created_at", "id"),
        Index("users_department_created_idx", "department_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    full_name: Mapped[str] = mapped_column(String(255), nullable=False, server_default="")
    phone: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    company_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("companies.id", ondelete="RESTRICT"))
    department_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="Active")


# Email prefix search (lower(email) LIKE 'abc%') needs the pattern operator class.
Index("users_email_prefix_idx", func.lower(UserRow.email).label("lower_email"),
      postgresql_ops={"lower_email": "text_pattern_ops"})


SENIORITY_CHECK = ("seniority IS NULL OR seniority IN "
                   "('intern', 'junior', 'mid', 'senior', 'lead', 'principal')")


class JobRow(AuditColumns, Base):
    """A job of a department. The uploaded JD file's bytes are loaded only when asked for."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(STATUS_CHECK, name="jobs_status_check"),
        CheckConstraint(SENIORITY_CHECK, name="jobs_seniority_check"),
        ForeignKeyConstraint(["company_id", "department_id"],
                             ["departments.company_id", "departments.id"],
                             name="jobs_department_in_company_fkey", ondelete="RESTRICT"),
        Index("jobs_created_idx", "created_at", "id"),
        Index("jobs_company_created_idx", "company_id", "created_at", "id"),
        Index("jobs_department_created_idx", "department_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("companies.id", ondelete="RESTRICT"), nullable=False)
    department_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    required_skills: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'::text[]"))
    domain: Mapped[str | None] = mapped_column(String(255))
    seniority: Mapped[str | None] = mapped_column(String(16))
    required_languages: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'::text[]"))
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="Active")
    question_set_version: Mapped[int] = mapped_column(Integer, nullable=False,
                                                      server_default="0")
    jd_file: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    jd_file_name: Mapped[str | None] = mapped_column(String(255))
    jd_media_type: Mapped[str | None] = mapped_column(String(100))
    jd_sha256: Mapped[str | None] = mapped_column(String(64))
    jd_text: Mapped[str | None] = mapped_column(Text, deferred=True)


class QuestionSetRow(Base):
    """One immutable version of a job's questions (typed in the API, JSONB here)."""

    __tablename__ = "question_sets"
    __table_args__ = (CheckConstraint("version >= 1", name="question_sets_version_check"),)

    job_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("jobs.id", ondelete="RESTRICT"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    default_language: Mapped[str] = mapped_column(String(8), nullable=False)
    questions: Mapped[list[dict[str, object]]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"))


class RefreshTokenRow(Base):
    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("refresh_tokens_family_idx", "family_id"),
                      Index("refresh_tokens_user_idx", "user_id"))

    id: Mapped[uuid.UUID] = _uuid_pk()
    family_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginAttemptRow(Base):
    """Failed sign-ins per account (email) and per client address, shared by all replicas."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        CheckConstraint("scope IN ('account', 'address')", name="login_attempts_scope_check"),
    )

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IdempotencyKeyRow(Base):
    __tablename__ = "idempotency_keys"

    actor_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    operation: Mapped[str] = mapped_column(String(100), primary_key=True)
    request_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    request_hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    resource_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())


class PasswordResetTokenRow(Base):
    __tablename__ = "password_reset_tokens"

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, unique=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEventRow(Base):
    """Append-only (a trigger refuses UPDATE, DELETE and TRUNCATE)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("audit_events_time_idx", "occurred_at", "id"),
        Index("audit_events_company_time_idx", "company_id", "occurred_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                  server_default=func.now())
    actor_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    actor_email: Mapped[str | None] = mapped_column(String(254))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    company_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    action: Mapped[str] = mapped_column(String(100), nullable=False)
    resource: Mapped[str] = mapped_column(String(200), nullable=False)
    changes: Mapped[list[dict[str, str]]] = mapped_column(
        JSONB, nullable=False, server_default=text("'[]'::jsonb"))
    request_id: Mapped[str | None] = mapped_column(String(128))
    client_address: Mapped[str | None] = mapped_column(String(64))


class EmailOutboxRow(Base):
    """Transactional outbox: written with the change, delivered by a background job."""

    __tablename__ = "email_outbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed')",
                        name="email_outbox_status_check"),
        Index("email_outbox_pending_idx", "created_at",
              postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    to_address: Mapped[str] = mapped_column(String(254), nullable=False)
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    text_body: Mapped[str] = mapped_column(Text, nullable=False)
    html_body: Mapped[str] = mapped_column(Text, nullable=False)
    company_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    resource: Mapped[str] = mapped_column(String(200), nullable=False, server_default="")
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


INTERVIEW_STATUS_CHECK = ("status IN ('pending', 'scheduled', 'in_progress', 'completed', "
                          "'cancelled', 'expired')")
INTERVIEW_MODE_CHECK = "mode IN ('static', 'dynamic')"
INTERVIEW_DIFFICULTY_CHECK = "difficulty IS NULL OR difficulty IN ('easy', 'medium', 'hard')"
CANDIDATE_SEX_CHECK = "candidate_sex IS NULL OR candidate_sex IN ('female', 'male', 'other')"
CANDIDATE_AGE_CHECK = "candidate_age IS NULL OR candidate_age BETWEEN 14 AND 120"
INTERVIEW_WINDOW_CHECK = "window_end > scheduled_at"


class InterviewRow(AuditColumns, Base):
    """A candidate's interview for a job. The resume's bytes and text load only when asked."""

    __tablename__ = "interviews"
    __table_args__ = (
        CheckConstraint(INTERVIEW_STATUS_CHECK, name="interviews_status_check"),
        CheckConstraint(INTERVIEW_MODE_CHECK, name="interviews_mode_check"),
        CheckConstraint(INTERVIEW_DIFFICULTY_CHECK, name="interviews_difficulty_check"),
        CheckConstraint(CANDIDATE_SEX_CHECK, name="interviews_candidate_sex_check"),
        CheckConstraint(CANDIDATE_AGE_CHECK, name="interviews_candidate_age_check"),
        CheckConstraint(INTERVIEW_WINDOW_CHECK, name="interviews_window_check"),
        ForeignKeyConstraint(["company_id", "department_id"],
                             ["departments.company_id", "departments.id"],
                             name="interviews_department_in_company_fkey", ondelete="RESTRICT"),
        ForeignKeyConstraint(["job_id", "question_set_version"],
                             ["question_sets.job_id", "question_sets.version"],
                             name="interviews_question_set_fkey", ondelete="RESTRICT"),
        Index("interviews_scheduled_idx", "scheduled_at", "id"),
        Index("interviews_company_scheduled_idx", "company_id", "scheduled_at", "id"),
        Index("interviews_department_scheduled_idx", "department_id", "scheduled_at", "id"),
        Index("interviews_job_scheduled_idx", "job_id", "scheduled_at", "id"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("companies.id", ondelete="RESTRICT"), nullable=False)
    department_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    job_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("jobs.id", ondelete="RESTRICT"), nullable=False)
    question_set_version: Mapped[int] = mapped_column(Integer, nullable=False)
    candidate_name: Mapped[str] = mapped_column(String(255), nullable=False)
    candidate_email: Mapped[str] = mapped_column(String(254), nullable=False)
    candidate_phone: Mapped[str | None] = mapped_column(String(32))
    candidate_age: Mapped[int | None] = mapped_column(Integer)
    candidate_sex: Mapped[str | None] = mapped_column(String(16))
    resume_file: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    resume_file_name: Mapped[str | None] = mapped_column(String(255))
    resume_media_type: Mapped[str | None] = mapped_column(String(100))
    resume_sha256: Mapped[str | None] = mapped_column(String(64))
    resume_size: Mapped[int | None] = mapped_column(Integer)
    resume_text: Mapped[str | None] = mapped_column(Text, deferred=True)
    domain: Mapped[str | None] = mapped_column(String(255))
    difficulty: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    mode: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    scheduled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    reviewer_language: Mapped[str] = mapped_column(String(8), nullable=False,
                                                   server_default="en")
    # The parsed resume (ResumeProfile) and its fit to the job (ResumeMatch), as JSON.
    resume_profile: Mapped[dict[str, object] | None] = mapped_column(JSONB, deferred=True)
    resume_match: Mapped[dict[str, object] | None] = mapped_column(JSONB)


class CandidateTokenRow(Base):
    """A candidate's link token for one interview; only its SHA-256 is stored."""

    __tablename__ = "candidate_tokens"
    __table_args__ = (Index("candidate_tokens_interview_idx", "interview_id"),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    interview_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("interviews.id", ondelete="CASCADE"), nullable=False)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AnswerRow(Base):
    """A candidate's answer to one question of an interview: one per question, never changed."""

    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("interview_id", "question_id", name="answers_interview_question_key"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    interview_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("interviews.id", ondelete="CASCADE"), nullable=False)
    question_id: Mapped[str] = mapped_column(String(64), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    code: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    code_language: Mapped[str] = mapped_column(String(32), nullable=False, server_default="")
    request_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())
    # Spoken answers: the recording (up to the cap) and how it was transcribed.
    audio: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    audio_media_type: Mapped[str | None] = mapped_column(String(100))
    audio_size: Mapped[int | None] = mapped_column(BigInteger)
    audio_duration_ms: Mapped[int | None] = mapped_column(Integer)
    audio_truncated: Mapped[bool] = mapped_column(Boolean, nullable=False,
                                                  server_default=false())
    transcript_partial: Mapped[bool] = mapped_column(Boolean, nullable=False,
                                                     server_default=false())
    speech_provider: Mapped[str | None] = mapped_column(String(32))


class EvaluationRow(Base):
    """The evaluation of a completed interview: the job's state, the AI's result and the latest
    human review (JSON shaped by server/storage/evaluation_repo.py)."""

    __tablename__ = "evaluations"
    __table_args__ = (
        CheckConstraint("state IN ('queued', 'running', 'done', 'failed')",
                        name="evaluations_state_check"),
        Index("evaluations_state_idx", "state", "updated_at"),
    )

    interview_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("interviews.id", ondelete="CASCADE"), primary_key=True)
    company_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    department_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    failure_reason: Mapped[str | None] = mapped_column(Text)
    ai: Mapped[dict[str, object] | None] = mapped_column(JSONB)
    review: Mapped[dict[str, object] | None] = mapped_column(JSONB)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())


class DecisionRow(Base):
    """One AI call: who answered, with which prompt template, for which input, what it said."""

    __tablename__ = "ai_decisions"
    __table_args__ = (
        Index("ai_decisions_created_idx", "created_at", "id"),
        Index("ai_decisions_company_created_idx", "company_id", "created_at", "id"),
        Index("ai_decisions_interview_idx", "interview_id"),
        Index("ai_decisions_job_idx", "job_id"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    department_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    interview_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("interviews.id", ondelete="CASCADE"))
    job_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    model: Mapped[str] = mapped_column(String(128), nullable=False)
    template_id: Mapped[str] = mapped_column(String(128), nullable=False)
    template_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    input_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    output: Mapped[object] = mapped_column(JSONB, nullable=False)
    latency_ms: Mapped[float] = mapped_column(Float, nullable=False)
    prompt_tokens: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    output_tokens: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    fallback_reason: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())


class InterviewQuestionRow(Base):
    """A question chosen for a DYNAMIC interview (a probe, a deeper one, the next one), stored
    before it is shown so that the answer to it can be checked and scored."""

    __tablename__ = "interview_questions"
    __table_args__ = (
        UniqueConstraint("interview_id", "position", name="interview_questions_position_key"),
    )

    interview_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("interviews.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    question: Mapped[dict[str, object]] = mapped_column(JSONB, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    rationale: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())
