"""Resumes: parse one, match one to a job, rank many against a job, and the match made when an
interview is scheduled with a resume.

Who: any staff member may parse (nothing is stored and no tenant data is read). Matching and
ranking read a job, scoped like JobService (`uow.jobs.get(principal, id)`): a job — or an
interview — outside the caller's reach is NOT_FOUND.

Work happens outside transactions: a transaction only reads the job (and the interviews'
resume files, one at a time); reading files, extracting profiles and embeddings run after it,
so no database connection waits on CPU work.

Ranking (`rank`) is an async generator: progress first (0 of N), then as resumes are read —
at most `concurrency` at a time, every ~2% and at least every half second — and last the
ranking, best first. A resume that cannot be read (corrupt, password-protected, no text) does
not fail the ranking: it is listed last with its reason. Matching is one batched call for all
resumes, so the job's embedding and the skills' embeddings are computed once.

Scheduling (`screen`): the interview use-case reads the resume with the resume reader, and
stores the profile and the match as JSON on the interview (`resume_profile`, `resume_match`);
GetInterview returns the match (`Interview.resume_match`). A resume the reader cannot read does not
block scheduling (the document reader already accepted it): it is stored without a match.

The providers behind the Protocols below are local (server/providers/resume): no AI call is
made, so `decision_ids` stay empty.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, cast
from uuid import UUID

import structlog

from server.domain import access
from server.domain.errors import DomainError, FailedPrecondition, InvalidArgument, NotFound
from server.domain.jobs import job_not_found
from server.domain.models import Caller, Job, Principal
from server.domain.ports import UowFactory
from server.domain.resume_models import (
    Education,
    Experience,
    FlagKind,
    ResumeDocument,
    ResumeFlag,
    ResumeMatch,
    ResumeProfile,
    Skill,
)

log = structlog.get_logger(__name__)

MAX_RESUMES = 1000
PROGRESS_SECONDS = 0.5


class ResumeReading(Protocol):
    """server/providers/resume/reader.py: visible text and flags; InvalidArgument with a
    reason (FILE_TOO_LARGE, CORRUPT_FILE, PASSWORD_PROTECTED, NO_TEXT, …) otherwise."""

    async def read(self, data: bytes, file_name: str | None = None) -> ResumeDocument: ...


class ResumeAnalysis(Protocol):
    """server/providers/resume/matcher.py: profiles and matches (local, deterministic)."""

    async def profile(self, document: ResumeDocument) -> ResumeProfile: ...
    async def match_many(self, job: Job, items: Sequence[tuple[ResumeProfile, ResumeDocument]]
                         ) -> list[ResumeMatch]: ...


def interview_not_found() -> NotFound:
    return NotFound("interview not found", reason="INTERVIEW_NOT_FOUND")


@dataclass(frozen=True, slots=True)
class UploadedResume:
    data: bytes
    file_name: str = ""
    reference: str = ""


@dataclass(frozen=True, slots=True)
class RankedResume:
    rank: int
    reference: str
    file_name: str
    interview_id: UUID | None
    match: ResumeMatch | None
    name: str
    error_reason: str = ""


@dataclass(frozen=True, slots=True)
class RankProgress:
    done: int
    total: int


@dataclass(frozen=True, slots=True)
class Ranking:
    resumes: tuple[RankedResume, ...] = field(default=())


RankEvent = RankProgress | Ranking


@dataclass(frozen=True, slots=True)
class Screening:
    """What scheduling stores: the profile and the match, as JSON for the interview row."""

    profile: ResumeProfile
    match: ResumeMatch
    job_version: int
    document: ResumeDocument

    def values(self) -> dict[str, object]:
        return {"resume_profile": profile_json(self.profile),
                "resume_match": match_json(self.match)}


# --- JSON for the interview's columns ----------------------------------------------------------

def profile_json(profile: ResumeProfile) -> dict[str, Any]:
    return asdict(profile)


def match_json(match: ResumeMatch) -> dict[str, Any]:
    return asdict(match)


def match_from_json(data: dict[str, Any]) -> ResumeMatch:
    return ResumeMatch(
        score=float(data.get("score", 0)), matched_skills=tuple(data.get("matched_skills", ())),
        missing_skills=tuple(data.get("missing_skills", ())),
        experience_fit=float(data.get("experience_fit", 0)),
        semantic_similarity=float(data.get("semantic_similarity", 0)),
        explanation=str(data.get("explanation", "")), flagged=bool(data.get("flagged")),
        decision_ids=tuple(data.get("decision_ids", ())))


def profile_from_json(data: dict[str, Any]) -> ResumeProfile:
    return ResumeProfile(
        name=data.get("name", ""), emails=tuple(data.get("emails", ())),
        phones=tuple(data.get("phones", ())), links=tuple(data.get("links", ())),
        skills=tuple(Skill(name=s["name"], mentions=tuple(s.get("mentions", ())))
                     for s in data.get("skills", ())),
        experience=tuple(Experience(**e) for e in data.get("experience", ())),
        total_years=float(data.get("total_years", 0)),
        education=tuple(Education(**e) for e in data.get("education", ())),
        spoken_languages=tuple(data.get("spoken_languages", ())),
        language=data.get("language", ""),
        flags=tuple(ResumeFlag(kind=FlagKind(f["kind"]), detail=f.get("detail", ""),
                               excerpt=f.get("excerpt", ""), page=int(f.get("page", 0)))
                    for f in data.get("flags", ())),
        page_count=int(data.get("page_count", 0)), ocr=bool(data.get("ocr")),
        media_type=data.get("media_type", ""), sha256=data.get("sha256", ""),
        text_chars=int(data.get("text_chars", 0)))


# --- use-cases -----------------------------------------------------------------------------------

@dataclass(slots=True)
class _Source:
    index: int
    reference: str
    file_name: str
    interview_id: UUID | None = None
    data: bytes | None = None


@dataclass(slots=True)
class _Parsed:
    source: _Source
    profile: ResumeProfile | None = None
    document: ResumeDocument | None = None
    error: str = ""


class ResumeUseCases:
    def __init__(self, uow: UowFactory, reader: ResumeReading, analysis: ResumeAnalysis, *,
                 concurrency: int = 4) -> None:
        self._uow = uow
        self._reader = reader
        self._analysis = analysis
        self._concurrency = max(1, concurrency)

    async def _read(self, data: bytes, file_name: str) -> tuple[ResumeProfile, ResumeDocument]:
        if not data:
            raise InvalidArgument("resume.content is required", reason="RESUME_FILE_MISSING")
        document = await self._reader.read(data, file_name or None)
        return await self._analysis.profile(document), document

    async def _job(self, p: Principal, job_id: UUID) -> Job:
        async with self._uow() as uow:
            job = await uow.jobs.get(p, job_id)
        if job is None:
            raise job_not_found()
        return job

    async def parse(self, caller: Caller, upload: UploadedResume) -> ResumeProfile:
        access.require_principal(caller)
        profile, _ = await self._read(upload.data, upload.file_name)
        return profile

    async def match(self, caller: Caller, job_id: UUID, *, upload: UploadedResume | None,
                    interview_id: UUID | None) -> tuple[ResumeMatch, ResumeProfile]:
        """Match an uploaded resume, or the stored resume of one of the job's interviews."""
        p = access.require_principal(caller)
        job = await self._job(p, job_id)
        if interview_id is not None:
            async with self._uow() as uow:
                found = await uow.interviews.resume_file(p, interview_id)
            if found is None or found[0] != job.id:
                raise interview_not_found()
            _, data, name = found
            if not data:
                raise FailedPrecondition("the interview has no resume", reason="RESUME_MISSING")
            profile, document = await self._read(data, name or "")
        elif upload is not None and upload.data:
            profile, document = await self._read(upload.data, upload.file_name)
        else:
            raise InvalidArgument("give a resume or an interview_id",
                                  reason="RESUME_FILE_MISSING")
        match = (await self._analysis.match_many(job, [(profile, document)]))[0]
        return match, profile

    async def rank(self, caller: Caller, job_id: UUID, uploads: Sequence[UploadedResume], *,
                   from_interviews: bool) -> AsyncIterator[RankEvent]:
        """Progress events, then the ranking (see the module docstring)."""
        p = access.require_principal(caller)
        job = await self._job(p, job_id)
        sources = [_Source(index=i, reference=u.reference, file_name=u.file_name, data=u.data)
                   for i, u in enumerate(uploads)]
        if from_interviews:
            async with self._uow() as uow:
                stored = await uow.interviews.with_resumes(p, job.id, MAX_RESUMES + 1)
            sources += [_Source(index=len(sources) + i, reference=str(iid),
                                file_name=name or "", interview_id=iid)
                        for i, (iid, name) in enumerate(stored)]
        elif not sources:
            raise InvalidArgument("give resumes or set from_interviews",
                                  reason="RESUME_FILE_MISSING")
        if len(sources) > MAX_RESUMES:
            raise InvalidArgument(f"at most {MAX_RESUMES} resumes per ranking",
                                  reason="TOO_MANY_RESUMES",
                                  metadata={"max": str(MAX_RESUMES)})
        total = len(sources)
        yield RankProgress(done=0, total=total)
        gate = asyncio.Semaphore(self._concurrency)
        tasks = [asyncio.create_task(self._parse_one(p, source, gate)) for source in sources]
        parsed: list[_Parsed] = []
        step = max(1, total // 50)
        last = time.monotonic()
        try:
            for next_done in asyncio.as_completed(tasks):
                parsed.append(await next_done)
                done = len(parsed)
                if done < total and (done % step == 0
                                     or time.monotonic() - last >= PROGRESS_SECONDS):
                    last = time.monotonic()
                    yield RankProgress(done=done, total=total)
        finally:
            for task in tasks:
                task.cancel()
        yield RankProgress(done=total, total=total)
        yield Ranking(resumes=tuple(await self._ranked(job, parsed)))

    async def _parse_one(self, p: Principal, source: _Source,
                         gate: asyncio.Semaphore) -> _Parsed:
        async with gate:
            try:
                data = source.data
                if source.interview_id is not None:
                    async with self._uow() as uow:
                        found = await uow.interviews.resume_file(p, source.interview_id)
                    data = found[1] if found else b""
                profile, document = await self._read(data or b"", source.file_name)
                return _Parsed(source=source, profile=profile, document=document)
            except DomainError as exc:
                return _Parsed(source=source, error=exc.reason)
            except Exception:  # one unreadable file never fails the ranking
                log.exception("resume could not be ranked", index=source.index)
                return _Parsed(source=source, error="UNREADABLE_FILE")

    async def _ranked(self, job: Job, parsed: list[_Parsed]) -> list[RankedResume]:
        good = sorted((x for x in parsed if x.profile is not None),
                      key=lambda x: x.source.index)
        bad = sorted((x for x in parsed if x.profile is None), key=lambda x: x.source.index)
        matches = await self._analysis.match_many(
            job, [(cast(ResumeProfile, x.profile), cast(ResumeDocument, x.document))
                  for x in good]) if good else []
        scored = sorted(zip(good, matches, strict=True),
                        key=lambda pair: (-pair[1].score, pair[1].flagged, pair[0].source.index))
        out: list[RankedResume] = []
        for x, match in scored:
            out.append(RankedResume(
                rank=len(out) + 1, reference=x.source.reference, file_name=x.source.file_name,
                interview_id=x.source.interview_id, match=match,
                name=cast(ResumeProfile, x.profile).name))
        for x in bad:
            out.append(RankedResume(
                rank=len(out) + 1, reference=x.source.reference, file_name=x.source.file_name,
                interview_id=x.source.interview_id, match=None, name="",
                error_reason=x.error))
        return out

    # --- scheduling -----------------------------------------------------------------------

    async def match_for_schedule(self, job: Job,
                                 resume_document: ResumeDocument) -> Screening:
        """The profile and match stored on an interview scheduled with this resume."""
        profile = await self._analysis.profile(resume_document)
        match = (await self._analysis.match_many(job, [(profile, resume_document)]))[0]
        return Screening(profile=profile, match=match, job_version=job.version,
                         document=resume_document)

    async def screen(self, job: Job, data: bytes, file_name: str | None) -> Screening | None:
        """Read and match a resume given at scheduling; None when it cannot be read."""
        try:
            document = await self._reader.read(data, file_name)
        except DomainError as exc:
            log.info("resume not screened at scheduling", reason=exc.reason)
            return None
        return await self.match_for_schedule(job, document)

