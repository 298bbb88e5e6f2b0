"""Evaluation end to end: a candidate completes an interview, the evaluation job scores it
(local provider by default; Gemini through the real google-genai client against a fake REST
server), decision records are kept, reviewers override, auditors read the records."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from grpc import aio
from interviewplatform.v1 import audit_service_pb2 as apb
from interviewplatform.v1 import candidate_service_pb2 as cpb
from interviewplatform.v1 import evaluation_pb2, interview_pb2, job_pb2
from interviewplatform.v1 import evaluation_service_pb2 as epb
from interviewplatform.v1 import interview_service_pb2 as ipb
from interviewplatform.v1 import job_service_pb2 as jpb
from interviewplatform.v1 import system_service_pb2 as spb

from server.app import Platform, start_platform
from tests.api.test_interviews import link_token, outbox, ts
from tests.factories import Api, Tenant, auth, tenant_on
from tests.fakes.gemini import FakeGemini
from tests.helpers import Stubs, error_info, fails, fast_settings

GOOD = ("A list is mutable: you can append, remove or change its items in place. A tuple is "
        "immutable, so once created it cannot be changed; because of that a tuple is hashable "
        "and can be used as a dictionary key, and it is slightly smaller and faster. Use a "
        "tuple for fixed records, for example coordinates, and a list for collections that "
        "grow.")
OFF_TOPIC = "I enjoy hiking on weekends and my favourite food is pizza with friends."
SUM_CODE = "a, b = map(int, input().split())\nprint(a + b)\n"


def concept(name: str, *terms: str) -> job_pb2.KeyConcept:
    return job_pb2.KeyConcept(name=name, terms=[job_pb2.ConceptTerms(language="*",
                                                                     terms=list(terms))])


def questions() -> list[job_pb2.Question]:
    return [
        job_pb2.Question(
            id="lists", type=job_pb2.QUESTION_TYPE_TECHNICAL,
            difficulty=job_pb2.DIFFICULTY_EASY,
            texts=[job_pb2.LocalizedText(language="en", text="How do lists and tuples differ "
                                                             "in Python?")],
            expected_answer=("Lists are mutable and can change in place; tuples are immutable, "
                             "hashable and usable as dictionary keys, and slightly faster."),
            keywords=["mutable", "immutable", "hashable"],
            concepts=[concept("mutability", "mutable", "immutable"),
                      concept("hashability", "hashable", "dictionary key")]),
        job_pb2.Question(
            id="sum", type=job_pb2.QUESTION_TYPE_CODING, difficulty=job_pb2.DIFFICULTY_EASY,
            texts=[job_pb2.LocalizedText(language="en",
                                         text="Read two integers and print their sum.")],
            expected_answer="Read both numbers, add them, print the result.",
            starter_code="a, b = map(int, input().split())\n", code_language="python",
            examples=[job_pb2.TestCase(input="1 2", expected_output="3")],
            hidden_tests=[job_pb2.TestCase(input="40 2", expected_output="42"),
                          job_pb2.TestCase(input="-5 5", expected_output="0")]),
    ]


async def make_job(api: Api, token: str, department_id: str,
                   required_languages: tuple[str, ...] = ()) -> job_pb2.Job:
    job = (await api.jobs.CreateJob(jpb.CreateJobRequest(job=job_pb2.Job(
        department_id=department_id, title="Python Developer", description="Python services.",
        required_skills=["python"], required_languages=list(required_languages))),
        metadata=auth(token))).job
    await api.jobs.CreateQuestionSet(jpb.CreateQuestionSetRequest(
        job_id=job.id, questions=questions()), metadata=auth(token))
    return job


async def take(api: Api, platform: Platform, staff: str, job_id: str, *,
               answers: dict[str, tuple[str, str]], reviewer_language: str = "en",
               mode: interview_pb2.InterviewMode.ValueType = interview_pb2.INTERVIEW_MODE_STATIC
               ) -> interview_pb2.Interview:
    """Schedule (already open), start, answer (question id -> (text, code)) and complete."""
    created = (await api.interviews.ScheduleInterview(ipb.ScheduleInterviewRequest(
        interview=interview_pb2.Interview(
            job_id=job_id, language="en", mode=mode, reviewer_language=reviewer_language,
            scheduled_time=ts(datetime.now(UTC) - timedelta(minutes=1)),
            candidate=interview_pb2.Candidate(
                full_name="Ada Lovelace", email=f"ada-{uuid.uuid4().hex[:8]}@example.com")),
    ), metadata=auth(staff))).interview
    [mail] = await outbox(platform, created.id)
    me = auth(link_token(platform, mail.text_body))
    await api.candidate.StartInterview(cpb.StartInterviewRequest(id=created.id), metadata=me)
    for qid, (text, code) in answers.items():
        await api.candidate.SubmitAnswer(cpb.SubmitAnswerRequest(
            id=created.id, question_id=qid, text=text, code=code), metadata=me)
    await api.candidate.CompleteInterview(cpb.CompleteInterviewRequest(id=created.id),
                                          metadata=me)
    return created


async def evaluated(api: Api, token: str, interview_id: str) -> evaluation_pb2.Evaluation:
    deadline = time.monotonic() + 40
    while True:
        found = (await api.evaluations.GetEvaluation(
            epb.GetEvaluationRequest(interview_id=interview_id), metadata=auth(token))).evaluation
        if found.state in (evaluation_pb2.EVALUATION_STATE_DONE,
                           evaluation_pb2.EVALUATION_STATE_FAILED):
            return found
        assert time.monotonic() < deadline, f"not evaluated in time: {found}"
        await asyncio.sleep(0.1)


async def records(api: Api, token: str, interview_id: str) -> list[evaluation_pb2.DecisionRecord]:
    return list((await api.evaluations.ListDecisionRecords(
        epb.ListDecisionRecordsRequest(interview_id=interview_id, page_size=500),
        metadata=auth(token))).records)


# --- local provider (the default) ---------------------------------------------------------


async def test_completed_interview_is_evaluated_with_local_provider_and_recorded(
        api: Api, platform: Platform, tenant: Tenant) -> None:
    staff = tenant.members[0].token
    job = await make_job(api, staff, tenant.departments[0].id)
    good = await take(api, platform, staff, job.id, reviewer_language="es",
                      answers={"lists": (GOOD, ""), "sum": ("Split and add.", SUM_CODE)})
    poor = await take(api, platform, staff, job.id,
                      answers={"lists": (OFF_TOPIC, ""), "sum": ("", "print(1)")})

    e = await evaluated(api, staff, good.id)
    assert e.state == evaluation_pb2.EVALUATION_STATE_DONE, e.failure_reason
    ai = e.ai
    assert ai.provider == "local" and not ai.fallback and ai.model
    assert [q.question_id for q in ai.question_scores] == ["lists", "sum"]
    lists, code = ai.question_scores
    assert "mutability" in lists.covered_concepts
    assert all(ev.quote in GOOD for ev in lists.evidence) and lists.evidence
    assert (code.coding.passed, code.coding.total) == (2, 2)
    assert all(r.hidden for r in code.coding.results)
    assert 0 <= ai.overall_score <= 100 and ai.recommendation
    assert ai.summary and ai.summary_language == "es"
    assert ai.stability.runs == 1 and not ai.stability.unstable  # deterministic provider
    assert e.final_score == ai.overall_score

    p = await evaluated(api, staff, poor.id)
    assert p.ai.overall_score < ai.overall_score
    assert p.ai.question_scores[1].coding.passed == 0
    assert p.ai.recommendation in (evaluation_pb2.RECOMMENDATION_NO_HIRE,
                                   evaluation_pb2.RECOMMENDATION_LEAN_NO)

    kept = await records(api, staff, good.id)
    kinds = sorted(r.kind for r in kept)
    assert kinds == ["evaluate_answer", "evaluate_answer", "summarize"]
    assert sorted(ai.decision_ids) == sorted(r.id for r in kept)
    for r in kept:
        assert r.provider == "local" and len(r.input_hash) == 64 and r.template_id
        assert r.company_id == tenant.company.id and r.interview_id == good.id
        assert r.output_json.startswith("{")
    one = (await api.evaluations.GetDecisionRecord(epb.GetDecisionRecordRequest(id=kept[0].id),
                                                   metadata=auth(staff))).record
    assert one == kept[0]


async def test_unanswered_questions_score_zero_and_are_marked(
        api: Api, platform: Platform, tenant: Tenant) -> None:
    staff = tenant.members[0].token
    job = await make_job(api, staff, tenant.departments[0].id)
    taken = await take(api, platform, staff, job.id, answers={"lists": (GOOD, "")})
    e = await evaluated(api, staff, taken.id)
    by_id = {q.question_id: q for q in e.ai.question_scores}
    assert by_id["sum"].unanswered and by_id["sum"].score == 0
    assert not by_id["lists"].unanswered and by_id["lists"].score > 0


async def test_override_keeps_the_ai_result_and_is_audited(
        api: Api, platform: Platform, tenant: Tenant) -> None:
    staff = tenant.members[0].token
    job = await make_job(api, staff, tenant.departments[0].id)
    taken = await take(api, platform, staff, job.id, answers={"lists": (GOOD, "")})
    before = await evaluated(api, staff, taken.id)

    stale = await fails(api.evaluations.OverrideEvaluation(epb.OverrideEvaluationRequest(
        interview_id=taken.id, overall_score=90, recommendation=evaluation_pb2.RECOMMENDATION_HIRE,
        reason=evaluation_pb2.OVERRIDE_REASON_SCORE_TOO_LOW, comment="Strong follow-up call.",
        etag="999"), metadata=auth(staff)), grpc.StatusCode.ABORTED, "ETAG_MISMATCH")
    assert "current_etag" in error_info(stale)[1]
    bad = await fails(api.evaluations.OverrideEvaluation(epb.OverrideEvaluationRequest(
        interview_id=taken.id, overall_score=90,
        reason=evaluation_pb2.OVERRIDE_REASON_SCORE_TOO_LOW, comment="no recommendation"),
        metadata=auth(staff)), grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_FAILED")
    assert "recommendation" in bad.details()

    after = (await api.evaluations.OverrideEvaluation(epb.OverrideEvaluationRequest(
        interview_id=taken.id, overall_score=91.5,
        recommendation=evaluation_pb2.RECOMMENDATION_STRONG_HIRE,
        reason=evaluation_pb2.OVERRIDE_REASON_SCORE_TOO_LOW, comment="Strong follow-up call.",
        etag=before.etag), metadata=auth(staff))).evaluation
    assert after.ai == before.ai  # the AI's result stays as it was
    assert after.review.overall_score == 91.5 and after.review.comment == "Strong follow-up call."
    assert after.review.reviewer_id == tenant.members[0].user.id
    assert after.final_score == 91.5
    assert after.final_recommendation == evaluation_pb2.RECOMMENDATION_STRONG_HIRE
    events = (await api.audit.ListAuditEvents(apb.ListAuditEventsRequest(
        resource=f"interviews/{taken.id}", page_size=100),
        metadata=auth(tenant.admin.token))).audit_events
    actions = [e.action for e in events]
    assert "evaluation.complete" in actions and "evaluation.override" in actions
    override = next(e for e in events if e.action == "evaluation.override")
    assert override.actor_id == tenant.members[0].user.id
    assert {c.field for c in override.changes} >= {"score", "recommendation", "reason"}


async def test_no_evaluation_before_completion_and_retry_requeues(
        api: Api, platform: Platform, tenant: Tenant) -> None:
    staff = tenant.members[0].token
    job = await make_job(api, staff, tenant.departments[0].id)
    scheduled = await api.interview(staff, job.id)
    missing = await fails(api.evaluations.GetEvaluation(
        epb.GetEvaluationRequest(interview_id=scheduled.id), metadata=auth(staff)),
        grpc.StatusCode.NOT_FOUND, "EVALUATION_NOT_FOUND")
    assert missing.details()

    taken = await take(api, platform, staff, job.id, answers={"lists": (GOOD, "")})
    first = await evaluated(api, staff, taken.id)
    queued = (await api.evaluations.RetryEvaluation(
        epb.RetryEvaluationRequest(interview_id=taken.id), metadata=auth(staff))).evaluation
    assert queued.state in (evaluation_pb2.EVALUATION_STATE_QUEUED,
                            evaluation_pb2.EVALUATION_STATE_RUNNING,
                            evaluation_pb2.EVALUATION_STATE_DONE)
    again = await evaluated(api, staff, taken.id)
    assert again.state == evaluation_pb2.EVALUATION_STATE_DONE
    assert again.ai.overall_score == pytest.approx(first.ai.overall_score)
    assert len(await records(api, staff, taken.id)) > len(first.ai.decision_ids)


async def test_run_code_on_examples_before_submitting(
        api: Api, platform: Platform, tenant: Tenant) -> None:
    staff = tenant.members[0].token
    job = await make_job(api, staff, tenant.departments[0].id)
    created = await api.interview(staff, job.id, start=datetime.now(UTC) - timedelta(minutes=1))
    [mail] = await outbox(platform, created.id)
    me = auth(link_token(platform, mail.text_body))
    await api.candidate.StartInterview(cpb.StartInterviewRequest(id=created.id), metadata=me)
    ran = (await api.candidate.RunCode(cpb.RunCodeRequest(
        id=created.id, question_id="sum", code=SUM_CODE), metadata=me)).result
    assert (ran.passed, ran.total) == (1, 1) and not ran.results[0].hidden
    wrong = (await api.candidate.RunCode(cpb.RunCodeRequest(
        id=created.id, question_id="sum", code="print('nope')"), metadata=me)).result
    assert wrong.passed == 0
    assert wrong.results[0].outcome == evaluation_pb2.CODE_TEST_OUTCOME_FAILED
    await fails(api.candidate.RunCode(cpb.RunCodeRequest(
        id=created.id, question_id="lists", code="print(1)"), metadata=me),
        grpc.StatusCode.INVALID_ARGUMENT, "CODE_NOT_EXPECTED")
    cobol = await fails(api.candidate.RunCode(cpb.RunCodeRequest(
        id=created.id, question_id="sum", code="DISPLAY 1", code_language="cobol"),
        metadata=me), grpc.StatusCode.INVALID_ARGUMENT, "CODE_LANGUAGE_UNSUPPORTED")
    assert "python" in error_info(cobol)[1]["supported"]


async def test_hostile_code_is_contained_and_the_server_stays_healthy(
        api: Api, platform: Platform, tenant: Tenant, stubs: Stubs) -> None:
    staff = tenant.members[0].token
    job = await make_job(api, staff, tenant.departments[0].id)
    created = await api.interview(staff, job.id, start=datetime.now(UTC) - timedelta(minutes=1))
    [mail] = await outbox(platform, created.id)
    me = auth(link_token(platform, mail.text_body))
    await api.candidate.StartInterview(cpb.StartInterviewRequest(id=created.id), metadata=me)
    bombs = {
        "fork": "import os\nwhile True:\n    os.fork()\n",
        "loop": "while True:\n    pass\n",
        "memory": "x = bytearray(4 * 1024 ** 3)\n",
        "flood": "while True:\n    print('x' * 1000)\n",
    }
    started = time.monotonic()
    results = await asyncio.gather(*(api.candidate.RunCode(cpb.RunCodeRequest(
        id=created.id, question_id="sum", code=code), metadata=me) for code in bombs.values()))
    outcomes = dict(zip(bombs, (r.result.results[0].outcome for r in results), strict=True))
    assert outcomes["loop"] == evaluation_pb2.CODE_TEST_OUTCOME_TIMEOUT
    assert outcomes["memory"] == evaluation_pb2.CODE_TEST_OUTCOME_MEMORY_LIMIT
    assert outcomes["flood"] == evaluation_pb2.CODE_TEST_OUTCOME_OUTPUT_LIMIT
    assert outcomes["fork"] in (evaluation_pb2.CODE_TEST_OUTCOME_PROCESS_LIMIT,
                                evaluation_pb2.CODE_TEST_OUTCOME_TIMEOUT)
    assert time.monotonic() - started < 20
    health = await stubs.system.GetHealth(spb.GetHealthRequest())
    states = {c.name: c.state for c in health.components}
    assert states["database"] == spb.COMPONENT_STATE_OK
    assert states["sandbox"] == spb.COMPONENT_STATE_OK and states["ai"] == spb.COMPONENT_STATE_OK
    ai = next(c for c in health.components if c.name == "ai")
    assert ai.provider.startswith("local")
    ok = (await api.candidate.RunCode(cpb.RunCodeRequest(
        id=created.id, question_id="sum", code=SUM_CODE), metadata=me)).result
    assert ok.passed == 1


async def test_generate_questions_makes_a_recorded_version(
        api: Api, tenant: Tenant) -> None:
    staff = tenant.members[0].token
    job = (await api.jobs.CreateJob(jpb.CreateJobRequest(job=job_pb2.Job(
        department_id=tenant.departments[0].id, title="Backend Engineer", description="APIs.",
        required_skills=["Python", "Kubernetes"], seniority=job_pb2.SENIORITY_SENIOR)),
        metadata=auth(staff))).job
    request_id = str(uuid.uuid4())
    made = await api.jobs.GenerateQuestions(jpb.GenerateQuestionsRequest(
        id=job.id, count=5, languages=["de", "en"], request_id=request_id),
        metadata=auth(staff))
    assert made.provider == "local" and not made.fallback_reason
    qs = made.question_set
    assert (qs.version, qs.default_language, len(qs.questions)) == (1, "de", 5)
    for q in qs.questions:
        assert {t.language for t in q.texts} >= {"de", "en"}
        assert q.expected_answer and q.concepts and q.source.startswith("bank:")
    assert len({q.id for q in qs.questions}) == 5
    assert len(made.decision_ids) == 1
    again = await api.jobs.GenerateQuestions(jpb.GenerateQuestionsRequest(
        id=job.id, count=5, languages=["de", "en"], request_id=request_id),
        metadata=auth(staff))
    assert again.question_set.version == 1
    got = (await api.jobs.GetJob(jpb.GetJobRequest(id=job.id), metadata=auth(staff))).job
    assert got.question_set_version == 1
    record = (await api.evaluations.GetDecisionRecord(
        epb.GetDecisionRecordRequest(id=made.decision_ids[0]), metadata=auth(staff))).record
    assert record.kind == "generate_questions" and record.job_id == job.id
    assert not record.interview_id


async def test_dynamic_interview_adapts_and_stores_asked_questions(
        api: Api, platform: Platform, tenant: Tenant) -> None:
    staff = tenant.members[0].token
    job = (await api.jobs.CreateJob(jpb.CreateJobRequest(job=job_pb2.Job(
        department_id=tenant.departments[0].id, title="Python Developer", description="APIs.",
        required_skills=["python"])), metadata=auth(staff))).job
    await api.jobs.GenerateQuestions(jpb.GenerateQuestionsRequest(
        id=job.id, count=3, exclude_behavioral=True), metadata=auth(staff))
    created = (await api.interviews.ScheduleInterview(ipb.ScheduleInterviewRequest(
        interview=interview_pb2.Interview(
            job_id=job.id, language="en", mode=interview_pb2.INTERVIEW_MODE_DYNAMIC,
            scheduled_time=ts(datetime.now(UTC) - timedelta(minutes=1)),
            candidate=interview_pb2.Candidate(
                full_name="Alan Turing", email=f"at-{uuid.uuid4().hex[:8]}@example.com"))),
        metadata=auth(staff))).interview
    [mail] = await outbox(platform, created.id)
    me = auth(link_token(platform, mail.text_body))
    await api.candidate.StartInterview(cpb.StartInterviewRequest(id=created.id), metadata=me)
    first = (await api.candidate.GetNextQuestion(cpb.GetNextQuestionRequest(id=created.id),
                                                 metadata=me)).question
    same = (await api.candidate.GetNextQuestion(cpb.GetNextQuestionRequest(id=created.id),
                                                metadata=me)).question
    assert same == first and first.position == 1
    await api.candidate.SubmitAnswer(cpb.SubmitAnswerRequest(
        id=created.id, question_id=first.id, text=OFF_TOPIC), metadata=me)
    second = (await api.candidate.GetNextQuestion(cpb.GetNextQuestionRequest(id=created.id),
                                                  metadata=me)).question
    assert second.id != first.id and second.position == 2
    asked = await records(api, staff, created.id)
    assert {r.kind for r in asked} >= {"follow_up", "evaluate_answer"}
    follow = [r for r in asked if r.kind == "follow_up"]
    assert '"probe"' in follow[0].output_json or '"probe"' in follow[-1].output_json
    pinned = await fails(api.candidate.SubmitAnswer(cpb.SubmitAnswerRequest(
        id=created.id, question_id="not-asked", text="x"), metadata=me),
        grpc.StatusCode.NOT_FOUND, "QUESTION_NOT_FOUND")
    assert pinned.details()
    await api.candidate.SubmitAnswer(cpb.SubmitAnswerRequest(
        id=created.id, question_id=second.id, text=GOOD), metadata=me)
    third = (await api.candidate.GetNextQuestion(cpb.GetNextQuestionRequest(id=created.id),
                                                 metadata=me)).question
    await api.candidate.SubmitAnswer(cpb.SubmitAnswerRequest(
        id=created.id, question_id=third.id, text=GOOD), metadata=me)
    done = await api.candidate.GetNextQuestion(cpb.GetNextQuestionRequest(id=created.id),
                                               metadata=me)
    assert done.done
    await api.candidate.CompleteInterview(cpb.CompleteInterviewRequest(id=created.id),
                                          metadata=me)
    e = await evaluated(api, staff, created.id)
    assert [q.question_id for q in e.ai.question_scores] == [first.id, second.id, third.id]


async def test_concurrent_next_question_calls_store_one_question(
        api: Api, platform: Platform, tenant: Tenant) -> None:
    """The AI chooses outside any transaction; two calls racing for the next question of a
    DYNAMIC interview show the same stored question, and only one is stored."""
    from sqlalchemy import func, select

    from server.storage.orm import InterviewQuestionRow

    staff = tenant.members[0].token
    job = (await api.jobs.CreateJob(jpb.CreateJobRequest(job=job_pb2.Job(
        department_id=tenant.departments[0].id, title="Python Developer", description="APIs.",
        required_skills=["python"])), metadata=auth(staff))).job
    await api.jobs.GenerateQuestions(jpb.GenerateQuestionsRequest(
        id=job.id, count=3, exclude_behavioral=True), metadata=auth(staff))
    created = (await api.interviews.ScheduleInterview(ipb.ScheduleInterviewRequest(
        interview=interview_pb2.Interview(
            job_id=job.id, language="en", mode=interview_pb2.INTERVIEW_MODE_DYNAMIC,
            scheduled_time=ts(datetime.now(UTC) - timedelta(minutes=1)),
            candidate=interview_pb2.Candidate(
                full_name="Barbara Liskov", email=f"bl-{uuid.uuid4().hex[:8]}@example.com"))),
        metadata=auth(staff))).interview
    [mail] = await outbox(platform, created.id)
    me = auth(link_token(platform, mail.text_body))
    await api.candidate.StartInterview(cpb.StartInterviewRequest(id=created.id), metadata=me)
    first = (await api.candidate.GetNextQuestion(cpb.GetNextQuestionRequest(id=created.id),
                                                 metadata=me)).question
    await api.candidate.SubmitAnswer(cpb.SubmitAnswerRequest(
        id=created.id, question_id=first.id, text=GOOD), metadata=me)
    racing = await asyncio.gather(*(api.candidate.GetNextQuestion(
        cpb.GetNextQuestionRequest(id=created.id), metadata=me) for _ in range(4)))
    assert len({r.question.id for r in racing}) == 1 and racing[0].question.position == 2
    async with platform.db.sessions() as s:
        stored = await s.scalar(select(func.count()).select_from(InterviewQuestionRow).where(
            InterviewQuestionRow.interview_id == uuid.UUID(created.id)))
    assert stored == 2


# --- Gemini through the real google-genai client against a fake ---------------------------


@pytest.fixture
async def gemini_platform(new_database: Callable[[], Awaitable[str]], data_dir: Path
                          ) -> AsyncIterator[tuple[Platform, Api, FakeGemini]]:
    with FakeGemini(default_score=72) as fake:
        settings = fast_settings(data_dir=data_dir, ai_provider="gemini",
                                 gemini_api_key="test-key", gemini_base_url=fake.base_url,
                                 gemini_max_attempts=2, gemini_timeout_seconds=5,
                                 ai_stability_runs=2)
        p = await start_platform(settings, await new_database())
        try:
            async with aio.insecure_channel(f"127.0.0.1:{p.port}") as channel:
                yield p, Api(channel), fake
        finally:
            await p.stop(grace=1.0)


async def gemini_world(p: Platform, api: Api) -> tuple[Tenant, job_pb2.Job]:
    tenant = await tenant_on(p, api)
    job = await make_job(api, tenant.members[0].token, tenant.departments[0].id)
    return tenant, job


async def test_gemini_evaluation_comes_from_the_provider_and_is_recorded(
        gemini_platform: tuple[Platform, Api, FakeGemini]) -> None:
    p, api, fake = gemini_platform
    tenant, job = await gemini_world(p, api)
    staff = tenant.members[0].token
    taken = await take(api, p, staff, job.id,
                       answers={"lists": (GOOD, ""), "sum": ("Add them.", SUM_CODE)})
    e = await evaluated(api, staff, taken.id)
    assert e.state == evaluation_pb2.EVALUATION_STATE_DONE, e.failure_reason
    assert e.ai.provider == "gemini" and not e.ai.fallback
    assert [q.score for q in e.ai.question_scores] == [72, 72]  # the fake's answers
    assert e.ai.stability.runs == 2 and e.ai.stability.max_spread == 0
    kept = await records(api, staff, taken.id)
    # 2 answers x 2 stability runs + 1 summary, every one a Gemini call with its tokens.
    assert len(kept) == 5 == fake.calls
    assert all(r.provider == "gemini" and r.model and r.prompt_tokens > 0 for r in kept)
    assert any(GOOD in r.prompt for r in fake.requests)
    assert all("Ada Lovelace" not in r.prompt for r in fake.requests)  # no PII to the AI


async def test_gemini_failure_falls_back_to_local_and_says_so(
        gemini_platform: tuple[Platform, Api, FakeGemini]) -> None:
    p, api, fake = gemini_platform
    tenant, job = await gemini_world(p, api)
    staff = tenant.members[0].token
    fake.error(500, times=1000)
    taken = await take(api, p, staff, job.id, answers={"lists": (GOOD, "")})
    e = await evaluated(api, staff, taken.id)
    assert e.state == evaluation_pb2.EVALUATION_STATE_DONE, e.failure_reason
    assert e.ai.fallback and e.ai.fallback_reason == "UPSTREAM_ERROR"
    assert e.ai.provider == "local"
    assert e.ai.question_scores[0].score > 0
    kept = await records(api, staff, taken.id)
    failed = [r for r in kept if r.provider == "gemini"]
    local = [r for r in kept if r.provider == "local"]
    assert failed and all('"UPSTREAM_ERROR"' in r.output_json for r in failed)
    assert local and all(r.fallback_reason == "UPSTREAM_ERROR" for r in local)
    health = (await api.jobs.GetJob(jpb.GetJobRequest(id=job.id), metadata=auth(staff))).job
    assert health.id == job.id  # the server is still serving
