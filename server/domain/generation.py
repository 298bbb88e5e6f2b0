"""Generating a job's questions with AI into a new question-set version.

The AI call happens outside any transaction; the questions and the decision records of the
calls are then stored together as the next version (server/domain/jobs.py). A request_id seen
before returns the version it created without calling the AI again.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from server.domain import access
from server.domain.ai import QuestionSpec
from server.domain.ai_gateway import AIGateway
from server.domain.errors import FailedPrecondition, NotFound
from server.domain.jobs import JobUseCases
from server.domain.models import Caller, Difficulty, EntityStatus, QuestionSet
from server.domain.ports import UowFactory

DEFAULT_COUNT = 8
MAX_DESCRIPTION = 6000


@dataclass(frozen=True, slots=True)
class Generated:
    question_set: QuestionSet
    provider: str
    fallback_reason: str | None
    decision_ids: tuple[UUID, ...]


class QuestionGeneration:
    def __init__(self, uow: UowFactory, jobs: JobUseCases, gateway: AIGateway) -> None:
        self._uow = uow
        self._jobs = jobs
        self._ai = gateway

    async def generate(self, caller: Caller, job_id: UUID, *, count: int,
                       difficulty: Difficulty | None, languages: tuple[str, ...],
                       include_coding: bool, include_behavioral: bool,
                       request_id: UUID | None, fingerprint: bytes) -> Generated:
        p = access.require_principal(caller)
        languages = languages or ("en",)
        async with self._uow() as uow:
            job = await uow.jobs.get(p, job_id)
            if job is None:
                raise NotFound("job not found", reason="JOB_NOT_FOUND")
            if job.status is not EntityStatus.ACTIVE:
                raise FailedPrecondition("the job is inactive", reason="JOB_INACTIVE")
            if request_id is not None:
                seen = await uow.idempotency.get(p.user_id, f"CreateQuestionSet:{job_id}",
                                                 request_id)
                if seen is not None and seen[0] == fingerprint:
                    stored = await uow.question_sets.get(job_id, seen[1].int & 0xFFFFFFFF)
                    if stored is not None:
                        source = stored.questions[0].source if stored.questions else ""
                        return Generated(question_set=stored,
                                         provider="gemini" if source == "gemini" else "local",
                                         fallback_reason=None, decision_ids=())
            previous = await uow.question_sets.get(job_id, job.question_set_version) \
                if job.question_set_version else None
        description = "\n\n".join(t for t in (job.description, job.jd_text) if t)
        decided = await self._ai.generate_questions(QuestionSpec(
            job_title=job.title, job_description=description[:MAX_DESCRIPTION],
            skills=job.required_skills, domain=job.domain,
            seniority=job.seniority.value if job.seniority else None, difficulty=difficulty,
            count=count or DEFAULT_COUNT, languages=languages, include_coding=include_coding,
            include_behavioral=include_behavioral,
            avoid_ids=tuple(q.source for q in previous.questions if q.source)
            if previous else ()))
        ids: list[UUID] = []
        created = await self._jobs.create_question_set(
            caller, job_id, decided.value, languages[0], request_id=request_id,
            fingerprint=fingerprint, records=decided.records, stored_ids=ids)
        return Generated(question_set=created, provider=decided.provider,
                         fallback_reason=decided.fallback_reason, decision_ids=tuple(ids))
