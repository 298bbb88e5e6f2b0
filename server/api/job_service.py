"""JobService: proto -> use-case -> proto, and the job and question set conversions."""

from __future__ import annotations

from typing import Any

from grpc import aio
from interviewplatform.v1 import job_pb2, job_service_pb2_grpc
from interviewplatform.v1 import job_service_pb2 as pb

from server.api import convert
from server.context import caller
from server.domain import models
from server.domain.errors import InvalidArgument
from server.domain.generation import QuestionGeneration
from server.domain.jobs import JobUseCases

Ctx = aio.ServicerContext[Any, Any]

SENIORITY_TO_PROTO: dict[models.Seniority, job_pb2.Seniority.ValueType] = {
    models.Seniority.INTERN: job_pb2.SENIORITY_INTERN,
    models.Seniority.JUNIOR: job_pb2.SENIORITY_JUNIOR,
    models.Seniority.MID: job_pb2.SENIORITY_MID,
    models.Seniority.SENIOR: job_pb2.SENIORITY_SENIOR,
    models.Seniority.LEAD: job_pb2.SENIORITY_LEAD,
    models.Seniority.PRINCIPAL: job_pb2.SENIORITY_PRINCIPAL,
}
SENIORITY_FROM_PROTO = {v: k for k, v in SENIORITY_TO_PROTO.items()}
TYPE_TO_PROTO: dict[models.QuestionType, job_pb2.QuestionType.ValueType] = {
    models.QuestionType.TECHNICAL: job_pb2.QUESTION_TYPE_TECHNICAL,
    models.QuestionType.BEHAVIORAL: job_pb2.QUESTION_TYPE_BEHAVIORAL,
    models.QuestionType.CODING: job_pb2.QUESTION_TYPE_CODING,
}
TYPE_FROM_PROTO = {v: k for k, v in TYPE_TO_PROTO.items()}
DIFFICULTY_TO_PROTO: dict[models.Difficulty, job_pb2.Difficulty.ValueType] = {
    models.Difficulty.EASY: job_pb2.DIFFICULTY_EASY,
    models.Difficulty.MEDIUM: job_pb2.DIFFICULTY_MEDIUM,
    models.Difficulty.HARD: job_pb2.DIFFICULTY_HARD,
}
DIFFICULTY_FROM_PROTO = {v: k for k, v in DIFFICULTY_TO_PROTO.items()}


def job(j: models.Job) -> job_pb2.Job:
    return job_pb2.Job(
        id=str(j.id), company_id=str(j.company_id), department_id=str(j.department_id),
        title=j.title, description=j.description or "", jd_file_name=j.jd_file_name or "",
        jd_media_type=j.jd_media_type or "", jd_sha256=j.jd_sha256 or "",
        jd_text=j.jd_text or "", required_skills=list(j.required_skills),
        domain=j.domain or "",
        seniority=SENIORITY_TO_PROTO[j.seniority] if j.seniority else
        job_pb2.SENIORITY_UNSPECIFIED,
        status=convert.STATUS_TO_PROTO[j.status], etag=str(j.version),
        question_set_version=j.question_set_version, create_time=convert.timestamp(j.created_at),
        update_time=convert.timestamp(j.updated_at),
        required_languages=list(j.required_languages))


def job_values(message: job_pb2.Job, values: dict[str, object]) -> dict[str, object]:
    """Masked (or create) values in domain form: seniority as the domain enum, skills a tuple."""
    out = dict(values)
    if "seniority" in out:
        out["seniority"] = SENIORITY_FROM_PROTO.get(message.seniority)
    if "required_skills" in out:
        out["required_skills"] = tuple(message.required_skills)
    if "required_languages" in out:
        out["required_languages"] = tuple(message.required_languages)
    return out


def _tests(items: Any) -> tuple[models.TestCase, ...]:
    return tuple(models.TestCase(input=t.input, expected_output=t.expected_output)
                 for t in items)


def question_of(q: job_pb2.Question) -> models.Question:
    texts: dict[str, str] = {}
    for t in q.texts:
        if t.language in texts:
            raise InvalidArgument(f"two texts in {t.language}", reason="DUPLICATE_LANGUAGE",
                                  metadata={"question": q.id})
        texts[t.language] = t.text
    question_type = TYPE_FROM_PROTO.get(q.type)
    difficulty = DIFFICULTY_FROM_PROTO.get(q.difficulty)
    if question_type is None or difficulty is None:
        raise InvalidArgument("question type and difficulty are required",
                              reason="QUESTION_TYPE_REQUIRED")
    return models.Question(
        id=q.id, type=question_type, difficulty=difficulty, texts=texts,
        expected_answer=q.expected_answer, keywords=tuple(q.keywords),
        rubric=tuple(models.RubricCriterion(name=r.name, description=r.description,
                                            weight=r.weight) for r in q.rubric),
        starter_code=q.starter_code, code_language=q.code_language,
        hidden_tests=_tests(q.hidden_tests), examples=_tests(q.examples),
        expected_answers={t.language: t.text for t in q.expected_answers},
        concepts=tuple(models.KeyConcept(name=c.name,
                                         terms={t.language: tuple(t.terms) for t in c.terms})
                       for c in q.concepts))


def _test_cases(items: tuple[models.TestCase, ...]) -> list[job_pb2.TestCase]:
    return [job_pb2.TestCase(input=t.input, expected_output=t.expected_output) for t in items]


def question(q: models.Question) -> job_pb2.Question:
    return job_pb2.Question(
        id=q.id, type=TYPE_TO_PROTO[q.type], difficulty=DIFFICULTY_TO_PROTO[q.difficulty],
        texts=[job_pb2.LocalizedText(language=lang, text=text) for lang, text in q.texts.items()],
        expected_answer=q.expected_answer, keywords=list(q.keywords),
        rubric=[job_pb2.RubricCriterion(name=r.name, description=r.description, weight=r.weight)
                for r in q.rubric],
        starter_code=q.starter_code, code_language=q.code_language,
        hidden_tests=_test_cases(q.hidden_tests), examples=_test_cases(q.examples),
        expected_answers=[job_pb2.LocalizedText(language=lang, text=text)
                          for lang, text in q.expected_answers.items()],
        concepts=[job_pb2.KeyConcept(name=c.name, terms=[
            job_pb2.ConceptTerms(language=lang, terms=list(terms))
            for lang, terms in c.terms.items()]) for c in q.concepts],
        source=q.source)


def question_set(s: models.QuestionSet) -> job_pb2.QuestionSet:
    return job_pb2.QuestionSet(
        job_id=str(s.job_id), version=s.version, default_language=s.default_language,
        questions=[question(q) for q in s.questions], create_time=convert.timestamp(s.created_at),
        created_by=convert.id_str(s.created_by))


CREATE_FIELDS = ("title", "description", "required_skills", "domain", "seniority",
                 "required_languages")


class JobService(job_service_pb2_grpc.JobServiceServicer):
    def __init__(self, jobs: JobUseCases, generation: QuestionGeneration) -> None:
        self._j = jobs
        self._generation = generation

    async def CreateJob(self, request: pb.CreateJobRequest, context: Ctx) -> pb.CreateJobResponse:
        j = request.job
        values = job_values(j, {name: getattr(j, name) for name in CREATE_FIELDS})
        created = await self._j.create_job(
            caller(), convert.req_uuid(j.department_id, "job.department_id"), values,
            jd_file=request.jd_file, jd_file_name=j.jd_file_name or None,
            request_id=convert.opt_uuid(request.request_id),
            fingerprint=convert.fingerprint(request))
        return pb.CreateJobResponse(job=job(created))

    async def GetJob(self, request: pb.GetJobRequest, context: Ctx) -> pb.GetJobResponse:
        found = await self._j.get_job(caller(), convert.req_uuid(request.id))
        return pb.GetJobResponse(job=job(found))

    async def ListJobs(self, request: pb.ListJobsRequest, context: Ctx) -> pb.ListJobsResponse:
        page = await self._j.list_jobs(
            caller(), company_id=convert.opt_uuid(request.company_id),
            department_id=convert.opt_uuid(request.department_id),
            status=convert.status_filter(request.status),
            title_prefix=request.title_prefix or None, size=request.page_size,
            token=request.page_token)
        return pb.ListJobsResponse(jobs=[job(j) for j in page.items],
                                   next_page_token=page.next_page_token)

    async def UpdateJob(self, request: pb.UpdateJobRequest, context: Ctx) -> pb.UpdateJobResponse:
        j = request.job
        updated = await self._j.update_job(
            caller(), convert.req_uuid(j.id, "job.id"),
            job_values(j, convert.masked(j, request.update_mask)), j.etag)
        return pb.UpdateJobResponse(job=job(updated))

    async def DeactivateJob(self, request: pb.DeactivateJobRequest,
                            context: Ctx) -> pb.DeactivateJobResponse:
        changed = await self._j.set_job_status(caller(), convert.req_uuid(request.id),
                                               models.EntityStatus.INACTIVE, request.etag)
        return pb.DeactivateJobResponse(job=job(changed))

    async def ReactivateJob(self, request: pb.ReactivateJobRequest,
                            context: Ctx) -> pb.ReactivateJobResponse:
        changed = await self._j.set_job_status(caller(), convert.req_uuid(request.id),
                                               models.EntityStatus.ACTIVE, request.etag)
        return pb.ReactivateJobResponse(job=job(changed))

    async def CreateQuestionSet(self, request: pb.CreateQuestionSetRequest,
                                context: Ctx) -> pb.CreateQuestionSetResponse:
        created = await self._j.create_question_set(
            caller(), convert.req_uuid(request.job_id, "job_id"),
            tuple(question_of(q) for q in request.questions), request.default_language or "en",
            request_id=convert.opt_uuid(request.request_id),
            fingerprint=convert.fingerprint(request))
        return pb.CreateQuestionSetResponse(question_set=question_set(created))

    async def GetQuestionSet(self, request: pb.GetQuestionSetRequest,
                             context: Ctx) -> pb.GetQuestionSetResponse:
        found = await self._j.get_question_set(
            caller(), convert.req_uuid(request.job_id, "job_id"), request.version)
        return pb.GetQuestionSetResponse(question_set=question_set(found))

    async def ListQuestionSets(self, request: pb.ListQuestionSetsRequest,
                               context: Ctx) -> pb.ListQuestionSetsResponse:
        page = await self._j.list_question_sets(
            caller(), convert.req_uuid(request.job_id, "job_id"), size=request.page_size,
            token=request.page_token)
        return pb.ListQuestionSetsResponse(question_sets=[question_set(s) for s in page.items],
                                           next_page_token=page.next_page_token)

    async def GenerateQuestions(self, request: pb.GenerateQuestionsRequest,
                                context: Ctx) -> pb.GenerateQuestionsResponse:
        made = await self._generation.generate(
            caller(), convert.req_uuid(request.id), count=request.count,
            difficulty=DIFFICULTY_FROM_PROTO.get(request.difficulty),
            languages=tuple(request.languages), include_coding=request.include_coding,
            include_behavioral=not request.exclude_behavioral,
            request_id=convert.opt_uuid(request.request_id),
            fingerprint=convert.fingerprint(request))
        return pb.GenerateQuestionsResponse(
            question_set=question_set(made.question_set), provider=made.provider,
            fallback_reason=made.fallback_reason or "",
            decision_ids=[str(i) for i in made.decision_ids])
