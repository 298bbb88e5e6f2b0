"""ResumeService end to end with real files (tests/resume_files.py): parse, match, rank (gRPC
stream and REST through Envoy), the match stored at scheduling, and RankResumes' authorization.

The acceptance case: for a job, a fitting resume ranks above a partly fitting one, above an
unrelated one; a weak resume with hidden keyword stuffing stays below the fitting one and is
flagged — with PDF (hidden white text), DOCX, TXT and a Spanish resume for an English job."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid

import grpc
import httpx
import jwt
from interviewplatform.v1 import interview_service_pb2 as ipb
from interviewplatform.v1 import job_pb2, resume_pb2, resume_service_pb2_grpc
from interviewplatform.v1 import job_service_pb2 as jpb
from interviewplatform.v1 import resume_service_pb2 as pb

from tests import resume_files as rf
from tests.api.test_interviews import later, new
from tests.factories import Api, Tenant, auth, make_tenant
from tests.helpers import TEST_SECRET, fails

PARTIAL = (
    "Dana Lee",
    "Frontend Developer",
    "dana.lee@example.com",
    "Experience",
    "Frontend Developer, Webshop GmbH - 2021 - Present",
    "Built React and TypeScript single-page apps, with some Python scripts and Docker.",
    "Skills: React, TypeScript, JavaScript, CSS, Docker, Python",
)
SKILLS = ["Python", "Kubernetes", "PostgreSQL", "AWS", "Docker", "Go"]


def stub(api: Api) -> resume_service_pb2_grpc.ResumeServiceStub:
    return resume_service_pb2_grpc.ResumeServiceStub(api.channel)


def resume(data: bytes, name: str, reference: str = "") -> pb.ResumeFile:
    return pb.ResumeFile(content=data, file_name=name, reference=reference or name)


async def backend_job(api: Api, token: str, department_id: str, *,
                      questions: bool = False) -> job_pb2.Job:
    job = (await api.jobs.CreateJob(jpb.CreateJobRequest(job=job_pb2.Job(
        department_id=department_id, title="Senior Backend Engineer",
        description="Build and run Python backend services on Kubernetes and PostgreSQL.",
        required_skills=["python", "k8s", "Postgres", "AWS", "Docker", "golang"],
        seniority=job_pb2.SENIORITY_SENIOR)), metadata=auth(token))).job
    if questions:
        await api.jobs.CreateQuestionSet(jpb.CreateQuestionSetRequest(
            job_id=job.id, questions=[job_pb2.Question(
                type=job_pb2.QUESTION_TYPE_TECHNICAL, difficulty=job_pb2.DIFFICULTY_EASY,
                texts=[job_pb2.LocalizedText(language="en", text="Why?")])]),
            metadata=auth(token))
    return job


async def rank(api: Api, token: str, request: pb.RankResumesRequest
               ) -> list[pb.RankResumesResponse]:
    return [m async for m in stub(api).RankResumes(request, metadata=auth(token))]


def candidate_token() -> str:
    now = int(time.time())
    return jwt.encode({"iss": "interview-platform", "aud": "interview-platform-candidate",
                       "sub": str(uuid.uuid4()), "role": "candidate", "iat": now,
                       "exp": now + 3600, "jti": uuid.uuid4().hex}, TEST_SECRET,
                      algorithm="HS256")


# --- parse -----------------------------------------------------------------------------------

async def test_parse_a_text_pdf_into_a_typed_profile(api: Api, tenant: Tenant) -> None:
    response = await stub(api).ParseResume(pb.ParseResumeRequest(
        resume=resume(rf.text_pdf(rf.ENGLISH_ENGINEER), "alice.pdf")),
        metadata=auth(tenant.members[0].token))
    p = response.profile
    assert p.name == "Alice Johnson"
    assert list(p.emails) == ["alice.johnson@example.com"]
    assert list(p.phones) == ["+14155550134"]
    assert "github.com/alicej" in p.links
    skills = {s.name for s in p.skills}
    assert {"Python", "Go", "Kubernetes", "PostgreSQL", "AWS", "Docker", "Terraform",
            "gRPC"} <= skills
    assert [(e.title, e.organization, e.start, e.current) for e in p.experience] == [
        ("Senior Software Engineer", "Acme Cloud Inc.", "2019-01", True),
        ("Software Engineer", "DataWorks LLC", "2016-06", False)]
    assert p.experience[1].end == "2018-12" and p.experience[1].months == 31
    assert p.total_years >= 9.5
    assert p.education[0].institution == "University of Washington"
    assert p.education[0].year == 2016
    assert list(p.spoken_languages) == ["en", "es"]
    assert p.language == "en"
    assert p.media_type == "application/pdf" and not p.ocr and p.page_count == 1
    assert not p.flags and p.text_chars > 400


async def test_parse_a_scanned_pdf_through_ocr(api: Api, tenant: Tenant) -> None:
    response = await stub(api).ParseResume(pb.ParseResumeRequest(
        resume=resume(rf.scanned_pdf(rf.ENGLISH_ENGINEER), "scan.pdf")),
        metadata=auth(tenant.admin.token))
    p = response.profile
    assert p.ocr
    assert {"Python", "Kubernetes", "Docker"} <= {s.name for s in p.skills}
    assert p.total_years >= 9


async def test_hidden_text_is_flagged_and_never_becomes_a_skill(api: Api,
                                                                tenant: Tenant) -> None:
    response = await stub(api).ParseResume(pb.ParseResumeRequest(
        resume=resume(rf.weak_stuffed_pdf(), "weak.pdf")),
        metadata=auth(tenant.members[0].token))
    p = response.profile
    kinds = {f.kind for f in p.flags}
    assert resume_pb2.RESUME_FLAG_KIND_HIDDEN_TEXT in kinds
    skills = {s.name for s in p.skills}
    assert not skills & {"Kubernetes", "PostgreSQL", "AWS", "Go", "Terraform"}, skills
    assert p.name == "Pat Doe"


async def test_unreadable_resumes_answer_invalid_argument_with_a_reason(
        api: Api, tenant: Tenant) -> None:
    token = tenant.members[0].token
    for data, reason in ((rf.corrupt_pdf(), "CORRUPT_FILE"),
                         (rf.encrypted_pdf(), "PASSWORD_PROTECTED")):
        await fails(stub(api).ParseResume(pb.ParseResumeRequest(resume=resume(data, "x.pdf")),
                                          metadata=auth(token)),
                    grpc.StatusCode.INVALID_ARGUMENT, reason)
    await fails(stub(api).ParseResume(pb.ParseResumeRequest(
        resume=resume(rf.txt_resume(rf.ENGLISH_ENGINEER), "a.txt"))),
        grpc.StatusCode.UNAUTHENTICATED)


async def test_parse_through_rest(api: Api, tenant: Tenant, http: httpx.AsyncClient) -> None:
    data = rf.docx_resume(rf.SPANISH_ENGINEER)
    r = await http.post("/v1/resumes:parse",
                        headers={"authorization": f"Bearer {tenant.members[0].token}"},
                        json={"resume": {"content": base64.b64encode(data).decode(),
                                         "fileName": "carlos.docx"}})
    assert r.status_code == 200, r.text
    profile = r.json()["profile"]
    assert profile["name"] == "Carlos Martínez García"
    assert profile["language"] == "es"
    assert {"Python", "Kubernetes", "PostgreSQL", "Django"} <= {
        s["name"] for s in profile["skills"]}
    assert profile["spokenLanguages"] == ["es", "en"]


# --- match and rank --------------------------------------------------------------------------

async def test_spanish_resume_matches_an_english_job(api: Api, tenant: Tenant) -> None:
    token = tenant.members[0].token
    job = await backend_job(api, token, tenant.departments[0].id)
    spanish = await stub(api).MatchResume(pb.MatchResumeRequest(
        job_id=job.id, resume=resume(rf.text_pdf(rf.SPANISH_ENGINEER), "carlos.pdf")),
        metadata=auth(token))
    chef = await stub(api).MatchResume(pb.MatchResumeRequest(
        job_id=job.id, resume=resume(rf.txt_resume(rf.UNRELATED_CHEF), "marco.txt")),
        metadata=auth(token))
    m = spanish.match
    assert spanish.profile.language == "es"
    assert {"Python", "Kubernetes", "PostgreSQL", "Docker"} <= set(m.matched_skills)
    assert set(m.matched_skills) | set(m.missing_skills) == set(SKILLS)
    assert m.experience_fit == 100 and not m.flagged
    assert m.semantic_similarity > chef.match.semantic_similarity + 30
    assert m.score > chef.match.score + 40
    assert "4 of 6" in m.explanation or "5 of 6" in m.explanation
    assert not chef.match.matched_skills and chef.match.score < 30


async def test_rank_fitting_above_partial_above_unrelated_and_stuffing_flagged(
        api: Api, tenant: Tenant) -> None:
    token = tenant.members[0].token
    job = await backend_job(api, token, tenant.departments[0].id)
    files = [
        resume(rf.weak_stuffed_pdf(), "weak.pdf", "weak"),
        resume(rf.txt_resume(rf.UNRELATED_CHEF), "chef.txt", "unrelated"),
        resume(rf.corrupt_pdf(), "broken.pdf", "broken"),
        resume(rf.docx_resume(PARTIAL), "dana.docx", "partial"),
        resume(rf.text_pdf(rf.ENGLISH_ENGINEER), "alice.pdf", "fitting"),
        resume(rf.txt_resume(rf.SPANISH_ENGINEER), "carlos.txt", "spanish"),
    ]
    messages = await rank(api, token, pb.RankResumesRequest(job_id=job.id, resumes=files))
    progress = [m.progress for m in messages[:-1]]
    assert all(m.WhichOneof("event") == "progress" for m in messages[:-1])
    assert (progress[0].done, progress[0].total) == (0, 6)
    assert (progress[-1].done, progress[-1].total) == (6, 6)
    assert [p.done for p in progress] == sorted(p.done for p in progress)
    ranking = messages[-1].ranking.resumes
    order = [r.reference for r in ranking]
    assert order.index("fitting") < order.index("partial") < order.index("unrelated"), order
    assert order.index("spanish") < order.index("partial"), order
    assert order.index("weak") > order.index("fitting"), order
    assert order[-1] == "broken" and ranking[-1].error_reason == "CORRUPT_FILE"
    assert not ranking[-1].HasField("match")
    by = {r.reference: r for r in ranking}
    assert [r.rank for r in ranking] == list(range(1, 7))
    assert by["weak"].match.flagged and not by["fitting"].match.flagged
    assert by["weak"].match.score < by["fitting"].match.score - 50
    assert "Flagged" in by["weak"].match.explanation
    assert by["fitting"].name == "Alice Johnson" and by["fitting"].file_name == "alice.pdf"
    assert set(by["fitting"].match.matched_skills) == set(SKILLS)


async def test_rank_through_rest_streams_a_json_array(api: Api, tenant: Tenant,
                                                      http: httpx.AsyncClient) -> None:
    token = tenant.members[0].token
    job = await backend_job(api, token, tenant.departments[0].id)
    body = {"resumes": [
        {"content": base64.b64encode(rf.txt_resume(rf.ENGLISH_ENGINEER)).decode(),
         "fileName": "alice.txt", "reference": "fit"},
        {"content": base64.b64encode(rf.txt_resume(rf.UNRELATED_CHEF)).decode(),
         "fileName": "chef.txt", "reference": "chef"}]}
    r = await http.post(f"/v1/jobs/{job.id}/resumes:rank", json=body,
                        headers={"authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    messages = r.json()
    assert isinstance(messages, list) and len(messages) >= 3
    assert messages[0]["progress"].get("done", 0) == 0
    assert messages[0]["progress"]["total"] == 2
    assert messages[-1]["ranking"]["resumes"][0]["reference"] == "fit"
    assert [m["reference"] for m in messages[-1]["ranking"]["resumes"]] == ["fit", "chef"]


async def test_schedule_with_a_resume_stores_the_match(api: Api, tenant: Tenant) -> None:
    token = tenant.members[0].token
    job = await backend_job(api, token, tenant.departments[0].id, questions=True)
    created = (await api.interviews.ScheduleInterview(ipb.ScheduleInterviewRequest(
        interview=new(job.id, file_name="alice.pdf"),
        resume_file=rf.text_pdf(rf.ENGLISH_ENGINEER)), metadata=auth(token))).interview
    assert created.HasField("resume_match")
    stored = created.resume_match
    assert stored.score >= 80 and set(stored.matched_skills) == set(SKILLS)
    got = (await api.interviews.GetInterview(ipb.GetInterviewRequest(id=created.id),
                                             metadata=auth(token))).interview
    assert got.resume_match == stored
    plain = (await api.interviews.ScheduleInterview(ipb.ScheduleInterviewRequest(
        interview=new(job.id, start=later(days=2))), metadata=auth(token))).interview
    assert not plain.HasField("resume_match")
    again = await stub(api).MatchResume(pb.MatchResumeRequest(
        job_id=job.id, interview_id=created.id), metadata=auth(token))
    assert again.match.score == stored.score
    assert again.profile.name == "Alice Johnson"
    await fails(stub(api).MatchResume(pb.MatchResumeRequest(
        job_id=job.id, interview_id=plain.id), metadata=auth(token)),
        grpc.StatusCode.FAILED_PRECONDITION, "RESUME_MISSING")
    other = await backend_job(api, token, tenant.departments[0].id)
    await fails(stub(api).MatchResume(pb.MatchResumeRequest(
        job_id=other.id, interview_id=created.id), metadata=auth(token)),
        grpc.StatusCode.NOT_FOUND, "INTERVIEW_NOT_FOUND")
    messages = await rank(api, token, pb.RankResumesRequest(job_id=job.id,
                                                            from_interviews=True))
    ranking = messages[-1].ranking.resumes
    assert [(r.interview_id, r.reference, r.name) for r in ranking] == [
        (created.id, created.id, "Alice Johnson")]
    assert ranking[0].match.score == stored.score


async def test_rank_needs_resumes(api: Api, tenant: Tenant) -> None:
    token = tenant.members[0].token
    job = await backend_job(api, token, tenant.departments[0].id)
    await fails(rank(api, token, pb.RankResumesRequest(job_id=job.id)),
                grpc.StatusCode.INVALID_ARGUMENT, "RESUME_FILE_MISSING")
    empty = await rank(api, token, pb.RankResumesRequest(job_id=job.id, from_interviews=True))
    assert empty[-1].WhichOneof("event") == "ranking"
    assert not empty[-1].ranking.resumes


async def test_rankresumes_authz_scoping(api: Api, tenant: Tenant, root_token: str) -> None:
    """RankResumes (server-streaming, outside the unary matrix): the job's scope decides —
    another tenant or another department answers NOT_FOUND JOB_NOT_FOUND before any resume is
    read; no token and a candidate token are UNAUTHENTICATED; the super admin, the company
    admin and the job's department user rank."""
    a1_user = tenant.members[0]
    job = await backend_job(api, a1_user.token, tenant.departments[0].id)
    request = pb.RankResumesRequest(job_id=job.id, resumes=[
        resume(rf.txt_resume(rf.ENGLISH_ENGINEER), "alice.txt")])
    other = await make_tenant(api, root_token, departments=1)
    await fails(rank(api, other.admin.token, request), grpc.StatusCode.NOT_FOUND,
                "JOB_NOT_FOUND")
    await fails(rank(api, other.members[0].token, request), grpc.StatusCode.NOT_FOUND,
                "JOB_NOT_FOUND")
    await fails(rank(api, tenant.members[1].token, request), grpc.StatusCode.NOT_FOUND,
                "JOB_NOT_FOUND")
    for metadata in ((), auth(candidate_token())):
        await fails(_collect(stub(api).RankResumes(request, metadata=metadata)),
                    grpc.StatusCode.UNAUTHENTICATED)
    for token in (root_token, tenant.admin.token, a1_user.token):
        messages = await rank(api, token, request)
        assert messages[-1].ranking.resumes[0].name == "Alice Johnson"
    await fails(rank(api, a1_user.token, pb.RankResumesRequest(
        job_id=str(uuid.uuid4()), resumes=request.resumes)), grpc.StatusCode.NOT_FOUND,
        "JOB_NOT_FOUND")


async def _collect(call: object) -> list[object]:
    return [m async for m in call]  # type: ignore[attr-defined]


async def test_concurrent_pdf_parses_are_safe(api: Api, tenant: Tenant) -> None:
    """pdfium is not thread-safe: PDFs are read in worker processes, so parallel uploads
    neither crash the server nor mix results."""
    token = tenant.members[0].token
    files = [rf.text_pdf(rf.ENGLISH_ENGINEER), rf.text_pdf(rf.SPANISH_ENGINEER)] * 6
    calls = [stub(api).ParseResume(pb.ParseResumeRequest(resume=resume(data, f"{i}.pdf")),
                                   metadata=auth(token)) for i, data in enumerate(files)]
    names = [r.profile.name for r in await asyncio.gather(*calls)]
    assert names == ["Alice Johnson", "Carlos Martínez García"] * 6
