"""InterviewService: proto -> use-case -> proto, and the interview conversions."""

from __future__ import annotations

from typing import Any

from grpc import aio
from interviewplatform.v1 import interview_pb2, interview_service_pb2_grpc, job_pb2
from interviewplatform.v1 import interview_service_pb2 as pb

from server.api import convert
from server.api.job_service import DIFFICULTY_FROM_PROTO, DIFFICULTY_TO_PROTO
from server.api.resume_service import match as resume_match_pb
from server.context import caller
from server.domain import models
from server.domain.candidate import StaffAnswerReads
from server.domain.interviews import InterviewUseCases, NewInterview

Ctx = aio.ServicerContext[Any, Any]

STATUS_TO_PROTO: dict[models.InterviewStatus, interview_pb2.InterviewStatus.ValueType] = {
    models.InterviewStatus.PENDING: interview_pb2.INTERVIEW_STATUS_PENDING,
    models.InterviewStatus.SCHEDULED: interview_pb2.INTERVIEW_STATUS_SCHEDULED,
    models.InterviewStatus.IN_PROGRESS: interview_pb2.INTERVIEW_STATUS_IN_PROGRESS,
    models.InterviewStatus.COMPLETED: interview_pb2.INTERVIEW_STATUS_COMPLETED,
    models.InterviewStatus.CANCELLED: interview_pb2.INTERVIEW_STATUS_CANCELLED,
    models.InterviewStatus.EXPIRED: interview_pb2.INTERVIEW_STATUS_EXPIRED,
}
STATUS_FROM_PROTO = {v: k for k, v in STATUS_TO_PROTO.items()}
MODE_TO_PROTO: dict[models.InterviewMode, interview_pb2.InterviewMode.ValueType] = {
    models.InterviewMode.STATIC: interview_pb2.INTERVIEW_MODE_STATIC,
    models.InterviewMode.DYNAMIC: interview_pb2.INTERVIEW_MODE_DYNAMIC,
}
MODE_FROM_PROTO = {v: k for k, v in MODE_TO_PROTO.items()}
SEX_TO_PROTO: dict[models.Sex, interview_pb2.Sex.ValueType] = {
    models.Sex.FEMALE: interview_pb2.SEX_FEMALE,
    models.Sex.MALE: interview_pb2.SEX_MALE,
    models.Sex.OTHER: interview_pb2.SEX_OTHER,
}
SEX_FROM_PROTO = {v: k for k, v in SEX_TO_PROTO.items()}


def interview(i: models.Interview) -> interview_pb2.Interview:
    c = i.candidate
    candidate = interview_pb2.Candidate(
        full_name=c.full_name, email=c.email, phone=c.phone or "",
        sex=SEX_TO_PROTO[c.sex] if c.sex else interview_pb2.SEX_UNSPECIFIED)
    if c.age is not None:
        candidate.age = c.age
    resume = None
    if i.resume is not None:
        resume = interview_pb2.Resume(file_name=i.resume.file_name or "",
                                      media_type=i.resume.media_type, sha256=i.resume.sha256,
                                      size_bytes=i.resume.size_bytes)
    return interview_pb2.Interview(
        id=str(i.id), company_id=str(i.company_id), department_id=str(i.department_id),
        job_id=str(i.job_id), question_set_version=i.question_set_version,
        candidate=candidate, resume=resume, domain=i.domain or "",
        difficulty=DIFFICULTY_TO_PROTO[i.difficulty] if i.difficulty else
        job_pb2.DIFFICULTY_UNSPECIFIED,
        language=i.language, mode=MODE_TO_PROTO[i.mode],
        scheduled_time=convert.timestamp(i.scheduled_at),
        window_end_time=convert.timestamp(i.window_end), status=STATUS_TO_PROTO[i.status],
        cancel_reason=i.cancel_reason or "", etag=str(i.version),
        create_time=convert.timestamp(i.created_at), update_time=convert.timestamp(i.updated_at),
        reviewer_language=i.reviewer_language,
        resume_match=resume_match_pb(i.resume_match) if i.resume_match else None)


def answer(a: models.Answer) -> interview_pb2.Answer:
    audio = None if a.audio is None else interview_pb2.AnswerAudio(
        media_type=a.audio.media_type, size_bytes=a.audio.size_bytes,
        duration_ms=a.audio.duration_ms, truncated=a.audio.truncated,
        partial_transcript=a.audio.partial_transcript, provider=a.audio.provider)
    return interview_pb2.Answer(question_id=a.question_id, position=a.position, text=a.text,
                                code=a.code, code_language=a.code_language,
                                create_time=convert.timestamp(a.created_at), audio=audio)


def new_interview(i: interview_pb2.Interview) -> NewInterview:
    c = i.candidate
    return NewInterview(
        job_id=convert.req_uuid(i.job_id, "interview.job_id"),
        candidate=models.Candidate(
            full_name=c.full_name, email=c.email, phone=c.phone or None,
            age=c.age if c.HasField("age") else None, sex=SEX_FROM_PROTO.get(c.sex)),
        language=i.language, mode=MODE_FROM_PROTO.get(i.mode),
        scheduled_at=convert.opt_time(i.scheduled_time, i.HasField("scheduled_time")),
        window_end=convert.opt_time(i.window_end_time, i.HasField("window_end_time")),
        domain=i.domain or None, difficulty=DIFFICULTY_FROM_PROTO.get(i.difficulty),
        reviewer_language=i.reviewer_language or "en")


class InterviewService(interview_service_pb2_grpc.InterviewServiceServicer):
    def __init__(self, interviews: InterviewUseCases, answers: StaffAnswerReads) -> None:
        self._i = interviews
        self._answers = answers

    async def ScheduleInterview(self, request: pb.ScheduleInterviewRequest,
                                context: Ctx) -> pb.ScheduleInterviewResponse:
        i = request.interview
        created = await self._i.schedule(
            caller(), new_interview(i), resume_file=request.resume_file,
            resume_file_name=i.resume.file_name or None,
            request_id=convert.opt_uuid(request.request_id),
            fingerprint=convert.fingerprint(request))
        return pb.ScheduleInterviewResponse(
            interview=interview(created))

    async def GetInterview(self, request: pb.GetInterviewRequest,
                           context: Ctx) -> pb.GetInterviewResponse:
        found, answers = await self._answers.get(caller(), convert.req_uuid(request.id))
        return pb.GetInterviewResponse(interview=interview(found),
                                       answers=[answer(a) for a in answers])

    async def ListInterviews(self, request: pb.ListInterviewsRequest,
                             context: Ctx) -> pb.ListInterviewsResponse:
        page = await self._i.list(
            caller(), company_id=convert.opt_uuid(request.company_id),
            department_id=convert.opt_uuid(request.department_id),
            job_id=convert.opt_uuid(request.job_id),
            status=STATUS_FROM_PROTO.get(request.status),
            start=convert.opt_time(request.start_time, request.HasField("start_time")),
            end=convert.opt_time(request.end_time, request.HasField("end_time")),
            size=request.page_size, token=request.page_token)
        return pb.ListInterviewsResponse(interviews=[interview(i) for i in page.items],
                                         next_page_token=page.next_page_token)

    async def RescheduleInterview(self, request: pb.RescheduleInterviewRequest,
                                  context: Ctx) -> pb.RescheduleInterviewResponse:
        changed = await self._i.reschedule(
            caller(), convert.req_uuid(request.id),
            scheduled_at=convert.opt_time(request.scheduled_time,
                                          request.HasField("scheduled_time")),
            window_end=convert.opt_time(request.window_end_time,
                                        request.HasField("window_end_time")),
            etag=request.etag)
        return pb.RescheduleInterviewResponse(interview=interview(changed))

    async def CancelInterview(self, request: pb.CancelInterviewRequest,
                              context: Ctx) -> pb.CancelInterviewResponse:
        changed = await self._i.cancel(caller(), convert.req_uuid(request.id),
                                       reason=request.reason, etag=request.etag)
        return pb.CancelInterviewResponse(interview=interview(changed))
