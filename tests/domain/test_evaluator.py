"""The evaluation job's bookkeeping against the real database: a failing attempt is recorded
with its reason and re-queued, the last allowed attempt marks it failed, RetryEvaluation queues
it again, and a later attempt succeeds. The AI provider here is a test double of the provider
port that fails on demand (the vendor boundary); everything else is the real code."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from interviewplatform.v1 import evaluation_pb2
from interviewplatform.v1 import evaluation_service_pb2 as epb

from server.app import Platform
from server.domain.ai import (
    AIResult,
    AnswerScore,
    AnswerToScore,
    CallInfo,
    FollowUp,
    FollowUpRequest,
    ProviderError,
    QuestionSpec,
    Summary,
    SummaryRequest,
)
from server.domain.ai_gateway import AIGateway
from server.domain.candidate import PLATFORM
from server.domain.evaluation_models import EvaluationState
from server.domain.evaluations import Evaluator
from server.domain.models import Answer, Difficulty, InterviewStatus, Question, QuestionType
from server.providers.ai.local import LocalProvider
from server.storage.repositories import SqlUnitOfWork
from tests.factories import Api, Tenant, auth


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FlakyProvider:
    """Delegates to the local provider, but fails every call while `broken` is set."""

    name = "flaky"
    model = "flaky-1"

    def __init__(self) -> None:
        self.local = LocalProvider()
        self.broken = True

    def _check(self) -> None:
        if self.broken:
            raise RuntimeError("provider crashed")

    async def generate_questions(self, spec: QuestionSpec) -> AIResult[tuple[Question, ...]]:
        self._check()
        return await self.local.generate_questions(spec)

    async def evaluate_answer(self, item: AnswerToScore) -> AIResult[AnswerScore]:
        self._check()
        return await self.local.evaluate_answer(item)

    async def summarize(self, request: SummaryRequest) -> AIResult[Summary]:
        self._check()
        return await self.local.summarize(request)

    async def follow_up(self, request: FollowUpRequest) -> AIResult[FollowUp]:
        self._check()
        return await self.local.follow_up(request)

    async def health(self) -> tuple[bool, str]:
        return True, "flaky"


async def completed_without_job(api: Api, platform: Platform, tenant: Tenant) -> uuid.UUID:
    """A completed interview with one answer and a queued evaluation, but no queue job (the
    in-process worker must not race this test; its sweeper waits OUTBOX_SWEEP_AFTER_SECONDS)."""
    token = tenant.members[0].token
    job = await api.job_with_questions(token, tenant.departments[0].id)
    interview = await api.interview(token, job.id)
    iid = uuid.UUID(interview.id)
    async with SqlUnitOfWork(platform.db.sessions) as uow:
        qs = await uow.question_sets.get(uuid.UUID(job.id), 1)
        assert qs is not None
        await uow.candidates.add_answer(Answer(
            interview_id=iid, question_id=qs.questions[0].id, position=1,
            text="Because I like building reliable platforms for teams.", code="",
            code_language="", request_id=None, created_at=datetime.now(UTC)))
        done = await uow.interviews.update(iid, {"status": InterviewStatus.COMPLETED}, None)
        assert await uow.evaluations.create_queued(done)
    return iid


@pytest.mark.timeout(60)
async def test_failed_attempts_are_recorded_then_final_then_retried(
        api: Api, platform: Platform, tenant: Tenant) -> None:
    flaky = FlakyProvider()

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(platform.db.sessions)

    evaluator = Evaluator(uow, AIGateway(None, flaky), platform.background.runner, _Clock(),
                          stability_runs=1, max_spread=15, max_attempts=2)
    iid = await completed_without_job(api, platform, tenant)

    with pytest.raises(RuntimeError):  # the queue retries a raised attempt
        await evaluator.evaluate(iid)
    async with uow() as u:
        first = await u.evaluations.get(PLATFORM, iid)
    assert first is not None
    assert (first.state, first.attempts, first.failure_reason) == (
        EvaluationState.QUEUED, 1, "RuntimeError")

    assert await evaluator.evaluate(iid) is EvaluationState.FAILED  # the last attempt
    shown = (await api.evaluations.GetEvaluation(epb.GetEvaluationRequest(
        interview_id=str(iid)), metadata=auth(tenant.members[0].token))).evaluation
    assert shown.state == evaluation_pb2.EVALUATION_STATE_FAILED
    assert (shown.attempts, shown.failure_reason) == (2, "RuntimeError")
    assert not shown.HasField("ai")
    assert await evaluator.evaluate(iid) is None  # a failed evaluation is not picked up again

    # RetryEvaluation queues it again (attempts reset); with the provider healthy it is done.
    flaky.broken = False
    queued = (await api.evaluations.RetryEvaluation(epb.RetryEvaluationRequest(
        interview_id=str(iid)), metadata=auth(tenant.members[0].token))).evaluation
    assert queued.attempts == 0 and not queued.failure_reason
    final = await evaluator.evaluate(iid)
    # The platform's own worker may win the race for the re-queued job; either way it is done.
    async with uow() as u:
        after = await u.evaluations.get(PLATFORM, iid)
    assert after is not None and after.state is EvaluationState.DONE
    assert final in (EvaluationState.DONE, None)
    assert after.ai is not None and after.ai.questions[0].score > 0


async def test_provider_errors_fall_back_and_keep_both_records(platform: Platform) -> None:
    """A ProviderError from the configured provider: the local answer is used and the
    records say which call failed and why."""

    class Down(FlakyProvider):
        name = "down"

        def _check(self) -> None:
            raise ProviderError("UPSTREAM_ERROR", "503")

    gateway = AIGateway(Down(), LocalProvider())
    question = Question(id="q1", type=QuestionType.TECHNICAL, difficulty=Difficulty.EASY,
                        texts={"en": "What is a mutex?"},
                        expected_answer="A mutex is a lock that lets one thread at a time "
                                        "enter a critical section.")
    decided = await gateway.evaluate_answer(AnswerToScore(
        question=question, language="en",
        answer_text="A mutex is a lock: only one thread at a time holds it."))
    assert decided.provider == "local" and decided.fallback_reason == "UPSTREAM_ERROR"
    failed, used = decided.records
    assert (failed.info.provider, failed.output, failed.fallback_reason) == (
        "down", {"error": "UPSTREAM_ERROR"}, None)
    assert (used.info.provider, used.fallback_reason) == ("local", "UPSTREAM_ERROR")
    assert isinstance(used.info, CallInfo) and used.output["question_id"] == "q1"
    # The same input hashes the same in the failed call's record and the local one.
    assert failed.info.input_hash == used.info.input_hash
