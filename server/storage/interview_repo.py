"""Interviews (scoped to the principal in every read) and the candidates' link tokens."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.domain.models import (
    Candidate,
    Difficulty,
    Interview,
    InterviewMode,
    InterviewStatus,
    Principal,
    ResumeFile,
    ResumeInfo,
    Sex,
)
from server.domain.paging import Cursor, uuid_key
from server.domain.resumes import match_from_json
from server.storage import scope
from server.storage.orm import CandidateTokenRow, EmailOutboxRow, InterviewRow
from server.storage.sql import plain_values


def _interview(row: InterviewRow) -> Interview:
    resume = None
    if row.resume_sha256:
        resume = ResumeInfo(file_name=row.resume_file_name,
                            media_type=row.resume_media_type or "",
                            sha256=row.resume_sha256, size_bytes=row.resume_size or 0)
    return Interview(
        id=row.id, company_id=row.company_id, department_id=row.department_id,
        job_id=row.job_id, question_set_version=row.question_set_version,
        candidate=Candidate(full_name=row.candidate_name, email=row.candidate_email,
                            phone=row.candidate_phone, age=row.candidate_age,
                            sex=Sex(row.candidate_sex) if row.candidate_sex else None),
        resume=resume, domain=row.domain,
        difficulty=Difficulty(row.difficulty) if row.difficulty else None,
        language=row.language, mode=InterviewMode(row.mode),
        scheduled_at=row.scheduled_at, window_end=row.window_end,
        status=InterviewStatus(row.status), cancel_reason=row.cancel_reason,
        version=row.version, created_at=row.created_at, updated_at=row.updated_at,
        reviewer_language=row.reviewer_language,
        resume_match=match_from_json(row.resume_match) if row.resume_match else None)


# Columns read back after writes: everything but the resume's bytes and text.
_SHOWN = [c.key for c in InterviewRow.__mapper__.column_attrs
          if c.key not in ("resume_file", "resume_text")]


class SqlInterviewRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def create(self, *, company_id: uuid.UUID, department_id: uuid.UUID,
                     job_id: uuid.UUID, question_set_version: int, candidate: Candidate,
                     resume: ResumeFile | None, values: dict[str, object],
                     status: InterviewStatus, actor_id: uuid.UUID | None) -> Interview:
        row = InterviewRow(
            company_id=company_id, department_id=department_id, job_id=job_id,
            question_set_version=question_set_version, candidate_name=candidate.full_name,
            candidate_email=candidate.email, candidate_phone=candidate.phone,
            candidate_age=candidate.age,
            candidate_sex=candidate.sex.value if candidate.sex else None,
            status=status.value, **plain_values(values), created_by=actor_id,
            updated_by=actor_id)
        if resume is not None:
            row.resume_file = resume.data
            row.resume_file_name = resume.name
            row.resume_media_type = resume.media_type
            row.resume_sha256 = resume.sha256
            row.resume_size = len(resume.data)
            row.resume_text = resume.text
        self._s.add(row)
        await self._s.flush()
        await self._s.refresh(row, attribute_names=_SHOWN)
        return _interview(row)

    async def get(self, scope_of: Principal, interview_id: uuid.UUID, *,
                  for_update: bool = False) -> Interview | None:
        query = select(InterviewRow).where(InterviewRow.id == interview_id,
                                           scope.interviews(scope_of))
        if for_update:
            query = query.with_for_update()
        row = await self._s.scalar(query)
        return _interview(row) if row else None

    async def update(self, interview_id: uuid.UUID, values: dict[str, object],
                     actor_id: uuid.UUID | None) -> Interview:
        row = (await self._s.execute(
            update(InterviewRow).where(InterviewRow.id == interview_id)
            .values(**plain_values(values), version=InterviewRow.version + 1,
                    updated_at=func.now(), updated_by=actor_id)
            .returning(InterviewRow)
            .execution_options(populate_existing=True))).scalar_one()
        return _interview(row)

    async def list(self, scope_of: Principal, *, company_id: uuid.UUID | None,
                   department_id: uuid.UUID | None, job_id: uuid.UUID | None,
                   status: InterviewStatus | None, start: datetime | None,
                   end: datetime | None, after: Cursor | None,
                   limit: int) -> list[Interview]:
        query = select(InterviewRow).where(scope.interviews(scope_of))
        if company_id is not None:
            query = query.where(InterviewRow.company_id == company_id)
        if department_id is not None:
            query = query.where(InterviewRow.department_id == department_id)
        if job_id is not None:
            query = query.where(InterviewRow.job_id == job_id)
        if status is not None:
            query = query.where(InterviewRow.status == status.value)
        if start is not None:
            query = query.where(InterviewRow.scheduled_at >= start)
        if end is not None:
            query = query.where(InterviewRow.scheduled_at < end)
        key = uuid_key(after)
        if key is not None:
            query = query.where(tuple_(InterviewRow.scheduled_at, InterviewRow.id) > key)
        query = query.order_by(InterviewRow.scheduled_at, InterviewRow.id).limit(limit)
        return [_interview(r) for r in (await self._s.scalars(query)).all()]

    # Resume reads (server/domain/resumes.py), scoped like `get`.

    async def resume_file(self, scope_of: Principal, interview_id: uuid.UUID
                          ) -> tuple[uuid.UUID, bytes, str | None] | None:
        """(job id, the resume's bytes or b"", its file name) of a visible interview."""
        row = (await self._s.execute(
            select(InterviewRow.job_id, InterviewRow.resume_file, InterviewRow.resume_file_name)
            .where(InterviewRow.id == interview_id, scope.interviews(scope_of)))).first()
        return (row[0], row[1] or b"", row[2]) if row else None

    async def with_resumes(self, scope_of: Principal, job_id: uuid.UUID,
                           limit: int) -> Sequence[tuple[uuid.UUID, str | None]]:
        """(id, resume file name) of a job's visible interviews that have a resume."""
        rows = await self._s.execute(
            select(InterviewRow.id, InterviewRow.resume_file_name)
            .where(InterviewRow.job_id == job_id, InterviewRow.resume_sha256.is_not(None),
                   scope.interviews(scope_of))
            .order_by(InterviewRow.created_at, InterviewRow.id).limit(limit))
        return [(r[0], r[1]) for r in rows.all()]

    async def due_for_reminder(self, now: datetime, until: datetime) -> Sequence[uuid.UUID]:
        """Scheduled interviews starting in (now, until] with no reminder in the outbox."""
        reminded = select(EmailOutboxRow.id).where(
            EmailOutboxRow.kind == "reminder",
            EmailOutboxRow.resource == func.concat("interviews/", InterviewRow.id))
        rows = await self._s.scalars(
            select(InterviewRow.id).where(
                InterviewRow.status == InterviewStatus.SCHEDULED.value,
                InterviewRow.scheduled_at > now, InterviewRow.scheduled_at <= until,
                ~reminded.exists())
            .order_by(InterviewRow.scheduled_at).limit(500))
        return rows.all()

    async def past_window(self, now: datetime) -> Sequence[uuid.UUID]:
        """Interviews still open whose window has ended."""
        open_states = [s.value for s in (InterviewStatus.PENDING, InterviewStatus.SCHEDULED,
                                         InterviewStatus.IN_PROGRESS)]
        rows = await self._s.scalars(
            select(InterviewRow.id).where(InterviewRow.status.in_(open_states),
                                          InterviewRow.window_end <= now)
            .order_by(InterviewRow.window_end).limit(500))
        return rows.all()


class SqlCandidateTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def create(self, *, interview_id: uuid.UUID, token_hash: bytes,
                     expires_at: datetime) -> None:
        self._s.add(CandidateTokenRow(interview_id=interview_id, token_hash=token_hash,
                                      expires_at=expires_at))
        await self._s.flush()

    async def revoke_all(self, interview_id: uuid.UUID, at: datetime) -> int:
        result = await self._s.execute(
            update(CandidateTokenRow)
            .where(CandidateTokenRow.interview_id == interview_id,
                   CandidateTokenRow.revoked_at.is_(None))
            .values(revoked_at=at))
        return int(getattr(result, "rowcount", 0) or 0)
