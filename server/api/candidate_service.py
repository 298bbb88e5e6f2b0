"""CandidateService: proto -> use-case -> proto. Only public messages are built here: no
expected answers, keywords, rubrics or hidden tests exist in them."""

from __future__ import annotations

from typing import Any

from grpc import aio
from interviewplatform.v1 import candidate_service_pb2 as pb
from interviewplatform.v1 import candidate_service_pb2_grpc, job_pb2

from server.api import convert
from server.api.evaluation_service import coding_result
from server.api.interview_service import MODE_TO_PROTO, STATUS_TO_PROTO, answer
from server.api.job_service import DIFFICULTY_TO_PROTO, TYPE_TO_PROTO
from server.context import caller, candidate_token_var
from server.domain.candidate import CandidateUseCases, PublicQuestion, PublicView

Ctx = aio.ServicerContext[Any, Any]


def public_interview(v: PublicView) -> pb.PublicInterview:
    i = v.interview
    return pb.PublicInterview(
        id=str(i.id), job_title=v.job_title, company_name=v.company_name, language=i.language,
        mode=MODE_TO_PROTO[i.mode], scheduled_time=convert.timestamp(i.scheduled_at),
        window_end_time=convert.timestamp(i.window_end), status=STATUS_TO_PROTO[i.status],
        question_count=v.question_count, answered_count=v.answered_count)


def public_question(q: PublicQuestion) -> pb.PublicQuestion:
    return pb.PublicQuestion(
        id=q.id, position=q.position, type=TYPE_TO_PROTO[q.type],
        difficulty=DIFFICULTY_TO_PROTO[q.difficulty],
        text=q.text, language=q.language, starter_code=q.starter_code,
        code_language=q.code_language,
        examples=[job_pb2.TestCase(input=i, expected_output=o) for i, o in q.examples])


class CandidateService(candidate_service_pb2_grpc.CandidateServiceServicer):
    def __init__(self, candidates: CandidateUseCases) -> None:
        self._c = candidates

    async def GetPublicInterview(self, request: pb.GetPublicInterviewRequest,
                                 context: Ctx) -> pb.GetPublicInterviewResponse:
        view = await self._c.get(caller(), candidate_token_var.get(),
                                 convert.req_uuid(request.id))
        return pb.GetPublicInterviewResponse(interview=public_interview(view))

    async def StartInterview(self, request: pb.StartInterviewRequest,
                             context: Ctx) -> pb.StartInterviewResponse:
        view = await self._c.start(caller(), candidate_token_var.get(),
                                   convert.req_uuid(request.id))
        return pb.StartInterviewResponse(interview=public_interview(view))

    async def GetNextQuestion(self, request: pb.GetNextQuestionRequest,
                              context: Ctx) -> pb.GetNextQuestionResponse:
        found = await self._c.next_question(caller(), candidate_token_var.get(),
                                            convert.req_uuid(request.id))
        if found is None:
            return pb.GetNextQuestionResponse(done=True)
        return pb.GetNextQuestionResponse(question=public_question(found))

    async def SubmitAnswer(self, request: pb.SubmitAnswerRequest,
                           context: Ctx) -> pb.SubmitAnswerResponse:
        stored = await self._c.answer(
            caller(), candidate_token_var.get(), convert.req_uuid(request.id),
            question_id=request.question_id, text=request.text, code=request.code,
            code_language=request.code_language,
            request_id=convert.opt_uuid(request.request_id))
        return pb.SubmitAnswerResponse(answer=answer(stored))

    async def CompleteInterview(self, request: pb.CompleteInterviewRequest,
                                context: Ctx) -> pb.CompleteInterviewResponse:
        view = await self._c.complete(caller(), candidate_token_var.get(),
                                      convert.req_uuid(request.id))
        return pb.CompleteInterviewResponse(interview=public_interview(view))

    async def RunCode(self, request: pb.RunCodeRequest, context: Ctx) -> pb.RunCodeResponse:
        result = await self._c.run_code(
            caller(), candidate_token_var.get(), convert.req_uuid(request.id),
            question_id=request.question_id, code=request.code,
            code_language=request.code_language)
        return pb.RunCodeResponse(result=coding_result(result))
