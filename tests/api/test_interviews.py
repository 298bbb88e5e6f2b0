"""InterviewService against a real server and PostgreSQL: scheduling with a sniffed resume and a
pinned question set version, idempotent schedules, keyset lists with filters, reschedule and
cancel through the lifecycle state machine, the candidate's hashed link tokens, the emails
written to the outbox in the candidate's language, tenant scoping, and REST through Envoy."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta

import grpc
import httpx
import pytest
from google.protobuf import timestamp_pb2
from grpc import aio
from interviewplatform.v1 import audit_service_pb2 as apb
from interviewplatform.v1 import interview_pb2, job_pb2
from interviewplatform.v1 import interview_service_pb2 as pb
from interviewplatform.v1 import job_service_pb2 as jpb
from sqlalchemy import select

from server.app import Platform
from server.domain.models import Role
from server.providers import documents
from server.storage.orm import CandidateTokenRow, EmailOutboxRow
from tests.documents import PNG, pdf
from tests.factories import Api, Tenant, auth
from tests.helpers import error_info

SCHEDULED = interview_pb2.INTERVIEW_STATUS_SCHEDULED
CANCELLED = interview_pb2.INTERVIEW_STATUS_CANCELLED


async def fails(call: Awaitable[object], code: grpc.StatusCode,
                reason: str | None = None) -> aio.AioRpcError:
    with pytest.raises(aio.AioRpcError) as err:
        await call
    assert err.value.code() == code, (err.value.code(), err.value.details())
    if reason is not None:
        assert error_info(err.value)[0] == reason, err.value.details()
    return err.value


def ts(value: datetime) -> timestamp_pb2.Timestamp:
    out = timestamp_pb2.Timestamp()
    out.FromDatetime(value)
    return out


def later(**delta: float) -> datetime:
    return (datetime.now(UTC) + timedelta(**delta)).replace(microsecond=0)


def new(job_id: str, *, language: str = "en", start: datetime | None = None,
        end: datetime | None = None, email: str | None = None, file_name: str = "",
        **candidate: object) -> interview_pb2.Interview:
    i = interview_pb2.Interview(
        job_id=job_id, language=language, mode=interview_pb2.INTERVIEW_MODE_DYNAMIC,
        domain="backend", difficulty=job_pb2.DIFFICULTY_MEDIUM,
        scheduled_time=ts(start or later(days=1)),
        candidate=interview_pb2.Candidate(
            full_name="Ada Lovelace", email=email or f"ada-{uuid.uuid4().hex[:8]}@example.com",
            phone="+1 555 0100", **candidate),  # type: ignore[arg-type]
        resume=interview_pb2.Resume(file_name=file_name))
    if end is not None:
        i.window_end_time.CopyFrom(ts(end))
    return i


def schedule_call(api: Api, token: str, interview: interview_pb2.Interview, *,
                  resume: bytes = b"", request_id: str = ""
                  ) -> Awaitable[pb.ScheduleInterviewResponse]:
    call: Awaitable[pb.ScheduleInterviewResponse] = api.interviews.ScheduleInterview(
        pb.ScheduleInterviewRequest(interview=interview, resume_file=resume,
                                    request_id=request_id), metadata=auth(token))
    return call


async def schedule(api: Api, token: str, interview: interview_pb2.Interview,
                   **kw: object) -> interview_pb2.Interview:
    response = await schedule_call(api, token, interview, **kw)  # type: ignore[arg-type]
    created: interview_pb2.Interview = response.interview
    return created


async def get(api: Api, token: str, interview_id: str) -> interview_pb2.Interview:
    found: interview_pb2.Interview = (await api.interviews.GetInterview(
        pb.GetInterviewRequest(id=interview_id), metadata=auth(token))).interview
    return found


async def outbox(platform: Platform, interview_id: str) -> list[EmailOutboxRow]:
    async with platform.db.sessions() as s:
        rows = await s.scalars(select(EmailOutboxRow)
                               .where(EmailOutboxRow.resource == f"interviews/{interview_id}")
                               .order_by(EmailOutboxRow.created_at))
        return list(rows.all())


async def tokens(platform: Platform, interview_id: str) -> list[CandidateTokenRow]:
    async with platform.db.sessions() as s:
        rows = await s.scalars(select(CandidateTokenRow)
                               .where(CandidateTokenRow.interview_id == uuid.UUID(interview_id))
                               .order_by(CandidateTokenRow.created_at))
        return list(rows.all())


def link_token(platform: Platform, text: str) -> str:
    base = re.escape(platform.settings.public_base_url.rstrip("/"))
    match = re.search(base + r"/interview\?token=([A-Za-z0-9_-]{32,})", text)
    assert match, text
    return match.group(1)


def sha(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@pytest.fixture
async def job(api: Api, tenant: Tenant) -> job_pb2.Job:
    """A job of department A1 with one question set version."""
    return await api.job_with_questions(tenant.admin.token, tenant.departments[0].id)


async def test_schedule_with_a_text_resume_invites_in_the_candidates_language(
        api: Api, tenant: Tenant, job: job_pb2.Job, platform: Platform) -> None:
    member = tenant.members[0]
    resume = "Ada Lovelace — analytical engines, 10 years.\n".encode()
    start, end = later(days=2), later(days=3)
    created = await schedule(api, member.token,
                             new(job.id, language="ja", start=start, end=end,
                                 file_name="ada.txt", age=36, sex=interview_pb2.SEX_FEMALE),
                             resume=resume)
    assert created.status == SCHEDULED
    assert created.question_set_version == 1
    assert (created.company_id, created.department_id) == (tenant.company.id,
                                                           tenant.departments[0].id)
    assert created.scheduled_time.ToDatetime(UTC) == start
    assert created.window_end_time.ToDatetime(UTC) == end
    assert created.mode == interview_pb2.INTERVIEW_MODE_DYNAMIC and created.language == "ja"
    assert created.candidate.age == 36 and created.candidate.sex == interview_pb2.SEX_FEMALE
    assert created.resume.file_name == "ada.txt"
    assert created.resume.media_type == documents.TEXT
    assert created.resume.sha256 == hashlib.sha256(resume).hexdigest()
    assert created.resume.size_bytes == len(resume)
    assert await get(api, tenant.admin.token, created.id) == created

    # One invitation, in Japanese, with the link; the token is stored hashed until window end.
    [mail] = await outbox(platform, created.id)
    assert (mail.kind, mail.language, mail.to_address) == ("invitation", "ja",
                                                           created.candidate.email)
    assert "面接" in mail.subject and job.title in mail.subject
    token = link_token(platform, mail.text_body)
    assert token in mail.html_body
    [stored] = await tokens(platform, created.id)
    assert stored.token_hash == sha(token) and stored.revoked_at is None
    assert stored.expires_at == end

    # Delivery is queued after the commit (the in-process worker writes the maildir).
    for _ in range(100):
        if (await outbox(platform, created.id))[0].status == "sent":
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the invitation was not delivered")

    # The audit log has the schedule, without age, sex, the resume or the token.
    events = (await api.audit.ListAuditEvents(
        apb.ListAuditEventsRequest(resource=f"interviews/{created.id}"),
        metadata=auth(tenant.admin.token))).audit_events
    assert [e.action for e in events] == ["interview.schedule"]
    fields = {c.field: c.after for c in events[0].changes}
    assert fields["candidate_email"] == created.candidate.email
    assert fields["resume_sha256"] == created.resume.sha256
    assert not {"candidate_age", "candidate_sex", "age", "sex", "token"} & set(fields)
    said = str(events[0])
    assert token not in said and "female" not in said.lower()


async def test_schedule_with_a_pdf_resume(api: Api, tenant: Tenant, job: job_pb2.Job) -> None:
    data = pdf("Grace Hopper, compilers")
    created = await schedule(api, tenant.admin.token, new(job.id, file_name="grace.pdf"),
                             resume=data)
    assert created.resume.media_type == documents.PDF
    assert created.resume.sha256 == hashlib.sha256(data).hexdigest()
    assert not created.candidate.HasField("age")
    assert created.candidate.sex == interview_pb2.SEX_UNSPECIFIED
    # Without a resume there is none.
    plain = await schedule(api, tenant.admin.token, new(job.id))
    assert not plain.HasField("resume")


async def test_bad_resumes_and_requests_are_refused(api: Api, tenant: Tenant,
                                                    job: job_pb2.Job) -> None:
    token = tenant.admin.token
    ok = new(job.id)
    await fails(schedule_call(api, token, ok, resume=PNG), grpc.StatusCode.INVALID_ARGUMENT,
                "UNSUPPORTED_FILE_TYPE")
    await fails(schedule_call(api, token, ok, resume=b"a" * (11 * 1024 * 1024)),
                grpc.StatusCode.INVALID_ARGUMENT)
    await fails(schedule_call(api, token, new(job.id, file_name="cv.pdf")),
                grpc.StatusCode.INVALID_ARGUMENT, "RESUME_FILE_MISSING")
    await fails(schedule_call(api, token, new(job.id, language="xx")),
                grpc.StatusCode.INVALID_ARGUMENT)
    await fails(schedule_call(api, token, new(job.id, language="")),
                grpc.StatusCode.INVALID_ARGUMENT, "LANGUAGE_REQUIRED")
    await fails(schedule_call(api, token, new(job.id, start=later(days=-3), end=later(days=-2))),
                grpc.StatusCode.INVALID_ARGUMENT, "WINDOW_IN_PAST")
    await fails(schedule_call(api, token, new(job.id, start=later(days=2), end=later(days=1))),
                grpc.StatusCode.INVALID_ARGUMENT, "INVALID_WINDOW")
    no_time = new(job.id)
    no_time.ClearField("scheduled_time")
    await fails(schedule_call(api, token, no_time), grpc.StatusCode.INVALID_ARGUMENT,
                "SCHEDULED_TIME_REQUIRED")
    await fails(schedule_call(api, token, new(job.id, age=3)), grpc.StatusCode.INVALID_ARGUMENT)


async def test_jobs_without_questions_or_inactive_cannot_be_scheduled(
        api: Api, tenant: Tenant, job: job_pb2.Job) -> None:
    token = tenant.admin.token
    bare = await api.job(token, tenant.departments[0].id)
    await fails(schedule_call(api, token, new(bare.id)), grpc.StatusCode.FAILED_PRECONDITION,
                "QUESTION_SET_MISSING")
    await api.jobs.DeactivateJob(jpb.DeactivateJobRequest(id=job.id), metadata=auth(token))
    await fails(schedule_call(api, token, new(job.id)), grpc.StatusCode.FAILED_PRECONDITION,
                "JOB_INACTIVE")
    await fails(schedule_call(api, token, new(str(uuid.uuid4()))), grpc.StatusCode.NOT_FOUND,
                "JOB_NOT_FOUND")


async def test_schedule_is_idempotent_with_one_invitation(
        api: Api, tenant: Tenant, job: job_pb2.Job, platform: Platform) -> None:
    request_id = str(uuid.uuid4())
    interview = new(job.id)
    first = await schedule(api, tenant.admin.token, interview, request_id=request_id)
    again = await schedule(api, tenant.admin.token, interview, request_id=request_id)
    assert again == first
    assert [m.kind for m in await outbox(platform, first.id)] == ["invitation"]
    assert len(await tokens(platform, first.id)) == 1
    other = new(job.id, email="someone.else@example.com")
    await fails(schedule_call(api, tenant.admin.token, other, request_id=request_id),
                grpc.StatusCode.FAILED_PRECONDITION, "REQUEST_ID_REUSED")


async def test_the_question_set_version_is_pinned(api: Api, tenant: Tenant,
                                                  job: job_pb2.Job) -> None:
    token = tenant.admin.token
    first = await schedule(api, token, new(job.id))
    await api.jobs.CreateQuestionSet(jpb.CreateQuestionSetRequest(
        job_id=job.id, questions=[job_pb2.Question(
            type=job_pb2.QUESTION_TYPE_BEHAVIORAL, difficulty=job_pb2.DIFFICULTY_HARD,
            texts=[job_pb2.LocalizedText(language="en", text="Tell me about a conflict.")])]),
        metadata=auth(token))
    assert (await get(api, token, first.id)).question_set_version == 1
    assert (await schedule(api, token, new(job.id))).question_set_version == 2


async def test_tenant_and_department_scoping(api: Api, tenant: Tenant, root_token: str,
                                             job: job_pb2.Job) -> None:
    created = await schedule(api, tenant.admin.token, new(job.id))
    a2_user = tenant.members[1]
    await fails(api.interviews.GetInterview(pb.GetInterviewRequest(id=created.id),
                                            metadata=auth(a2_user.token)),
                grpc.StatusCode.NOT_FOUND, "INTERVIEW_NOT_FOUND")
    await fails(schedule_call(api, a2_user.token, new(job.id)), grpc.StatusCode.NOT_FOUND,
                "JOB_NOT_FOUND")
    other = await api.user(root_token, role=Role.COMPANY_ADMIN,
                           company_id=(await api.company(root_token)).id)
    other_token = await api.token(other.email)
    for call in (api.interviews.GetInterview(pb.GetInterviewRequest(id=created.id),
                                             metadata=auth(other_token)),
                 api.interviews.CancelInterview(pb.CancelInterviewRequest(id=created.id),
                                                metadata=auth(other_token)),
                 api.interviews.RescheduleInterview(pb.RescheduleInterviewRequest(
                     id=created.id, scheduled_time=ts(later(days=4))),
                     metadata=auth(other_token))):
        await fails(call, grpc.StatusCode.NOT_FOUND, "INTERVIEW_NOT_FOUND")
    listed = await api.interviews.ListInterviews(pb.ListInterviewsRequest(job_id=job.id),
                                                 metadata=auth(other_token))
    assert not listed.interviews
    assert (await get(api, tenant.admin.token, created.id)).status == SCHEDULED


async def test_list_filters_and_keyset_pages(api: Api, tenant: Tenant,
                                             job: job_pb2.Job) -> None:
    token = tenant.admin.token
    base = later(days=10)
    made = [await schedule(api, token, new(job.id, start=base + timedelta(hours=h)))
            for h in (3, 1, 2, 4)]
    by_time = sorted(made, key=lambda i: i.scheduled_time.ToDatetime(UTC))
    other_job = await api.job_with_questions(token, tenant.departments[1].id)
    in_a2 = await schedule(api, token, new(other_job.id, start=base))

    seen: list[str] = []
    page_token = ""
    while True:
        page = await api.interviews.ListInterviews(pb.ListInterviewsRequest(
            job_id=job.id, page_size=3, page_token=page_token), metadata=auth(token))
        seen += [i.id for i in page.interviews]
        page_token = page.next_page_token
        if not page_token:
            break
    assert seen == [i.id for i in by_time]
    # A token is bound to its filters.
    first = await api.interviews.ListInterviews(pb.ListInterviewsRequest(
        job_id=job.id, page_size=1), metadata=auth(token))
    await fails(api.interviews.ListInterviews(pb.ListInterviewsRequest(
        department_id=job.department_id, page_size=1, page_token=first.next_page_token),
        metadata=auth(token)), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")

    # Time range: [start, end).
    ranged = await api.interviews.ListInterviews(pb.ListInterviewsRequest(
        job_id=job.id, start_time=ts(base + timedelta(hours=2)),
        end_time=ts(base + timedelta(hours=4))), metadata=auth(token))
    assert [i.id for i in ranged.interviews] == [by_time[1].id, by_time[2].id]

    # Department, and status after a cancel.
    a2 = await api.interviews.ListInterviews(pb.ListInterviewsRequest(
        department_id=tenant.departments[1].id), metadata=auth(token))
    assert [i.id for i in a2.interviews] == [in_a2.id]
    await api.interviews.CancelInterview(pb.CancelInterviewRequest(id=by_time[0].id),
                                         metadata=auth(token))
    cancelled = await api.interviews.ListInterviews(pb.ListInterviewsRequest(
        job_id=job.id, status=CANCELLED), metadata=auth(token))
    assert [i.id for i in cancelled.interviews] == [by_time[0].id]
    scheduled = await api.interviews.ListInterviews(pb.ListInterviewsRequest(
        job_id=job.id, status=SCHEDULED), metadata=auth(token))
    assert [i.id for i in scheduled.interviews] == [i.id for i in by_time[1:]]

    # The A1 department user sees A1's interviews only.
    mine = await api.interviews.ListInterviews(pb.ListInterviewsRequest(),
                                               metadata=auth(tenant.members[0].token))
    assert {i.department_id for i in mine.interviews} == {tenant.departments[0].id}
    assert in_a2.id not in {i.id for i in mine.interviews}


async def test_reschedule_sends_a_new_link_and_revokes_the_old(
        api: Api, tenant: Tenant, job: job_pb2.Job, platform: Platform) -> None:
    token = tenant.members[0].token
    created = await schedule(api, token, new(job.id, language="de"))
    [invitation] = await outbox(platform, created.id)
    old = link_token(platform, invitation.text_body)

    await fails(api.interviews.RescheduleInterview(pb.RescheduleInterviewRequest(
        id=created.id, scheduled_time=ts(later(days=5)), etag="999"), metadata=auth(token)),
        grpc.StatusCode.ABORTED, "ETAG_MISMATCH")
    start, end = later(days=5), later(days=5, hours=2)
    moved = (await api.interviews.RescheduleInterview(pb.RescheduleInterviewRequest(
        id=created.id, scheduled_time=ts(start), window_end_time=ts(end), etag=created.etag),
        metadata=auth(token))).interview
    assert moved.status == SCHEDULED and moved.etag != created.etag
    assert moved.scheduled_time.ToDatetime(UTC) == start
    assert moved.window_end_time.ToDatetime(UTC) == end

    mails = await outbox(platform, created.id)
    assert [m.kind for m in mails] == ["invitation", "reschedule"]
    assert mails[1].language == "de" and "Neuer Termin" in mails[1].subject
    assert start.strftime("%Y-%m-%d %H:%M") in mails[1].text_body
    fresh = link_token(platform, mails[1].text_body)
    assert fresh != old
    rows = {bytes(t.token_hash): t for t in await tokens(platform, created.id)}
    assert rows[sha(old)].revoked_at is not None
    assert rows[sha(fresh)].revoked_at is None and rows[sha(fresh)].expires_at == end

    # Without a window end, the window is 24 hours.
    again = (await api.interviews.RescheduleInterview(pb.RescheduleInterviewRequest(
        id=created.id, scheduled_time=ts(start)), metadata=auth(token))).interview
    assert again.window_end_time.ToDatetime(UTC) == start + timedelta(hours=24)


async def test_cancel_then_no_more_changes(api: Api, tenant: Tenant, job: job_pb2.Job,
                                           platform: Platform) -> None:
    token = tenant.admin.token
    created = await schedule(api, token, new(job.id, language="es"))
    cancelled = (await api.interviews.CancelInterview(pb.CancelInterviewRequest(
        id=created.id, reason="  Position filled  ", etag=created.etag),
        metadata=auth(token))).interview
    assert cancelled.status == CANCELLED and cancelled.cancel_reason == "Position filled"
    mails = await outbox(platform, created.id)
    assert [m.kind for m in mails] == ["invitation", "cancellation"]
    assert mails[1].language == "es" and "cancelada" in mails[1].subject
    assert "token=" not in mails[1].text_body and "Position filled" not in mails[1].text_body
    assert all(t.revoked_at is not None for t in await tokens(platform, created.id))

    err = await fails(api.interviews.CancelInterview(pb.CancelInterviewRequest(id=created.id),
                                                     metadata=auth(token)),
                      grpc.StatusCode.FAILED_PRECONDITION, "ILLEGAL_TRANSITION")
    assert error_info(err)[1] == {"status": "cancelled", "event": "cancel"}
    await fails(api.interviews.RescheduleInterview(pb.RescheduleInterviewRequest(
        id=created.id, scheduled_time=ts(later(days=3))), metadata=auth(token)),
        grpc.StatusCode.FAILED_PRECONDITION, "ILLEGAL_TRANSITION")
    assert len(await outbox(platform, created.id)) == 2
    actions = [e.action for e in (await api.audit.ListAuditEvents(
        apb.ListAuditEventsRequest(resource=f"interviews/{created.id}"),
        metadata=auth(token))).audit_events]
    assert sorted(actions) == ["interview.cancel", "interview.schedule"]


async def test_rest_schedule_get_and_cancel(http: httpx.AsyncClient, tenant: Tenant,
                                            job: job_pb2.Job) -> None:
    headers = {"authorization": f"Bearer {tenant.members[0].token}"}
    resume = b"Plain text resume"
    r = await http.post("/v1/interviews", headers=headers, json={
        "interview": {"jobId": job.id, "language": "fr", "mode": "INTERVIEW_MODE_STATIC",
                      "scheduledTime": later(days=1).isoformat().replace("+00:00", "Z"),
                      "candidate": {"fullName": "Marie Curie", "email": "marie@example.com"},
                      "resume": {"fileName": "marie.txt"}},
        "resumeFile": base64.b64encode(resume).decode(), "requestId": str(uuid.uuid4())})
    assert r.status_code == 200, r.text
    body = r.json()["interview"]
    assert body["status"] == "INTERVIEW_STATUS_SCHEDULED"
    assert body["resume"]["sha256"] == hashlib.sha256(resume).hexdigest()
    assert "resumeFile" not in r.text and base64.b64encode(resume).decode() not in r.text
    got = await http.get(f"/v1/interviews/{body['id']}", headers=headers)
    assert got.status_code == 200 and got.json()["interview"]["id"] == body["id"]
    cancel = await http.post(f"/v1/interviews/{body['id']}:cancel", headers=headers,
                             json={"reason": "no longer needed"})
    assert cancel.status_code == 200, cancel.text
    again = await http.post(f"/v1/interviews/{body['id']}:cancel", headers=headers, json={})
    assert again.status_code == 400, again.text
    assert "ILLEGAL_TRANSITION" in again.text
