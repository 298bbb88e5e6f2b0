"""ResumeService: proto -> use-case -> proto, and the resume conversions (also used for
Interview.resume_match). RankResumes is server-streaming: one message per progress event,
then the ranking."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from grpc import aio
from interviewplatform.v1 import resume_pb2, resume_service_pb2_grpc
from interviewplatform.v1 import resume_service_pb2 as pb

from server.api import convert
from server.context import caller
from server.domain.resume_models import FlagKind, ResumeMatch, ResumeProfile
from server.domain.resumes import (
    RankedResume,
    RankProgress,
    ResumeUseCases,
    UploadedResume,
)

Ctx = aio.ServicerContext[Any, Any]

FLAG_TO_PROTO: dict[FlagKind, resume_pb2.ResumeFlagKind.ValueType] = {
    FlagKind.HIDDEN_TEXT: resume_pb2.RESUME_FLAG_KIND_HIDDEN_TEXT,
    FlagKind.TINY_FONT: resume_pb2.RESUME_FLAG_KIND_TINY_FONT,
    FlagKind.OFF_PAGE: resume_pb2.RESUME_FLAG_KIND_OFF_PAGE,
    FlagKind.ZERO_WIDTH: resume_pb2.RESUME_FLAG_KIND_ZERO_WIDTH,
    FlagKind.PROMPT_INJECTION: resume_pb2.RESUME_FLAG_KIND_PROMPT_INJECTION,
    FlagKind.KEYWORD_STUFFING: resume_pb2.RESUME_FLAG_KIND_KEYWORD_STUFFING,
    FlagKind.TRUNCATED: resume_pb2.RESUME_FLAG_KIND_TRUNCATED,
}


def profile(p: ResumeProfile) -> resume_pb2.ResumeProfile:
    return resume_pb2.ResumeProfile(
        name=p.name, emails=list(p.emails), phones=list(p.phones), links=list(p.links),
        skills=[resume_pb2.ResumeSkill(name=s.name, mentions=list(s.mentions))
                for s in p.skills],
        experience=[resume_pb2.ResumeExperience(
            title=e.title, organization=e.organization, start=e.start, end=e.end,
            current=e.current, months=e.months) for e in p.experience],
        total_years=p.total_years,
        education=[resume_pb2.ResumeEducation(degree=e.degree, institution=e.institution,
                                              year=e.year) for e in p.education],
        spoken_languages=list(p.spoken_languages), language=p.language,
        flags=[resume_pb2.ResumeFlag(kind=FLAG_TO_PROTO[f.kind], detail=f.detail,
                                     excerpt=f.excerpt, page=f.page) for f in p.flags],
        page_count=p.page_count, ocr=p.ocr, media_type=p.media_type, sha256=p.sha256,
        text_chars=p.text_chars)


def match(m: ResumeMatch) -> resume_pb2.ResumeMatch:
    return resume_pb2.ResumeMatch(
        score=m.score, matched_skills=list(m.matched_skills),
        missing_skills=list(m.missing_skills), experience_fit=m.experience_fit,
        semantic_similarity=m.semantic_similarity, explanation=m.explanation,
        flagged=m.flagged, decision_ids=list(m.decision_ids))


def ranked(r: RankedResume) -> pb.RankedResume:
    return pb.RankedResume(
        rank=r.rank, reference=r.reference, file_name=r.file_name,
        interview_id=convert.id_str(r.interview_id), match=match(r.match) if r.match else None,
        name=r.name, error_reason=r.error_reason)


def upload(f: pb.ResumeFile) -> UploadedResume:
    return UploadedResume(data=f.content, file_name=f.file_name, reference=f.reference)


class ResumeService(resume_service_pb2_grpc.ResumeServiceServicer):
    def __init__(self, resumes: ResumeUseCases) -> None:
        self._r = resumes

    async def ParseResume(self, request: pb.ParseResumeRequest,
                          context: Ctx) -> pb.ParseResumeResponse:
        found = await self._r.parse(caller(), upload(request.resume))
        return pb.ParseResumeResponse(profile=profile(found))

    async def MatchResume(self, request: pb.MatchResumeRequest,
                          context: Ctx) -> pb.MatchResumeResponse:
        found, extracted = await self._r.match(
            caller(), convert.req_uuid(request.job_id, "job_id"),
            upload=upload(request.resume) if request.HasField("resume") else None,
            interview_id=convert.opt_uuid(request.interview_id))
        return pb.MatchResumeResponse(match=match(found), profile=profile(extracted))

    async def RankResumes(self, request: pb.RankResumesRequest,
                          context: Ctx) -> AsyncIterator[pb.RankResumesResponse]:
        events = self._r.rank(caller(), convert.req_uuid(request.job_id, "job_id"),
                              [upload(f) for f in request.resumes],
                              from_interviews=request.from_interviews)
        async for event in events:
            if isinstance(event, RankProgress):
                yield pb.RankResumesResponse(progress=pb.RankProgress(done=event.done,
                                                                      total=event.total))
            else:
                yield pb.RankResumesResponse(ranking=pb.Ranking(
                    resumes=[ranked(r) for r in event.resumes]))
