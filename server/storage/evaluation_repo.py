"""Evaluations, AI decision records and the questions asked in DYNAMIC interviews.

The AI's assessment and the human review are stored as JSONB shaped by the domain dataclasses
(server/domain/evaluation_models.py); pydantic's TypeAdapter turns them back into dataclasses,
so the stored shape is checked on every read.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import and_, delete, func, insert, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from server.domain.ai_gateway import jsonable
from server.domain.evaluation_models import (
    AskedQuestion,
    Assessment,
    DecisionRecord,
    Evaluation,
    EvaluationState,
    HumanReview,
    NewDecision,
)
from server.domain.models import Interview, Principal
from server.domain.paging import Cursor, uuid_key
from server.storage import scope
from server.storage.job_repo import question_json, question_of
from server.storage.orm import DecisionRow, EvaluationRow, InterviewQuestionRow

_ASSESSMENT = TypeAdapter(Assessment)
_REVIEW = TypeAdapter(HumanReview)


def _evaluation(row: EvaluationRow) -> Evaluation:
    return Evaluation(
        interview_id=row.interview_id, company_id=row.company_id,
        department_id=row.department_id, state=EvaluationState(row.state),
        attempts=row.attempts, failure_reason=row.failure_reason,
        ai=_ASSESSMENT.validate_python(row.ai) if row.ai else None,
        review=_REVIEW.validate_python(row.review) if row.review else None,
        version=row.version, created_at=row.created_at, updated_at=row.updated_at)


def _columns(values: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in values.items():
        if key in ("ai", "review"):
            out[key] = jsonable(value) if value is not None else None
        elif isinstance(value, EvaluationState):
            out[key] = value.value
        else:
            out[key] = value
    return out


class SqlEvaluationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def create_queued(self, interview: Interview) -> bool:
        """Queue the evaluation of a completed interview (once)."""
        result = await self._s.execute(
            pg_insert(EvaluationRow).values(
                interview_id=interview.id, company_id=interview.company_id,
                department_id=interview.department_id, state=EvaluationState.QUEUED.value)
            .on_conflict_do_nothing(index_elements=[EvaluationRow.interview_id])
            .returning(EvaluationRow.interview_id))
        return result.scalar_one_or_none() is not None

    async def get(self, scope_of: Principal, interview_id: uuid.UUID, *,
                  for_update: bool = False) -> Evaluation | None:
        query = select(EvaluationRow).where(EvaluationRow.interview_id == interview_id,
                                            scope.evaluations(scope_of))
        if for_update:
            query = query.with_for_update()
        row = await self._s.scalar(query)
        return _evaluation(row) if row else None

    async def claim(self, interview_id: uuid.UUID) -> Evaluation | None:
        """The row, locked, for the evaluation job (no principal: a background job)."""
        row = await self._s.scalar(select(EvaluationRow)
                                   .where(EvaluationRow.interview_id == interview_id)
                                   .with_for_update())
        return _evaluation(row) if row else None

    async def update(self, interview_id: uuid.UUID, values: dict[str, object]) -> Evaluation:
        row = (await self._s.execute(
            update(EvaluationRow).where(EvaluationRow.interview_id == interview_id)
            .values(**_columns(values), version=EvaluationRow.version + 1,
                    updated_at=func.now())
            .returning(EvaluationRow).execution_options(populate_existing=True))).scalar_one()
        return _evaluation(row)

    async def stale_queued(self, queued_before: datetime, running_before: datetime,
                           limit: int) -> list[uuid.UUID]:
        """Evaluations queued since before `queued_before` (their job was lost), or running
        since before `running_before` (a crashed worker)."""
        rows = await self._s.scalars(
            select(EvaluationRow.interview_id)
            .where(or_(and_(EvaluationRow.state == "queued",
                            EvaluationRow.updated_at < queued_before),
                       and_(EvaluationRow.state == "running",
                            EvaluationRow.updated_at < running_before)))
            .order_by(EvaluationRow.updated_at).limit(limit))
        return list(rows.all())


def _decision(row: DecisionRow) -> DecisionRecord:
    return DecisionRecord(id=row.id, created_at=row.created_at, decision=NewDecision(
        company_id=row.company_id, department_id=row.department_id,
        interview_id=row.interview_id, job_id=row.job_id, kind=row.kind, provider=row.provider,
        model=row.model, template_id=row.template_id, template_hash=row.template_hash,
        input_hash=row.input_hash, output=row.output, latency_ms=row.latency_ms,
        prompt_tokens=row.prompt_tokens, output_tokens=row.output_tokens,
        attempts=row.attempts, fallback_reason=row.fallback_reason))


class SqlDecisionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add_many(self, records: Sequence[NewDecision]) -> list[uuid.UUID]:
        if not records:
            return []
        values: list[dict[str, Any]] = [
            {"company_id": r.company_id, "department_id": r.department_id,
             "interview_id": r.interview_id, "job_id": r.job_id, "kind": r.kind,
             "provider": r.provider, "model": r.model, "template_id": r.template_id,
             "template_hash": r.template_hash, "input_hash": r.input_hash,
             "output": r.output, "latency_ms": r.latency_ms,
             "prompt_tokens": r.prompt_tokens, "output_tokens": r.output_tokens,
             "attempts": r.attempts, "fallback_reason": r.fallback_reason}
            for r in records]
        ids = await self._s.scalars(insert(DecisionRow).values(values)
                                    .returning(DecisionRow.id))
        return list(ids.all())

    async def get(self, scope_of: Principal, record_id: uuid.UUID) -> DecisionRecord | None:
        row = await self._s.scalar(select(DecisionRow).where(DecisionRow.id == record_id,
                                                             scope.decisions(scope_of)))
        return _decision(row) if row else None

    async def list(self, scope_of: Principal, *, interview_id: uuid.UUID | None,
                   job_id: uuid.UUID | None, after: Cursor | None,
                   limit: int) -> list[DecisionRecord]:
        query = select(DecisionRow).where(scope.decisions(scope_of))
        if interview_id is not None:
            query = query.where(DecisionRow.interview_id == interview_id)
        if job_id is not None:
            query = query.where(DecisionRow.job_id == job_id)
        key = uuid_key(after)
        if key is not None:
            query = query.where(tuple_(DecisionRow.created_at, DecisionRow.id) < key)
        query = query.order_by(DecisionRow.created_at.desc(), DecisionRow.id.desc())
        return [_decision(r) for r in (await self._s.scalars(query.limit(limit))).all()]

    async def purge(self, older_than: datetime) -> int:
        result = await self._s.execute(delete(DecisionRow)
                                       .where(DecisionRow.created_at < older_than))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class SqlInterviewQuestionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def list(self, interview_id: uuid.UUID) -> list[AskedQuestion]:
        rows = await self._s.scalars(select(InterviewQuestionRow)
                                     .where(InterviewQuestionRow.interview_id == interview_id)
                                     .order_by(InterviewQuestionRow.position))
        return [AskedQuestion(question=question_of(r.question), position=r.position,
                              kind=r.kind, rationale=r.rationale) for r in rows.all()]

    async def add(self, interview_id: uuid.UUID, asked: AskedQuestion) -> bool:
        result = await self._s.execute(
            pg_insert(InterviewQuestionRow).values(
                interview_id=interview_id, question_id=asked.question.id,
                position=asked.position, question=question_json(asked.question),
                kind=asked.kind, rationale=asked.rationale)
            .on_conflict_do_nothing().returning(InterviewQuestionRow.question_id))
        return result.scalar_one_or_none() is not None
