"""Jobs (scoped to the principal in every read) and their question sets."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from server.domain.models import (
    Difficulty,
    EntityStatus,
    Job,
    JobFile,
    KeyConcept,
    Principal,
    Question,
    QuestionSet,
    QuestionType,
    RubricCriterion,
    Seniority,
    TestCase,
)
from server.domain.paging import Cursor, uuid_key
from server.storage import scope
from server.storage.orm import JobRow, QuestionSetRow
from server.storage.sql import like_prefix, plain_values


def _job(row: JobRow, *, with_text: bool) -> Job:
    return Job(
        id=row.id, company_id=row.company_id, department_id=row.department_id,
        title=row.title, description=row.description,
        required_skills=tuple(row.required_skills or ()), domain=row.domain,
        seniority=Seniority(row.seniority) if row.seniority else None,
        status=EntityStatus(row.status), version=row.version,
        question_set_version=row.question_set_version, created_at=row.created_at,
        updated_at=row.updated_at, jd_file_name=row.jd_file_name,
        jd_media_type=row.jd_media_type, jd_sha256=row.jd_sha256,
        jd_text=row.jd_text if with_text else None,
        required_languages=tuple(row.required_languages or ()))


def _columns(values: dict[str, object]) -> dict[str, object]:
    columns = plain_values(values)
    if "required_skills" in columns:
        columns["required_skills"] = list(values["required_skills"] or ())  # type: ignore[call-overload]
    if "required_languages" in columns:
        columns["required_languages"] = list(values["required_languages"] or ())  # type: ignore[call-overload]
    return columns


def _tests(items: tuple[TestCase, ...]) -> list[dict[str, str]]:
    return [{"input": t.input, "expected_output": t.expected_output} for t in items]


def question_json(q: Question) -> dict[str, object]:
    return {"id": q.id, "type": q.type.value, "difficulty": q.difficulty.value,
            "texts": dict(q.texts), "expected_answer": q.expected_answer,
            "keywords": list(q.keywords),
            "rubric": [{"name": r.name, "description": r.description, "weight": r.weight}
                       for r in q.rubric],
            "starter_code": q.starter_code, "code_language": q.code_language,
            "hidden_tests": _tests(q.hidden_tests), "examples": _tests(q.examples),
            "expected_answers": dict(q.expected_answers),
            "concepts": [{"name": c.name, "terms": {k: list(v) for k, v in c.terms.items()}}
                         for c in q.concepts],
            "source": q.source}


def question_of(data: dict[str, Any]) -> Question:
    def tests(items: list[dict[str, str]]) -> tuple[TestCase, ...]:
        return tuple(TestCase(input=t["input"], expected_output=t["expected_output"])
                     for t in items)

    return Question(
        id=data["id"], type=QuestionType(data["type"]),
        difficulty=Difficulty(data["difficulty"]), texts=dict(data["texts"]),
        expected_answer=data.get("expected_answer", ""),
        keywords=tuple(data.get("keywords", ())),
        rubric=tuple(RubricCriterion(name=r["name"], description=r["description"],
                                     weight=float(r["weight"]))
                     for r in data.get("rubric", ())),
        starter_code=data.get("starter_code", ""), code_language=data.get("code_language", ""),
        hidden_tests=tests(data.get("hidden_tests", [])), examples=tests(data.get("examples", [])),
        expected_answers=dict(data.get("expected_answers", {})),
        concepts=tuple(KeyConcept(name=c["name"],
                                  terms={k: tuple(v) for k, v in c["terms"].items()})
                       for c in data.get("concepts", ())),
        source=data.get("source", ""))


def _question_set(row: QuestionSetRow) -> QuestionSet:
    return QuestionSet(job_id=row.job_id, version=row.version,
                       default_language=row.default_language,
                       questions=tuple(question_of(q) for q in row.questions),
                       created_at=row.created_at, created_by=row.created_by)


class SqlJobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def create(self, *, company_id: uuid.UUID, department_id: uuid.UUID,
                     values: dict[str, object], file: JobFile | None,
                     actor_id: uuid.UUID | None) -> Job:
        row = JobRow(company_id=company_id, department_id=department_id, **_columns(values),
                     created_by=actor_id, updated_by=actor_id)
        if file is not None:
            row.jd_file = file.data
            row.jd_file_name = file.name
            row.jd_media_type = file.media_type
            row.jd_sha256 = file.sha256
            row.jd_text = file.text
        self._s.add(row)
        await self._s.flush()
        await self._s.refresh(row, attribute_names=[
            c.key for c in JobRow.__mapper__.column_attrs if c.key != "jd_file"])
        return _job(row, with_text=True)

    async def get(self, scope_of: Principal, job_id: uuid.UUID, *,
                  for_update: bool = False) -> Job | None:
        query = (select(JobRow).where(JobRow.id == job_id, scope.jobs(scope_of))
                 .options(undefer(JobRow.jd_text)))
        if for_update:
            query = query.with_for_update()
        row = await self._s.scalar(query)
        return _job(row, with_text=True) if row else None

    async def update(self, job_id: uuid.UUID, values: dict[str, object],
                     actor_id: uuid.UUID | None, *, bump: bool = True) -> Job:
        stamp: dict[str, object] = {}
        if bump:
            stamp = {"version": JobRow.version + 1, "updated_at": func.now(),
                     "updated_by": actor_id}
        row = (await self._s.execute(
            update(JobRow).where(JobRow.id == job_id).values(**_columns(values), **stamp)
            .returning(JobRow).options(undefer(JobRow.jd_text))
            .execution_options(populate_existing=True))).scalar_one()
        return _job(row, with_text=True)

    async def list(self, scope_of: Principal, *, company_id: uuid.UUID | None,
                   department_id: uuid.UUID | None, status: EntityStatus | None,
                   title_prefix: str | None, after: Cursor | None, limit: int) -> list[Job]:
        query = select(JobRow).where(scope.jobs(scope_of))
        if company_id is not None:
            query = query.where(JobRow.company_id == company_id)
        if department_id is not None:
            query = query.where(JobRow.department_id == department_id)
        if status is not None:
            query = query.where(JobRow.status == status.value)
        if title_prefix:
            query = query.where(func.lower(JobRow.title).like(like_prefix(title_prefix)))
        key = uuid_key(after)
        if key is not None:
            query = query.where(tuple_(JobRow.created_at, JobRow.id) > key)
        query = query.order_by(JobRow.created_at, JobRow.id).limit(limit)
        return [_job(r, with_text=False) for r in (await self._s.scalars(query)).all()]


class SqlQuestionSetRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def create(self, *, job_id: uuid.UUID, version: int, default_language: str,
                     questions: tuple[Question, ...],
                     actor_id: uuid.UUID | None) -> QuestionSet:
        row = QuestionSetRow(job_id=job_id, version=version, default_language=default_language,
                             questions=[question_json(q) for q in questions],
                             created_by=actor_id)
        self._s.add(row)
        await self._s.flush()
        await self._s.refresh(row)
        return _question_set(row)

    async def get(self, job_id: uuid.UUID, version: int) -> QuestionSet | None:
        row = await self._s.get(QuestionSetRow, (job_id, version))
        return _question_set(row) if row else None

    async def list(self, job_id: uuid.UUID, *, after_version: int,
                   limit: int) -> list[QuestionSet]:
        query = (select(QuestionSetRow)
                 .where(QuestionSetRow.job_id == job_id, QuestionSetRow.version > after_version)
                 .order_by(QuestionSetRow.version).limit(limit))
        return [_question_set(r) for r in (await self._s.scalars(query)).all()]
