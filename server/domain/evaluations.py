"""Evaluating completed interviews, and what reviewers and auditors do with the result.

Flow: completing an interview queues its evaluation in the same transaction
(`evaluations.state = queued`); after the commit the evaluation job is enqueued, and a sweeper
picks up evaluations whose job was lost. The job (`Evaluator.evaluate`):
1. claims the row (running, attempts + 1) in a short transaction;
2. outside any transaction: runs each coding answer's hidden tests in the sandbox, scores every
   answer through the AI gateway — concurrently; `AI_STABILITY_RUNS` times each when the
   provider is not deterministic — and writes strengths, weaknesses and a summary in the
   interview's reviewer language;
3. stores the assessment and one decision record per AI call in one transaction (done).
A failure stores its reason; the job is retried (`EVALUATION_MAX_ATTEMPTS`), then the state is
failed and RetryEvaluation can queue it again.

Scores are content only (the providers' contract): no tone, emotion or confidence; fluency only
when the job lists the interview's language in `required_languages`.

A human review (override) never replaces the AI's assessment: both are kept, the review's score
and recommendation become the final ones, and both are in the audit log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from statistics import fmean
from uuid import UUID

import structlog

from server.domain import access
from server.domain.ai import (
    AnswerScore,
    AnswerToScore,
    CodingResult,
    Dimensions,
    Recommendation,
    SummaryRequest,
)
from server.domain.ai_gateway import AIGateway, CallRecord, new_decisions
from server.domain.audit import changes, record
from server.domain.candidate import PLATFORM
from server.domain.errors import FailedPrecondition, NotFound
from server.domain.evaluation_models import (
    Assessment,
    DecisionRecord,
    Evaluation,
    EvaluationState,
    HumanReview,
    NewDecision,
    OverrideReason,
    QuestionAssessment,
    Stability,
)
from server.domain.models import (
    Answer,
    Caller,
    Interview,
    InterviewMode,
    Job,
    Page,
    Question,
    QuestionType,
)
from server.domain.paging import Cursor
from server.domain.ports import Clock, CodeRunner, UnitOfWork, UowFactory
from server.domain.support import check_etag, keyset_page

log = structlog.get_logger(__name__)

Kick = Callable[[UUID], Awaitable[None]]
# A running evaluation not finished after this long was left by a crashed worker.
STUCK_RUNNING = timedelta(minutes=15)


def evaluation_not_found() -> NotFound:
    return NotFound("no evaluation for this interview", reason="EVALUATION_NOT_FOUND")


def recommendation_for(score: float) -> Recommendation:
    if score >= 80:
        return Recommendation.STRONG_HIRE
    if score >= 65:
        return Recommendation.HIRE
    if score >= 45:
        return Recommendation.LEAN_NO
    return Recommendation.NO_HIRE


def decisions_of(records: Sequence[CallRecord], interview: Interview) -> list[NewDecision]:
    return new_decisions(records, company_id=interview.company_id,
                         department_id=interview.department_id, job_id=interview.job_id,
                         interview_id=interview.id)


async def asked_questions(uow: UnitOfWork, interview: Interview) -> list[Question]:
    """The questions of an interview in the order asked: the pinned set (STATIC), or the ones
    chosen and stored while it ran (DYNAMIC)."""
    if interview.mode is InterviewMode.DYNAMIC:
        asked = await uow.asked_questions.list(interview.id)
        return [a.question for a in asked]
    qs = await uow.question_sets.get(interview.job_id, interview.question_set_version)
    return list(qs.questions) if qs else []


@dataclass(frozen=True, slots=True)
class Material:
    """What an evaluation reads: the interview, its job, the questions asked and the answers."""

    interview: Interview
    job: Job
    questions: list[Question]
    answers: dict[str, Answer]


UNANSWERED = Dimensions(technical_accuracy=0, depth=0, clarity=0)


class Evaluator:
    """The evaluation job."""

    def __init__(self, uow: UowFactory, gateway: AIGateway, runner: CodeRunner, clock: Clock,
                 *, stability_runs: int, max_spread: float, max_attempts: int) -> None:
        self._uow = uow
        self._ai = gateway
        self._runner = runner
        self._clock = clock
        self._runs = stability_runs
        self._max_spread = max_spread
        self._max_attempts = max_attempts

    @property
    def _stability_runs(self) -> int:
        """Scorings per answer: one for a deterministic provider (re-scoring proves nothing)."""
        return 1 if self._ai.deterministic else self._runs

    async def _claim(self, interview_id: UUID) -> Material | None:
        async with self._uow() as uow:
            current = await uow.evaluations.claim(interview_id)
            if current is None or current.state in (EvaluationState.DONE,
                                                    EvaluationState.FAILED):
                return None
            await uow.evaluations.update(interview_id, {
                "state": EvaluationState.RUNNING, "attempts": current.attempts + 1,
                "failure_reason": None})
            interview = await uow.interviews.get(PLATFORM, interview_id)
            job = await uow.jobs.get(PLATFORM, interview.job_id) if interview else None
            if interview is None or job is None:
                return None
            questions = await asked_questions(uow, interview)
            answers = {a.question_id: a for a in await uow.candidates.answers(interview_id)}
            return Material(interview=interview, job=job, questions=questions,
                             answers=answers)

    async def evaluate(self, interview_id: UUID) -> EvaluationState | None:
        """Run one attempt. Raises after recording the failure so that the queue retries."""
        material = await self._claim(interview_id)
        if material is None:
            return None
        try:
            assessment, records = await self.assess(material)
        except Exception as exc:
            reason = getattr(exc, "reason", None) or type(exc).__name__
            log.exception("evaluation failed", interview_id=str(interview_id), reason=reason)
            async with self._uow() as uow:
                current = await uow.evaluations.claim(interview_id)
                final = current is not None and current.attempts >= self._max_attempts
                await uow.evaluations.update(interview_id, {
                    "state": EvaluationState.FAILED if final else EvaluationState.QUEUED,
                    "failure_reason": str(reason)})
            if final:
                return EvaluationState.FAILED
            raise
        async with self._uow() as uow:
            ids = await uow.decisions.add_many(decisions_of(records, material.interview))
            assessment = replace(assessment, decision_ids=tuple(str(i) for i in ids))
            after = await uow.evaluations.update(interview_id, {
                "state": EvaluationState.DONE, "ai": assessment, "failure_reason": None})
            await uow.audit.append(record(
                _system_caller(), "evaluation.complete", f"interviews/{interview_id}",
                material.interview.company_id,
                changes(None, {"overall_score": round(assessment.overall_score, 1),
                               "recommendation": assessment.recommendation,
                               "provider": assessment.provider,
                               "fallback_reason": assessment.fallback_reason or None})))
        log.info("interview evaluated", interview_id=str(interview_id),
                 score=round(assessment.overall_score, 1), provider=assessment.provider)
        return after.state

    async def _code(self, question: Question, answer: Answer) -> CodingResult | None:
        if question.type is not QuestionType.CODING or not answer.code.strip():
            return None
        return await self._runner.run(answer.code_language or question.code_language,
                                      answer.code, question.hidden_tests, hidden=True)

    async def _score(self, m: Material, question: Question,
                     answer: Answer) -> tuple[list[AnswerScore], list[CallRecord],
                                              CodingResult | None, str | None]:
        coding = await self._code(question, answer)
        item = AnswerToScore(question=question, language=m.interview.language,
                             answer_text=answer.text, code=answer.code,
                             code_language=answer.code_language, coding=coding,
                             fluency_required=m.interview.language in m.job.required_languages)
        decided = await asyncio.gather(*(self._ai.evaluate_answer(item)
                                         for _ in range(self._stability_runs)))
        records = [r for d in decided for r in d.records]
        reason = next((d.fallback_reason for d in decided if d.fallback_reason), None)
        return [d.value for d in decided], records, coding, reason

    async def assess(self, m: Material) -> tuple[Assessment, list[CallRecord]]:
        answered = [(n, q, m.answers[q.id]) for n, q in enumerate(m.questions, 1)
                    if q.id in m.answers]
        scored = await asyncio.gather(*(self._score(m, q, a) for _, q, a in answered))
        records: list[CallRecord] = []
        reasons: list[str] = []
        by_id: dict[str, QuestionAssessment] = {}
        best: dict[str, AnswerScore] = {}
        for (position, question, _), (scores, recs, coding, reason) in zip(answered, scored,
                                                                          strict=True):
            records.extend(recs)
            if reason:
                reasons.append(reason)
            values = [s.score for s in scores]
            middle = sorted(scores, key=lambda s: s.score)[len(scores) // 2]
            best[question.id] = middle
            by_id[question.id] = QuestionAssessment(
                question_id=question.id, position=position, score=fmean(values),
                dimensions=Dimensions(
                    technical_accuracy=fmean(s.dimensions.technical_accuracy for s in scores),
                    depth=fmean(s.dimensions.depth for s in scores),
                    clarity=fmean(s.dimensions.clarity for s in scores)),
                covered_concepts=middle.covered_concepts,
                missing_concepts=middle.missing_concepts, evidence=middle.evidence,
                feedback=middle.feedback, coding=coding, spread=max(values) - min(values),
                unanswered=False)
        questions = tuple(
            by_id.get(q.id) or QuestionAssessment(
                question_id=q.id, position=n, score=0.0, dimensions=UNANSWERED,
                covered_concepts=(), missing_concepts=tuple(c.name for c in q.concepts),
                evidence=(), feedback="", coding=None, spread=0.0, unanswered=True)
            for n, q in enumerate(m.questions, 1))
        summary = await self._ai.summarize(SummaryRequest(
            job_title=m.job.title, skills=m.job.required_skills,
            reviewer_language=m.interview.reviewer_language,
            scores=tuple(best[q.id] for _, q, _ in answered),
            questions=tuple(q for _, q, _ in answered)))
        records.extend(summary.records)
        if summary.fallback_reason:
            reasons.append(summary.fallback_reason)
        overall = fmean(q.score for q in questions) if questions else 0.0
        max_spread = max((q.spread for q in questions), default=0.0)
        providers = [r.info.provider for r in records if r.fallback_reason is None
                     and not r.info.template_id.endswith("/failed")]
        provider = (max(set(providers), key=providers.count) if providers
                    else self._ai.local.name)
        model = next((r.info.model for r in records if r.info.provider == provider), "")
        return Assessment(
            overall_score=overall, recommendation=recommendation_for(overall),
            dimensions=Dimensions(
                technical_accuracy=fmean(q.dimensions.technical_accuracy for q in questions)
                if questions else 0.0,
                depth=fmean(q.dimensions.depth for q in questions) if questions else 0.0,
                clarity=fmean(q.dimensions.clarity for q in questions) if questions else 0.0),
            questions=questions, strengths=summary.value.strengths,
            weaknesses=summary.value.weaknesses, summary=summary.value.summary,
            summary_language=summary.value.language, provider=provider, model=model,
            fallback=bool(reasons), fallback_reason=reasons[0] if reasons else "",
            stability=Stability(runs=self._stability_runs, max_spread=max_spread,
                                threshold=self._max_spread,
                                unstable=max_spread > self._max_spread),
            decision_ids=(), fluency_scored=m.interview.language in m.job.required_languages,
        ), records

    async def stale(self, older_than: timedelta) -> list[UUID]:
        """Queued evaluations with no job, and running ones a crashed worker left behind."""
        now = self._clock.now()
        async with self._uow() as uow:
            return await uow.evaluations.stale_queued(now - older_than, now - STUCK_RUNNING,
                                                      100)


def _system_caller() -> Caller:
    return Caller(principal=None, request_id="", client_address="")


class EvaluationUseCases:
    """What staff do with evaluations and decision records (scoped like interviews)."""

    def __init__(self, uow: UowFactory, clock: Clock, kick: Kick) -> None:
        self._uow = uow
        self._clock = clock
        self._kick = kick

    async def get(self, caller: Caller, interview_id: UUID) -> Evaluation:
        p = access.require_principal(caller)
        async with self._uow() as uow:
            found = await uow.evaluations.get(p, interview_id)
        if found is None:
            raise evaluation_not_found()
        return found

    async def override(self, caller: Caller, interview_id: UUID, *, score: float,
                       recommendation: Recommendation, reason: OverrideReason, comment: str,
                       etag: str) -> Evaluation:
        p = access.require_principal(caller)
        async with self._uow() as uow:
            found = await uow.evaluations.get(p, interview_id, for_update=True)
            if found is None:
                raise evaluation_not_found()
            check_etag(etag, found.version)
            if found.state is not EvaluationState.DONE or found.ai is None:
                raise FailedPrecondition("the evaluation is not done yet",
                                         reason="EVALUATION_NOT_READY",
                                         metadata={"state": found.state.value})
            review = HumanReview(reviewer_id=p.user_id, reviewer_email=p.email,
                                 overall_score=score, recommendation=recommendation,
                                 reason=reason, comment=comment.strip(),
                                 reviewed_at=self._clock.now())
            after = await uow.evaluations.update(interview_id, {"review": review})
            before = found.review
            await uow.audit.append(record(
                caller, "evaluation.override", f"interviews/{interview_id}", found.company_id,
                changes({"score": before.overall_score if before else
                         round(found.ai.overall_score, 1),
                         "recommendation": before.recommendation if before else
                         found.ai.recommendation},
                        {"score": score, "recommendation": recommendation,
                         "reason": reason, "comment": comment.strip()})))
            return after

    async def retry(self, caller: Caller, interview_id: UUID) -> Evaluation:
        p = access.require_principal(caller)
        async with self._uow() as uow:
            found = await uow.evaluations.get(p, interview_id, for_update=True)
            if found is None:
                raise evaluation_not_found()
            if found.state in (EvaluationState.QUEUED, EvaluationState.RUNNING):
                return found
            after = await uow.evaluations.update(interview_id, {
                "state": EvaluationState.QUEUED, "attempts": 0, "failure_reason": None})
            await uow.audit.append(record(caller, "evaluation.retry",
                                          f"interviews/{interview_id}", found.company_id,
                                          changes({"state": found.state},
                                                  {"state": after.state})))
        await self._kick(interview_id)
        return after

    async def decision(self, caller: Caller, record_id: UUID) -> DecisionRecord:
        p = access.require_principal(caller)
        async with self._uow() as uow:
            found = await uow.decisions.get(p, record_id)
        if found is None:
            raise NotFound("decision record not found", reason="DECISION_NOT_FOUND")
        return found

    async def decisions(self, caller: Caller, *, interview_id: UUID | None,
                        job_id: UUID | None, size: int, token: str) -> Page[DecisionRecord]:
        p = access.require_principal(caller)
        filters: dict[str, object] = {"interview_id": interview_id, "job_id": job_id}

        async def fetch(uow: UnitOfWork, after: Cursor | None,
                        limit: int) -> list[DecisionRecord]:
            return await uow.decisions.list(p, interview_id=interview_id, job_id=job_id,
                                            after=after, limit=limit)

        return await keyset_page(self._uow, filters, size, token, fetch=fetch,
                                 cursor=lambda r: Cursor(r.created_at, str(r.id)))
