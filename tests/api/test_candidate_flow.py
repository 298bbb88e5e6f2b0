"""CandidateService against a real server, PostgreSQL and Envoy: the candidate takes the
interview with the link token from the invitation email — public view, start, questions in order,
text and code answers (one per question, idempotent), complete — and the recruiter reads the
answers. Wrong, revoked and foreign tokens, staff tokens, the window and the secrecy of expected
answers, rubrics and hidden tests."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import httpx
import pytest
from interviewplatform.v1 import audit_service_pb2 as apb
from interviewplatform.v1 import candidate_service_pb2 as cpb
from interviewplatform.v1 import candidate_service_pb2_grpc, interview_pb2, job_pb2
from interviewplatform.v1 import interview_service_pb2 as ipb
from interviewplatform.v1 import job_service_pb2 as jpb

from server.app import Platform
from tests.api.test_interviews import link_token, outbox, ts
from tests.factories import Api, Tenant, auth
from tests.helpers import fails

SECRETS = ("EXPECTED-ANSWER-alpha", "KEYWORD-beta", "RUBRIC-gamma criterion",
           "RUBRIC-DESC-delta", "HIDDEN-INPUT-epsilon", "HIDDEN-OUTPUT-zeta",
           "EXPECTED-ANSWER-eta")


def questions() -> list[job_pb2.Question]:
    return [
        job_pb2.Question(
            id="why", type=job_pb2.QUESTION_TYPE_BEHAVIORAL, difficulty=job_pb2.DIFFICULTY_EASY,
            texts=[job_pb2.LocalizedText(language="en", text="Why this job?"),
                   job_pb2.LocalizedText(language="fr", text="Pourquoi ce poste ?")],
            expected_answer=SECRETS[0], keywords=[SECRETS[1]],
            rubric=[job_pb2.RubricCriterion(name=SECRETS[2], description=SECRETS[3],
                                            weight=1)]),
        job_pb2.Question(
            id="sum", type=job_pb2.QUESTION_TYPE_CODING, difficulty=job_pb2.DIFFICULTY_MEDIUM,
            texts=[job_pb2.LocalizedText(language="en", text="Add two numbers.")],
            starter_code="def add(a, b):\n    pass\n", code_language="python",
            examples=[job_pb2.TestCase(input="1 2", expected_output="3")],
            hidden_tests=[job_pb2.TestCase(input=SECRETS[4], expected_output=SECRETS[5])],
            expected_answer=SECRETS[6]),
    ]


@pytest.fixture
async def job(api: Api, tenant: Tenant) -> job_pb2.Job:
    token = tenant.admin.token
    job = await api.job(token, tenant.departments[0].id, title="Platform Engineer")
    await api.jobs.CreateQuestionSet(jpb.CreateQuestionSetRequest(
        job_id=job.id, questions=questions()), metadata=auth(token))
    return job


@pytest.fixture
def candidate(api: Api) -> candidate_service_pb2_grpc.CandidateServiceStub:
    return candidate_service_pb2_grpc.CandidateServiceStub(api.channel)


def later(**delta: float) -> datetime:
    return (datetime.now(UTC) + timedelta(**delta)).replace(microsecond=0)


async def invite(api: Api, platform: Platform, token: str, job_id: str, *,
                 start: datetime | None = None, end: datetime | None = None,
                 mode: interview_pb2.InterviewMode.ValueType = interview_pb2.INTERVIEW_MODE_STATIC,
                 language: str = "en") -> tuple[interview_pb2.Interview, str]:
    """Schedule an interview and take the link token from the invitation email."""
    i = interview_pb2.Interview(
        job_id=job_id, language=language, mode=mode,
        scheduled_time=ts(start or later(seconds=-60)),
        candidate=interview_pb2.Candidate(full_name="Grace Hopper",
                                          email=f"grace-{uuid.uuid4().hex[:8]}@example.com"))
    if end is not None:
        i.window_end_time.CopyFrom(ts(end))
    created = (await api.interviews.ScheduleInterview(ipb.ScheduleInterviewRequest(interview=i),
                                                      metadata=auth(token))).interview
    [mail] = await outbox(platform, created.id)
    return created, link_token(platform, mail.text_body)


def assert_no_secrets(*messages: object) -> None:
    for m in messages:
        data = m.SerializeToString() if hasattr(m, "SerializeToString") else str(m).encode()
        for secret in SECRETS:
            assert secret.encode() not in data, (secret, m)


async def test_the_whole_flow_over_grpc(api: Api, platform: Platform, tenant: Tenant,
                                        job: job_pb2.Job,
                                        candidate: candidate_service_pb2_grpc.CandidateServiceStub
                                        ) -> None:
    staff = tenant.members[0].token
    created, token = await invite(api, platform, staff, job.id)
    me = auth(token)
    seen: list[object] = []

    view = (await candidate.GetPublicInterview(cpb.GetPublicInterviewRequest(id=created.id),
                                               metadata=me)).interview
    seen.append(view)
    assert (view.id, view.job_title, view.company_name) == (created.id, "Platform Engineer",
                                                            tenant.company.name)
    assert view.status == interview_pb2.INTERVIEW_STATUS_SCHEDULED
    assert (view.question_count, view.answered_count) == (2, 0)
    # Nothing to answer before the start.
    await fails(candidate.GetNextQuestion(cpb.GetNextQuestionRequest(id=created.id), metadata=me),
                grpc.StatusCode.FAILED_PRECONDITION, "INTERVIEW_NOT_STARTED")

    started = (await candidate.StartInterview(cpb.StartInterviewRequest(id=created.id),
                                              metadata=me)).interview
    assert started.status == interview_pb2.INTERVIEW_STATUS_IN_PROGRESS
    again = (await candidate.StartInterview(cpb.StartInterviewRequest(id=created.id),
                                            metadata=me)).interview
    assert again.status == interview_pb2.INTERVIEW_STATUS_IN_PROGRESS
    seen += [started, again]

    first = await candidate.GetNextQuestion(cpb.GetNextQuestionRequest(id=created.id),
                                            metadata=me)
    seen.append(first)
    assert (first.question.id, first.question.position, first.question.text) == (
        "why", 1, "Why this job?")
    assert not first.done
    # Code answers only coding questions; an empty answer is refused.
    await fails(candidate.SubmitAnswer(cpb.SubmitAnswerRequest(
        id=created.id, question_id="why", code="print(1)"), metadata=me),
        grpc.StatusCode.INVALID_ARGUMENT, "CODE_NOT_EXPECTED")
    await fails(candidate.SubmitAnswer(cpb.SubmitAnswerRequest(
        id=created.id, question_id="why", text="  "), metadata=me),
        grpc.StatusCode.INVALID_ARGUMENT, "ANSWER_EMPTY")
    await fails(candidate.SubmitAnswer(cpb.SubmitAnswerRequest(
        id=created.id, question_id="nope", text="x"), metadata=me),
        grpc.StatusCode.NOT_FOUND, "QUESTION_NOT_FOUND")

    request_id = str(uuid.uuid4())
    answered = (await candidate.SubmitAnswer(cpb.SubmitAnswerRequest(
        id=created.id, question_id="why", text="I like compilers.", request_id=request_id),
        metadata=me)).answer
    assert (answered.question_id, answered.position, answered.text) == (
        "why", 1, "I like compilers.")
    # Idempotent: the same answer (or the same request id) returns the stored one.
    same = (await candidate.SubmitAnswer(cpb.SubmitAnswerRequest(
        id=created.id, question_id="why", text="I like compilers."), metadata=me)).answer
    assert same == answered
    retry = (await candidate.SubmitAnswer(cpb.SubmitAnswerRequest(
        id=created.id, question_id="why", text="I like compilers.", request_id=request_id),
        metadata=me)).answer
    assert retry == answered
    await fails(candidate.SubmitAnswer(cpb.SubmitAnswerRequest(
        id=created.id, question_id="why", text="Something else."), metadata=me),
        grpc.StatusCode.ALREADY_EXISTS, "ANSWER_EXISTS")

    second = await candidate.GetNextQuestion(cpb.GetNextQuestionRequest(id=created.id),
                                             metadata=me)
    seen.append(second)
    q = second.question
    assert (q.id, q.position, q.code_language) == ("sum", 2, "python")
    assert q.starter_code.startswith("def add") and [e.input for e in q.examples] == ["1 2"]
    code = (await candidate.SubmitAnswer(cpb.SubmitAnswerRequest(
        id=created.id, question_id="sum", code="def add(a, b):\n    return a + b\n"),
        metadata=me)).answer
    assert (code.code_language, code.position) == ("python", 2)
    seen += [answered, code]

    done = await candidate.GetNextQuestion(cpb.GetNextQuestionRequest(id=created.id),
                                           metadata=me)
    assert done.done and not done.HasField("question")
    completed = (await candidate.CompleteInterview(cpb.CompleteInterviewRequest(id=created.id),
                                                   metadata=me)).interview
    assert completed.status == interview_pb2.INTERVIEW_STATUS_COMPLETED
    assert completed.answered_count == 2
    seen.append(completed)
    await fails(candidate.SubmitAnswer(cpb.SubmitAnswerRequest(
        id=created.id, question_id="sum", code="x = 1"), metadata=me),
        grpc.StatusCode.FAILED_PRECONDITION, "INTERVIEW_COMPLETED")
    assert_no_secrets(*seen)

    # The recruiter reads it completed with all answers.
    got = await api.interviews.GetInterview(ipb.GetInterviewRequest(id=created.id),
                                            metadata=auth(staff))
    assert got.interview.status == interview_pb2.INTERVIEW_STATUS_COMPLETED
    assert [(a.question_id, a.text, a.code) for a in got.answers] == [
        ("why", "I like compilers.", ""), ("sum", "", "def add(a, b):\n    return a + b\n")]

    # Audit: start, answers (question ids only) and complete, without an actor.
    events = (await api.audit.ListAuditEvents(apb.ListAuditEventsRequest(
        resource=f"interviews/{created.id}"), metadata=auth(tenant.admin.token))).audit_events
    actions = [e.action for e in reversed(events)]  # newest first
    assert actions == ["interview.schedule", "interview.start", "interview.answer",
                       "interview.answer", "interview.complete"], actions
    assert not any(e.actor_id for e in events[:-1])
    assert "compilers" not in str(events)


async def test_tokens_are_bound_to_their_interview_and_revoked_on_cancel(
        api: Api, platform: Platform, tenant: Tenant, job: job_pb2.Job,
        candidate: candidate_service_pb2_grpc.CandidateServiceStub) -> None:
    staff = tenant.admin.token
    one, token_one = await invite(api, platform, staff, job.id)
    two, token_two = await invite(api, platform, staff, job.id)
    # Another interview's id with this token: NOT_FOUND.
    await fails(candidate.GetPublicInterview(cpb.GetPublicInterviewRequest(id=two.id),
                                             metadata=auth(token_one)),
                grpc.StatusCode.NOT_FOUND, "INTERVIEW_NOT_FOUND")
    # A staff token and a made-up token are no link token; no token at all is TOKEN_MISSING.
    for bad in (staff, "not-a-real-token-" + "x" * 30):
        await fails(candidate.StartInterview(cpb.StartInterviewRequest(id=one.id),
                                             metadata=auth(bad)),
                    grpc.StatusCode.UNAUTHENTICATED, "CANDIDATE_TOKEN_INVALID")
    await fails(candidate.StartInterview(cpb.StartInterviewRequest(id=one.id)),
                grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MISSING")
    # A link token is no staff token.
    await fails(api.interviews.GetInterview(ipb.GetInterviewRequest(id=one.id),
                                            metadata=auth(token_one)),
                grpc.StatusCode.UNAUTHENTICATED, "TOKEN_INVALID")
    # Cancelled: the token stops working.
    await api.interviews.CancelInterview(ipb.CancelInterviewRequest(id=one.id),
                                         metadata=auth(staff))
    await fails(candidate.GetPublicInterview(cpb.GetPublicInterviewRequest(id=one.id),
                                             metadata=auth(token_one)),
                grpc.StatusCode.UNAUTHENTICATED, "CANDIDATE_TOKEN_REVOKED")
    # Not yet within the window.
    future, token_future = await invite(api, platform, staff, job.id, start=later(hours=2))
    await fails(candidate.StartInterview(cpb.StartInterviewRequest(id=future.id),
                                         metadata=auth(token_future)),
                grpc.StatusCode.FAILED_PRECONDITION, "NOT_STARTED_YET")
    assert token_two


async def test_the_window_end_bounds_everything(
        api: Api, platform: Platform, tenant: Tenant, job: job_pb2.Job,
        candidate: candidate_service_pb2_grpc.CandidateServiceStub) -> None:
    staff = tenant.admin.token
    end = datetime.now(UTC) + timedelta(seconds=2)
    created, token = await invite(api, platform, staff, job.id, start=later(seconds=-30),
                                  end=end)
    me = auth(token)
    await candidate.StartInterview(cpb.StartInterviewRequest(id=created.id), metadata=me)
    await asyncio.sleep(max(0.0, (end - datetime.now(UTC)).total_seconds()) + 0.2)
    await fails(candidate.SubmitAnswer(cpb.SubmitAnswerRequest(
        id=created.id, question_id="why", text="late"), metadata=me),
        grpc.StatusCode.FAILED_PRECONDITION, "INTERVIEW_EXPIRED")
    got = await api.interviews.GetInterview(ipb.GetInterviewRequest(id=created.id),
                                            metadata=auth(staff))
    assert got.interview.status == interview_pb2.INTERVIEW_STATUS_EXPIRED
    assert not got.answers
    await fails(candidate.GetPublicInterview(cpb.GetPublicInterviewRequest(id=created.id),
                                             metadata=me),
                grpc.StatusCode.FAILED_PRECONDITION, "INTERVIEW_EXPIRED")


async def test_dynamic_mode_uses_the_provider(
        api: Api, platform: Platform, tenant: Tenant, job: job_pb2.Job,
        candidate: candidate_service_pb2_grpc.CandidateServiceStub) -> None:
    created, token = await invite(api, platform, tenant.admin.token, job.id,
                                  mode=interview_pb2.INTERVIEW_MODE_DYNAMIC, language="fr")
    me = auth(token)
    await candidate.StartInterview(cpb.StartInterviewRequest(id=created.id), metadata=me)
    first = await candidate.GetNextQuestion(cpb.GetNextQuestionRequest(id=created.id),
                                            metadata=me)
    assert (first.question.id, first.question.language, first.question.text) == (
        "why", "fr", "Pourquoi ce poste ?")
    # No French text: the set's default language.
    await candidate.SubmitAnswer(cpb.SubmitAnswerRequest(id=created.id, question_id="why",
                                                         text="Parce que."), metadata=me)
    second = await candidate.GetNextQuestion(cpb.GetNextQuestionRequest(id=created.id),
                                             metadata=me)
    # A weak answer is probed: the missed concept (the question's keyword), in French.
    assert (second.question.id, second.question.language) == ("why-probe", "fr")
    assert SECRETS[1] in second.question.text and "Pourquoi ce poste ?" in second.question.text
    assert_no_secrets(first)
    # Probes name the concept they ask about; nothing else hidden is shown.
    data = second.SerializeToString()
    assert not [s for s in SECRETS if s != SECRETS[1] and s.encode() in data]


async def test_the_flow_through_rest(http: httpx.AsyncClient, api: Api, platform: Platform,
                                     tenant: Tenant, job: job_pb2.Job) -> None:
    created, token = await invite(api, platform, tenant.admin.token, job.id)
    headers = {"authorization": f"Bearer {token}"}
    base = f"/v1/interviews/{created.id}"
    bodies: list[str] = []

    r = await http.get(f"{base}:public", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["interview"]["jobTitle"] == "Platform Engineer"
    bodies.append(r.text)
    r = await http.post(f"{base}:start", headers=headers, json={})
    assert r.status_code == 200, r.text
    assert r.json()["interview"]["status"] == "INTERVIEW_STATUS_IN_PROGRESS"
    bodies.append(r.text)
    for expected, answer in (("why", {"text": "Because."}),
                             ("sum", {"code": "def add(a, b): return a + b"})):
        r = await http.get(f"{base}:nextQuestion", headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["question"]["id"] == expected
        bodies.append(r.text)
        r = await http.post(f"{base}/answers", headers=headers,
                            json={"questionId": expected, **answer})
        assert r.status_code == 200, r.text
        bodies.append(r.text)
    r = await http.post(f"{base}/answers", headers=headers,
                        json={"questionId": "why", "text": "Changed my mind."})
    assert r.status_code == 409 and "ANSWER_EXISTS" in r.text, r.text
    r = await http.get(f"{base}:nextQuestion", headers=headers)
    assert r.status_code == 200 and r.json()["done"] is True, r.text
    r = await http.post(f"{base}:complete", headers=headers, json={})
    assert r.status_code == 200, r.text
    assert r.json()["interview"]["status"] == "INTERVIEW_STATUS_COMPLETED"
    for body in bodies:
        for secret in SECRETS:
            assert secret not in body

    # A staff token on a candidate route: 401; the recruiter reads the answers over REST.
    staff = {"authorization": f"Bearer {tenant.admin.token}"}
    r = await http.get(f"{base}:public", headers=staff)
    assert r.status_code == 401 and "CANDIDATE_TOKEN_INVALID" in r.text, r.text
    r = await http.get(base, headers=staff)
    assert r.status_code == 200, r.text
    assert [a["questionId"] for a in r.json()["answers"]] == ["why", "sum"]
