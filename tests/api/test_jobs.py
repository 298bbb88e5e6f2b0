"""JobService against a real server and PostgreSQL: jobs from text or an uploaded JD file (type
sniffed from the content), idempotent creates, keyset lists with filters, masked and
etag-guarded updates, tenant and department scoping, versioned immutable question sets, and REST
through Envoy."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Awaitable

import grpc
import httpx
import pytest
from google.protobuf import field_mask_pb2
from interviewplatform.v1 import audit_service_pb2 as apb
from interviewplatform.v1 import job_pb2, user_pb2
from interviewplatform.v1 import job_service_pb2 as pb

from server.domain.models import Role
from server.providers import documents
from tests.documents import PNG, docx_file, pdf
from tests.factories import Api, Tenant, auth
from tests.helpers import fails

INACTIVE = user_pb2.ENTITY_STATUS_INACTIVE


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:10]}"


def create_call(api: Api, token: str, job: job_pb2.Job, *, jd_file: bytes = b"",
                request_id: str = "") -> Awaitable[pb.CreateJobResponse]:
    call: Awaitable[pb.CreateJobResponse] = api.jobs.CreateJob(
        pb.CreateJobRequest(job=job, jd_file=jd_file, request_id=request_id),
        metadata=auth(token))
    return call


async def create(api: Api, token: str, job: job_pb2.Job, **kw: object) -> job_pb2.Job:
    created: job_pb2.Job = (await create_call(api, token, job, **kw)).job  # type: ignore[arg-type]
    return created


async def get(api: Api, token: str, job_id: str) -> job_pb2.Job:
    found: job_pb2.Job = (await api.jobs.GetJob(pb.GetJobRequest(id=job_id),
                                                metadata=auth(token))).job
    return found


def question(text: str, *, qtype: job_pb2.QuestionType.ValueType = job_pb2.QUESTION_TYPE_TECHNICAL,
             qid: str = "", **extra: object) -> job_pb2.Question:
    return job_pb2.Question(id=qid, type=qtype, difficulty=job_pb2.DIFFICULTY_MEDIUM,
                            texts=[job_pb2.LocalizedText(language="en", text=text)],
                            **extra)  # type: ignore[arg-type]


def coding_question() -> job_pb2.Question:
    return job_pb2.Question(
        id="fizz", type=job_pb2.QUESTION_TYPE_CODING, difficulty=job_pb2.DIFFICULTY_EASY,
        texts=[job_pb2.LocalizedText(language="en", text="Write fizzbuzz(n)."),
               job_pb2.LocalizedText(language="es", text="Escribe fizzbuzz(n).")],
        expected_answer="Loop with modulo checks.", keywords=["modulo", "loop"],
        rubric=[job_pb2.RubricCriterion(name="correctness", description="All tests pass",
                                        weight=70),
                job_pb2.RubricCriterion(name="style", description="Readable", weight=30)],
        starter_code="def fizzbuzz(n):\n    pass\n", code_language="python",
        hidden_tests=[job_pb2.TestCase(input="3", expected_output="Fizz"),
                      job_pb2.TestCase(input="15", expected_output="FizzBuzz")],
        examples=[job_pb2.TestCase(input="1", expected_output="1")])


def new_set(api: Api, token: str, job_id: str, *questions: job_pb2.Question,
            default_language: str = "", request_id: str = ""
            ) -> Awaitable[pb.CreateQuestionSetResponse]:
    call: Awaitable[pb.CreateQuestionSetResponse] = api.jobs.CreateQuestionSet(
        pb.CreateQuestionSetRequest(job_id=job_id, questions=list(questions),
                                    default_language=default_language, request_id=request_id),
        metadata=auth(token))
    return call


# --- create ----------------------------------------------------------------------------------


async def test_department_user_creates_a_job_from_text(api: Api, tenant: Tenant) -> None:
    member, dept = tenant.members[0], tenant.departments[0]
    job = await create(api, member.token, job_pb2.Job(
        department_id=dept.id, title="  Backend Engineer  ", description="Python and SQL",
        required_skills=["Python", " SQL ", "python"], domain="backend",
        seniority=job_pb2.SENIORITY_SENIOR))
    assert uuid.UUID(job.id)
    assert (job.company_id, job.department_id) == (tenant.company.id, dept.id)
    assert job.title == "Backend Engineer"
    assert list(job.required_skills) == ["Python", "SQL"]
    assert (job.domain, job.seniority) == ("backend", job_pb2.SENIORITY_SENIOR)
    assert job.status == user_pb2.ENTITY_STATUS_ACTIVE
    assert (job.etag, job.question_set_version) == ("1", 0)
    assert job.jd_media_type == "" and job.jd_text == ""
    assert await get(api, member.token, job.id) == job
    events = await api.audit.ListAuditEvents(apb.ListAuditEventsRequest(
        resource=f"jobs/{job.id}"), metadata=auth(tenant.admin.token))
    assert [e.action for e in events.audit_events] == ["job.create"]


@pytest.mark.parametrize("sample", [
    ("jd.pdf", pdf("Senior Data Engineer with Spark"), documents.PDF,
     "Senior Data Engineer with Spark"),
    ("jd.docx", docx_file("Product Designer", "Figma and user research."), documents.DOCX,
     "Product Designer\nFigma and user research."),
    ("jd.txt", "Ingénieure QA — tests automatisés\n".encode(), documents.TEXT,
     "Ingénieure QA — tests automatisés"),
    # The name says nothing: a text file called .pdf is text.
    ("really-text.pdf", b"Support engineer", documents.TEXT, "Support engineer"),
])
async def test_job_from_an_uploaded_file(api: Api, tenant: Tenant,
                                         sample: tuple[str, bytes, str, str]) -> None:
    name, data, media_type, text = sample
    job = await create(api, tenant.admin.token, job_pb2.Job(
        department_id=tenant.departments[1].id, title=unique("From file"), jd_file_name=name),
        jd_file=data)
    assert (job.jd_file_name, job.jd_media_type) == (name, media_type)
    assert job.jd_sha256 == hashlib.sha256(data).hexdigest()
    assert text in job.jd_text
    assert job.description == ""
    assert (await get(api, tenant.admin.token, job.id)).jd_text == job.jd_text
    events = await api.audit.ListAuditEvents(apb.ListAuditEventsRequest(
        resource=f"jobs/{job.id}"), metadata=auth(tenant.admin.token))
    fields = {c.field: c.after for c in events.audit_events[0].changes}
    assert fields["jd_sha256"] == job.jd_sha256
    assert "jd_text" not in fields and "jd_file" not in fields


async def test_bad_files_are_refused(api: Api, tenant: Tenant) -> None:
    def job() -> job_pb2.Job:
        return job_pb2.Job(department_id=tenant.departments[0].id, title=unique("Bad"),
                           jd_file_name="jd.pdf")

    token = tenant.admin.token
    await fails(create_call(api, token, job(), jd_file=PNG), grpc.StatusCode.INVALID_ARGUMENT,
                "UNSUPPORTED_FILE_TYPE")
    await fails(create_call(api, token, job(), jd_file=pdf("Cut short")[:60]),
                grpc.StatusCode.INVALID_ARGUMENT, "UNREADABLE_FILE")
    big = b"a" * (11 * 1024 * 1024)
    await fails(create_call(api, token, job(), jd_file=big), grpc.StatusCode.INVALID_ARGUMENT,
                "VALIDATION_FAILED")
    # Neither a description nor a file.
    await fails(create_call(api, token, job_pb2.Job(department_id=tenant.departments[0].id,
                                                    title="Empty")),
                grpc.StatusCode.INVALID_ARGUMENT, "DESCRIPTION_REQUIRED")
    await fails(create_call(api, token, job_pb2.Job(department_id=tenant.departments[0].id,
                                                    title="  ", description="x")),
                grpc.StatusCode.INVALID_ARGUMENT, "TITLE_REQUIRED")


async def test_create_is_idempotent_with_a_request_id(api: Api, tenant: Tenant) -> None:
    request_id = str(uuid.uuid4())
    body = job_pb2.Job(department_id=tenant.departments[0].id, title=unique("Retry"),
                       description="Once")
    first = await create(api, tenant.admin.token, body, request_id=request_id)
    again = await create(api, tenant.admin.token, body, request_id=request_id)
    assert again == first
    body.title = unique("Other")
    await fails(create_call(api, tenant.admin.token, body, request_id=request_id),
                grpc.StatusCode.FAILED_PRECONDITION, "REQUEST_ID_REUSED")


# --- scoping ---------------------------------------------------------------------------------


async def test_department_and_tenant_scoping(api: Api, tenant: Tenant, root_token: str) -> None:
    a1_job = await api.job(tenant.members[0].token, tenant.departments[0].id)
    a2_job = await api.job(tenant.admin.token, tenant.departments[1].id)
    a1_user = tenant.members[0].token
    # A department user sees and manages its own department's jobs only.
    await fails(api.jobs.GetJob(pb.GetJobRequest(id=a2_job.id), metadata=auth(a1_user)),
                grpc.StatusCode.NOT_FOUND, "JOB_NOT_FOUND")
    await fails(create_call(api, a1_user, job_pb2.Job(department_id=tenant.departments[1].id,
                                                      title="Nope", description="x")),
                grpc.StatusCode.NOT_FOUND, "DEPARTMENT_NOT_FOUND")
    await fails(api.jobs.UpdateJob(pb.UpdateJobRequest(
        job=job_pb2.Job(id=a2_job.id, title="Taken"),
        update_mask=field_mask_pb2.FieldMask(paths=["title"])), metadata=auth(a1_user)),
        grpc.StatusCode.NOT_FOUND, "JOB_NOT_FOUND")
    listed = await api.jobs.ListJobs(pb.ListJobsRequest(page_size=500), metadata=auth(a1_user))
    assert {j.department_id for j in listed.jobs} == {tenant.departments[0].id}
    assert a1_job.id in {j.id for j in listed.jobs}
    # The company admin sees both departments.
    listed = await api.jobs.ListJobs(pb.ListJobsRequest(page_size=500),
                                     metadata=auth(tenant.admin.token))
    assert {a1_job.id, a2_job.id} <= {j.id for j in listed.jobs}
    # Another company's admin sees nothing of them.
    other = await api.company(root_token)
    other_admin_user = await api.user(root_token, role=Role.COMPANY_ADMIN, company_id=other.id)
    other_admin = await api.token(other_admin_user.email)
    for job_id in (a1_job.id, a2_job.id):
        await fails(api.jobs.GetJob(pb.GetJobRequest(id=job_id), metadata=auth(other_admin)),
                    grpc.StatusCode.NOT_FOUND, "JOB_NOT_FOUND")
        await fails(api.jobs.GetQuestionSet(pb.GetQuestionSetRequest(job_id=job_id),
                                            metadata=auth(other_admin)),
                    grpc.StatusCode.NOT_FOUND, "JOB_NOT_FOUND")
    listed = await api.jobs.ListJobs(pb.ListJobsRequest(
        page_size=500, department_id=tenant.departments[0].id), metadata=auth(other_admin))
    assert list(listed.jobs) == []


# --- list, update, status --------------------------------------------------------------------


async def test_list_pages_and_filters(api: Api, tenant: Tenant) -> None:
    token, dept = tenant.admin.token, tenant.departments[1]
    prefix = f"Pager{uuid.uuid4().hex[:6]}"
    made = [await api.job(token, dept.id, title=f"{prefix} {i}") for i in range(5)]
    seen: list[str] = []
    page_token = ""
    while True:
        page = await api.jobs.ListJobs(pb.ListJobsRequest(
            page_size=2, page_token=page_token, title_prefix=prefix.lower(),
            department_id=dept.id), metadata=auth(token))
        assert len(page.jobs) <= 2
        assert all(j.jd_text == "" for j in page.jobs)
        seen += [j.id for j in page.jobs]
        page_token = page.next_page_token
        if not page_token:
            break
    assert seen == [j.id for j in made]
    # A token is bound to its filters.
    first = await api.jobs.ListJobs(pb.ListJobsRequest(page_size=2, title_prefix=prefix),
                                    metadata=auth(token))
    await fails(api.jobs.ListJobs(pb.ListJobsRequest(page_size=2,
                                                     page_token=first.next_page_token),
                                  metadata=auth(token)),
                grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")
    await api.jobs.DeactivateJob(pb.DeactivateJobRequest(id=made[0].id), metadata=auth(token))
    inactive = await api.jobs.ListJobs(pb.ListJobsRequest(
        title_prefix=prefix, status=INACTIVE), metadata=auth(token))
    assert [j.id for j in inactive.jobs] == [made[0].id]


async def test_update_with_mask_and_etag(api: Api, tenant: Tenant) -> None:
    token = tenant.members[0].token
    job = await api.job(token, tenant.departments[0].id, title="Old title")
    mask = field_mask_pb2.FieldMask(paths=["title", "required_skills", "seniority"])
    changed = (await api.jobs.UpdateJob(pb.UpdateJobRequest(
        job=job_pb2.Job(id=job.id, title="New title", required_skills=["Go"],
                        seniority=job_pb2.SENIORITY_JUNIOR, description="ignored", etag="1"),
        update_mask=mask), metadata=auth(token))).job
    assert (changed.title, list(changed.required_skills)) == ("New title", ["Go"])
    assert changed.seniority == job_pb2.SENIORITY_JUNIOR
    assert changed.description == job.description  # not in the mask
    assert changed.etag == "2"
    await fails(api.jobs.UpdateJob(pb.UpdateJobRequest(
        job=job_pb2.Job(id=job.id, title="Stale", etag="1"),
        update_mask=field_mask_pb2.FieldMask(paths=["title"])), metadata=auth(token)),
        grpc.StatusCode.ABORTED, "ETAG_MISMATCH")
    await fails(api.jobs.UpdateJob(pb.UpdateJobRequest(
        job=job_pb2.Job(id=job.id, department_id=tenant.departments[1].id),
        update_mask=field_mask_pb2.FieldMask(paths=["department_id"])), metadata=auth(token)),
        grpc.StatusCode.INVALID_ARGUMENT, "INVALID_UPDATE_MASK")
    off = (await api.jobs.DeactivateJob(pb.DeactivateJobRequest(id=job.id, etag="2"),
                                        metadata=auth(token))).job
    assert (off.status, off.etag) == (INACTIVE, "3")
    on = (await api.jobs.ReactivateJob(pb.ReactivateJobRequest(id=job.id),
                                       metadata=auth(token))).job
    assert on.status == user_pb2.ENTITY_STATUS_ACTIVE


# --- question sets ---------------------------------------------------------------------------


async def test_question_sets_are_versioned_and_immutable(api: Api, tenant: Tenant) -> None:
    token = tenant.members[0].token
    job = await api.job(token, tenant.departments[0].id)
    await fails(api.jobs.GetQuestionSet(pb.GetQuestionSetRequest(job_id=job.id),
                                        metadata=auth(token)),
                grpc.StatusCode.NOT_FOUND, "QUESTION_SET_NOT_FOUND")
    v1 = (await new_set(api, token, job.id, question("What is a mutex?"),
                        question("Tell me about a conflict.",
                                 qtype=job_pb2.QUESTION_TYPE_BEHAVIORAL))).question_set
    assert (v1.version, v1.default_language) == (1, "en")
    assert [q.id for q in v1.questions] == ["q1", "q2"]
    assert v1.created_by == tenant.members[0].user.id
    v2 = (await new_set(api, token, job.id, coding_question(),
                        question("Explain indexes.", qid="idx"))).question_set
    assert v2.version == 2
    stored = job_pb2.Question()
    stored.CopyFrom(v2.questions[0])
    # Keywords without concepts become one concept each (scored in any language).
    assert [(c.name, [(t.language, list(t.terms)) for t in c.terms]) for c in stored.concepts] \
        == [(k, [("*", [k])]) for k in coding_question().keywords]
    del stored.concepts[:]
    assert stored == coding_question()
    again = await api.jobs.GetQuestionSet(pb.GetQuestionSetRequest(job_id=job.id, version=1),
                                          metadata=auth(token))
    assert again.question_set == v1
    latest = await api.jobs.GetQuestionSet(pb.GetQuestionSetRequest(job_id=job.id),
                                           metadata=auth(token))
    assert latest.question_set == v2
    assert (await get(api, token, job.id)).question_set_version == 2
    listed = await api.jobs.ListQuestionSets(pb.ListQuestionSetsRequest(job_id=job.id,
                                                                        page_size=1),
                                             metadata=auth(token))
    assert [s.version for s in listed.question_sets] == [1]
    rest = await api.jobs.ListQuestionSets(pb.ListQuestionSetsRequest(
        job_id=job.id, page_size=1, page_token=listed.next_page_token), metadata=auth(token))
    assert [s.version for s in rest.question_sets] == [2]
    await fails(api.jobs.GetQuestionSet(pb.GetQuestionSetRequest(job_id=job.id, version=3),
                                        metadata=auth(token)),
                grpc.StatusCode.NOT_FOUND, "QUESTION_SET_NOT_FOUND")


async def test_question_set_create_is_idempotent(api: Api, tenant: Tenant) -> None:
    token = tenant.admin.token
    job = await api.job(token, tenant.departments[1].id)
    request_id = str(uuid.uuid4())
    first = (await new_set(api, token, job.id, question("Q"), request_id=request_id))
    again = (await new_set(api, token, job.id, question("Q"), request_id=request_id))
    assert again.question_set == first.question_set
    assert (await get(api, token, job.id)).question_set_version == 1


async def test_invalid_question_sets(api: Api, tenant: Tenant) -> None:
    token = tenant.admin.token
    job = await api.job(token, tenant.departments[0].id)
    bad_language = job_pb2.Question(
        type=job_pb2.QUESTION_TYPE_TECHNICAL, difficulty=job_pb2.DIFFICULTY_HARD,
        texts=[job_pb2.LocalizedText(language="xx", text="?")])
    cases: list[tuple[tuple[job_pb2.Question, ...], str, str]] = [
        ((bad_language,), "", "VALIDATION_FAILED"),
        ((question("Q"),), "tlh", "VALIDATION_FAILED"),
        ((question("Q"),), "fr", "DEFAULT_LANGUAGE_TEXT_MISSING"),
        ((job_pb2.Question(type=job_pb2.QUESTION_TYPE_CODING,
                           difficulty=job_pb2.DIFFICULTY_EASY,
                           texts=[job_pb2.LocalizedText(language="en", text="Code it")]),),
         "", "HIDDEN_TESTS_REQUIRED"),
        ((question("Q", starter_code="x = 1"),), "", "CODING_FIELDS_NOT_ALLOWED"),
        ((question("A", qid="same"), question("B", qid="same")), "", "DUPLICATE_QUESTION_ID"),
        ((job_pb2.Question(type=job_pb2.QUESTION_TYPE_TECHNICAL,
                           difficulty=job_pb2.DIFFICULTY_EASY,
                           texts=[job_pb2.LocalizedText(language="en", text="a"),
                                  job_pb2.LocalizedText(language="en", text="b")]),),
         "", "DUPLICATE_LANGUAGE"),
        ((), "", "VALIDATION_FAILED"),
        (tuple(question(f"Q{i}") for i in range(101)), "", "VALIDATION_FAILED"),
    ]
    for questions, language, reason in cases:
        await fails(new_set(api, token, job.id, *questions, default_language=language),
                    grpc.StatusCode.INVALID_ARGUMENT, reason)
    assert (await get(api, token, job.id)).question_set_version == 0
    await api.jobs.DeactivateJob(pb.DeactivateJobRequest(id=job.id), metadata=auth(token))
    await fails(new_set(api, token, job.id, question("Q")), grpc.StatusCode.FAILED_PRECONDITION,
                "JOB_INACTIVE")


# --- REST through Envoy ----------------------------------------------------------------------


async def test_rest_create_with_a_file_and_get(http: httpx.AsyncClient, tenant: Tenant) -> None:
    headers = {"authorization": f"Bearer {tenant.members[0].token}"}
    data = pdf("Site Reliability Engineer")
    r = await http.post("/v1/jobs", headers=headers, json={
        "job": {"departmentId": tenant.departments[0].id, "title": "SRE",
                "jdFileName": "sre.pdf", "requiredSkills": ["Linux"],
                "seniority": "SENIORITY_MID"},
        "jdFile": base64.b64encode(data).decode()})
    assert r.status_code == 200, r.text
    job = r.json()["job"]
    assert job["jdMediaType"] == documents.PDF
    assert "Site Reliability Engineer" in job["jdText"]
    got = await http.get(f"/v1/jobs/{job['id']}", headers=headers)
    assert got.status_code == 200, got.text
    assert got.json()["job"] == job
    bad = await http.post("/v1/jobs", headers=headers, json={
        "job": {"departmentId": tenant.departments[0].id, "title": "PNG"},
        "jdFile": base64.b64encode(PNG).decode()})
    assert bad.status_code == 400, bad.text
    assert "UNSUPPORTED_FILE_TYPE" in bad.text
    sets = await http.post(f"/v1/jobs/{job['id']}/questionSets", headers=headers, json={
        "questions": [{"type": "QUESTION_TYPE_TECHNICAL", "difficulty": "DIFFICULTY_EASY",
                       "texts": [{"language": "en", "text": "What is DNS?"}]}]})
    assert sets.status_code == 200, sets.text
    latest = await http.get(f"/v1/jobs/{job['id']}/questionSets/0", headers=headers)
    assert latest.json()["questionSet"]["version"] == 1
