"""Interviews from the recruiter's side: schedule, get, list, reschedule, cancel.

Who: like jobs — department users manage the interviews of their own department's jobs, company
admins those of their company, super admins all; anything outside that scope is NOT_FOUND.

Every status change goes through server/domain/interview_state.py. ScheduleInterview creates the
interview as pending and applies `schedule` in the same transaction, so it is stored scheduled.

Emails: scheduling writes an invitation, rescheduling a reschedule email (with a new link; the
old one is revoked), cancelling a cancellation email (no link; the link is revoked) — rendered in
the candidate's language and added to the outbox in the same transaction as the change. After
the commit, `kick` queues their delivery; if that fails the outbox sweeper delivers them later.

The candidate's link carries a random token; only its SHA-256 is stored (candidate_tokens), valid
until the end of the window. The candidate-facing side (exchanging the token, taking the
interview) builds on that table.

Resume: when one is given, it is read by the resume reader and matched to the job before the
transaction (server/domain/resumes.py `screen`: CPU work holds no connection); the profile and
the match are stored with the interview (`resume_profile`, `resume_match`) and GetInterview
shows the match. A resume the resume reader cannot read is stored without a match.

Personal data: the candidate's age and sex are stored and shown to recruiters but never written
to the audit log (nor given to any AI); the resume's bytes and the token never are either.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import structlog

from server.domain import access, paging
from server.domain.audit import changes, record
from server.domain.documents import DocumentReader
from server.domain.email_templates import render
from server.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from server.domain.interview_state import InterviewEvent, transition
from server.domain.jobs import job_not_found
from server.domain.models import (
    LANGUAGES,
    Caller,
    Candidate,
    Difficulty,
    EntityStatus,
    Interview,
    InterviewMode,
    InterviewStatus,
    Page,
    Principal,
    ResumeFile,
    Role,
)
from server.domain.outbox import NewEmail
from server.domain.ports import Clock, UnitOfWork, UowFactory
from server.domain.resumes import ResumeUseCases, Screening
from server.domain.support import check_etag, idempotent, keyset_page

log = structlog.get_logger(__name__)

DEFAULT_WINDOW = timedelta(hours=24)
MAX_WINDOW = timedelta(days=30)
MAX_LEAD = timedelta(days=366)

Kick = Callable[[UUID], Awaitable[None]]


def interview_not_found() -> NotFound:
    return NotFound("interview not found", reason="INTERVIEW_NOT_FOUND")


def resource(interview: Interview) -> str:
    return f"interviews/{interview.id}"


def audited(i: Interview) -> dict[str, object]:
    """What the audit log records of an interview: never age, sex, resume bytes or tokens."""
    return {
        "job_id": i.job_id, "question_set_version": i.question_set_version,
        "candidate_name": i.candidate.full_name, "candidate_email": i.candidate.email,
        "language": i.language, "mode": i.mode, "domain": i.domain,
        "difficulty": i.difficulty, "scheduled_at": i.scheduled_at.isoformat(),
        "window_end": i.window_end.isoformat(), "status": i.status,
        "resume_file_name": i.resume.file_name if i.resume else None,
        "resume_sha256": i.resume.sha256 if i.resume else None,
    }


@dataclass(frozen=True, slots=True)
class NewInterview:
    """What a recruiter gives to schedule an interview."""

    job_id: UUID
    candidate: Candidate
    language: str
    mode: InterviewMode | None
    scheduled_at: datetime | None
    window_end: datetime | None
    domain: str | None = None
    difficulty: Difficulty | None = None
    reviewer_language: str = "en"


def clean_candidate(c: Candidate) -> Candidate:
    name = c.full_name.strip()
    email = c.email.strip()
    if not name:
        raise InvalidArgument("the candidate's name is required",
                              reason="CANDIDATE_NAME_REQUIRED")
    if not email or "@" not in email:
        raise InvalidArgument("the candidate's email is required",
                              reason="CANDIDATE_EMAIL_REQUIRED")
    return Candidate(full_name=name, email=email, phone=(c.phone or "").strip() or None,
                     age=c.age, sex=c.sex)


def new_token() -> tuple[str, bytes]:
    """A candidate link token and the SHA-256 stored for it."""
    token = secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode()).digest()


class InterviewUseCases:
    def __init__(self, uow: UowFactory, documents: DocumentReader, clock: Clock, *,
                 public_base_url: str, kick: Kick, resumes: ResumeUseCases | None = None
                 ) -> None:
        self._uow = uow
        self._documents = documents
        self._clock = clock
        self._base_url = public_base_url.rstrip("/")
        self._kick = kick
        self._resumes = resumes

    # --- helpers --------------------------------------------------------------------------

    def _window(self, start: datetime | None,
                end: datetime | None) -> tuple[datetime, datetime]:
        if start is None:
            raise InvalidArgument("scheduled_time is required",
                                  reason="SCHEDULED_TIME_REQUIRED")
        end = end or start + DEFAULT_WINDOW
        if end <= start:
            raise InvalidArgument("the window must end after the scheduled time",
                                  reason="INVALID_WINDOW")
        if end - start > MAX_WINDOW:
            raise InvalidArgument(f"the window is at most {MAX_WINDOW.days} days",
                                  reason="WINDOW_TOO_LONG")
        now = self._clock.now()
        if end <= now:
            raise InvalidArgument("the window has already ended", reason="WINDOW_IN_PAST")
        if start - now > MAX_LEAD:
            raise InvalidArgument("the interview is too far in the future",
                                  reason="SCHEDULED_TOO_FAR")
        return start, end

    async def _resume(self, data: bytes, name: str | None) -> ResumeFile | None:
        if not data:
            if name:
                raise InvalidArgument("resume.file_name given without a file",
                                      reason="RESUME_FILE_MISSING")
            return None
        found = await self._documents.read(data)
        return ResumeFile(data=data, name=(name or "").strip() or None,
                          media_type=found.media_type, sha256=hashlib.sha256(data).hexdigest(),
                          text=found.text)

    async def _screen(self, p: Principal, job_id: UUID,
                      resume: ResumeFile | None) -> Screening | None:
        """The resume's profile and match, computed before the transaction: reading the file
        and embedding are CPU work that should not hold a connection (and row locks) open.
        The job is read in its own short transaction; if it changes before the interview's
        transaction, the match is recomputed there (rare)."""
        if resume is None or self._resumes is None:
            return None
        async with self._uow() as uow:
            job = await uow.jobs.get(p, job_id)
        if job is None:
            return None  # the transaction answers JOB_NOT_FOUND
        return await self._resumes.screen(job, resume.data, resume.name)

    def _link(self, token: str) -> str:
        return f"{self._base_url}/interview?token={token}"

    async def _issue_token(self, uow: UnitOfWork, interview: Interview) -> str:
        token, token_hash = new_token()
        await uow.candidate_tokens.create(interview_id=interview.id, token_hash=token_hash,
                                          expires_at=interview.window_end)
        return token

    async def _email(self, uow: UnitOfWork, caller: Caller, kind: str, interview: Interview,
                     link: str | None) -> UUID:
        """Render the email in the candidate's language and add it to the outbox."""
        p = access.require_principal(caller)
        job = await uow.jobs.get(p, interview.job_id)
        company = await uow.companies.get(p, interview.company_id)
        mail = render(kind, interview.language, name=interview.candidate.full_name,
                      job=job.title if job else "", company=company.name if company else "",
                      when=interview.scheduled_at, link=link)
        message = await uow.outbox.add(NewEmail(
            kind=kind, to=interview.candidate.email, language=interview.language,
            subject=mail.subject, text=mail.text, html=mail.html,
            company_id=interview.company_id, resource=resource(interview)))
        return message.id

    async def _deliver(self, message_ids: list[UUID]) -> None:
        """After the commit: queue delivery. A failure here only delays the email (the outbox
        sweeper picks it up), so it never fails the request."""
        for message_id in message_ids:
            try:
                await self._kick(message_id)
            except Exception as exc:  # the change is committed; the sweeper will deliver
                log.warning("could not queue email delivery", message_id=str(message_id),
                            error=str(exc))

    # --- use-cases ------------------------------------------------------------------------

    async def schedule(self, caller: Caller, new: NewInterview, *, resume_file: bytes,
                       resume_file_name: str | None, request_id: UUID | None,
                       fingerprint: bytes) -> Interview:
        p = access.require_principal(caller)
        candidate = clean_candidate(new.candidate)
        if not new.language:
            raise InvalidArgument("language is required", reason="LANGUAGE_REQUIRED")
        if new.language not in LANGUAGES:
            raise InvalidArgument("unknown language", reason="UNSUPPORTED_LANGUAGE")
        if new.mode is None:
            raise InvalidArgument("mode is required", reason="MODE_REQUIRED")
        start, end = self._window(new.scheduled_at, new.window_end)
        resume = await self._resume(resume_file, resume_file_name)
        screening = await self._screen(p, new.job_id, resume)
        sent: list[UUID] = []

        async def create(uow: UnitOfWork) -> Interview:
            sent.clear()  # a retried transaction starts over
            job = await uow.jobs.get(p, new.job_id)
            if job is None:
                raise job_not_found()
            if job.status is not EntityStatus.ACTIVE:
                raise FailedPrecondition("the job is inactive", reason="JOB_INACTIVE")
            if job.question_set_version == 0:
                raise FailedPrecondition("the job has no question set yet",
                                         reason="QUESTION_SET_MISSING")
            dept = await uow.departments.find(p, job.department_id)
            if dept is None or dept.status is not EntityStatus.ACTIVE:
                raise FailedPrecondition("the department is inactive",
                                         reason="DEPARTMENT_INACTIVE")
            if await uow.companies.status_of(job.company_id) is not EntityStatus.ACTIVE:
                raise FailedPrecondition("the company is inactive", reason="COMPANY_INACTIVE")
            screened = screening
            if (screened is not None and self._resumes is not None
                    and screened.job_version != job.version):
                screened = await self._resumes.match_for_schedule(job, screened.document)
            # Created pending, scheduled in the same transaction (see interview_state).
            status = transition(InterviewStatus.PENDING, InterviewEvent.SCHEDULE)
            interview = await uow.interviews.create(
                company_id=job.company_id, department_id=job.department_id, job_id=job.id,
                question_set_version=job.question_set_version, candidate=candidate,
                resume=resume, values={"language": new.language, "mode": new.mode,
                                       "domain": (new.domain or "").strip() or None,
                                       "difficulty": new.difficulty, "scheduled_at": start,
                                       "window_end": end,
                                       "reviewer_language": new.reviewer_language,
                                       **(screened.values() if screened else {})},
                status=status, actor_id=p.user_id)
            token = await self._issue_token(uow, interview)
            await uow.audit.append(record(caller, "interview.schedule", resource(interview),
                                          interview.company_id,
                                          changes(None, audited(interview))))
            sent.append(await self._email(uow, caller, "invitation", interview,
                                          self._link(token)))
            return interview

        async def load(uow: UnitOfWork, interview_id: UUID) -> Interview | None:
            return await uow.interviews.get(p, interview_id)

        created = await idempotent(self._uow, caller, operation="ScheduleInterview",
                                   request_id=request_id, fingerprint=fingerprint,
                                   create=create, load=load, ident=lambda i: i.id)
        await self._deliver(sent)
        return created

    async def get(self, caller: Caller, interview_id: UUID) -> Interview:
        p = access.require_principal(caller)
        async with self._uow() as uow:
            found = await uow.interviews.get(p, interview_id)
        if found is None:
            raise interview_not_found()
        return found

    async def list(self, caller: Caller, *, company_id: UUID | None,
                   department_id: UUID | None, job_id: UUID | None,
                   status: InterviewStatus | None, start: datetime | None,
                   end: datetime | None, size: int, token: str) -> Page[Interview]:
        p = access.require_principal(caller)
        filters: dict[str, object] = {
            "company_id": company_id, "department_id": department_id, "job_id": job_id,
            "status": status, "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None}

        async def fetch(uow: UnitOfWork, after: paging.Cursor | None,
                        limit: int) -> list[Interview]:
            return await uow.interviews.list(p, company_id=company_id,
                                             department_id=department_id, job_id=job_id,
                                             status=status, start=start, end=end, after=after,
                                             limit=limit)

        return await keyset_page(self._uow, filters, size, token, fetch=fetch,
                                 cursor=lambda i: paging.Cursor(i.scheduled_at, str(i.id)))

    async def reschedule(self, caller: Caller, interview_id: UUID, *,
                         scheduled_at: datetime | None, window_end: datetime | None,
                         etag: str) -> Interview:
        p = access.require_principal(caller)
        start, end = self._window(scheduled_at, window_end)
        async with self._uow() as uow:
            before = await uow.interviews.get(p, interview_id, for_update=True)
            if before is None:
                raise interview_not_found()
            check_etag(etag, before.version)
            status = transition(before.status, InterviewEvent.RESCHEDULE)
            after = await uow.interviews.update(
                interview_id, {"scheduled_at": start, "window_end": end, "status": status},
                p.user_id)
            await uow.candidate_tokens.revoke_all(interview_id, self._clock.now())
            token = await self._issue_token(uow, after)
            await uow.audit.append(record(caller, "interview.reschedule", resource(after),
                                          after.company_id,
                                          changes(audited(before), audited(after))))
            sent = [await self._email(uow, caller, "reschedule", after, self._link(token))]
        await self._deliver(sent)
        return after

    async def cancel(self, caller: Caller, interview_id: UUID, *, reason: str,
                     etag: str) -> Interview:
        p = access.require_principal(caller)
        async with self._uow() as uow:
            before = await uow.interviews.get(p, interview_id, for_update=True)
            if before is None:
                raise interview_not_found()
            check_etag(etag, before.version)
            status = transition(before.status, InterviewEvent.CANCEL)
            after = await uow.interviews.update(
                interview_id, {"status": status, "cancel_reason": reason.strip() or None},
                p.user_id)
            await uow.candidate_tokens.revoke_all(interview_id, self._clock.now())
            await uow.audit.append(record(
                caller, "interview.cancel", resource(after), after.company_id,
                changes({"status": before.status, "cancel_reason": before.cancel_reason},
                        {"status": after.status, "cancel_reason": after.cancel_reason})))
            sent = [await self._email(uow, caller, "cancellation", after, None)]
        await self._deliver(sent)
        return after

    # --- timers (run by the job queue) ---------------------------------------------------

    async def send_reminders(self, lead: timedelta) -> int:
        """Remind candidates whose interview starts within `lead`, once per interview. The
        reminder carries a fresh link token (only hashes are stored, so the invitation's
        token cannot be shown again); the outbox row itself records that it was sent."""
        now = self._clock.now()
        async with self._uow() as uow:
            due = await uow.interviews.due_for_reminder(now, now + lead)
        caller = system_caller()
        sent: list[UUID] = []
        for interview_id in due:
            async with self._uow() as uow:
                interview = await uow.interviews.get(SYSTEM, interview_id, for_update=True)
                if interview is None or interview.status is not InterviewStatus.SCHEDULED:
                    continue
                if interview_id not in await uow.interviews.due_for_reminder(now, now + lead):
                    continue  # another worker reminded it meanwhile
                token = await self._issue_token(uow, interview)
                sent.append(await self._email(uow, caller, "reminder", interview,
                                              self._link(token)))
                await uow.audit.append(record(caller, "interview.remind", resource(interview),
                                              interview.company_id))
        await self._deliver(sent)
        return len(sent)

    async def expire_overdue(self) -> int:
        """Move interviews whose window has ended to EXPIRED (through the state machine) and
        revoke their tokens."""
        now = self._clock.now()
        async with self._uow() as uow:
            overdue = await uow.interviews.past_window(now)
        caller = system_caller()
        expired = 0
        for interview_id in overdue:
            async with self._uow() as uow:
                before = await uow.interviews.get(SYSTEM, interview_id, for_update=True)
                if before is None or before.window_end > now:
                    continue
                try:
                    status = transition(before.status, InterviewEvent.EXPIRE)
                except FailedPrecondition:
                    continue  # completed or cancelled meanwhile
                after = await uow.interviews.update(interview_id, {"status": status}, None)
                await uow.candidate_tokens.revoke_all(interview_id, now)
                await uow.audit.append(record(caller, "interview.expire", resource(after),
                                              after.company_id,
                                              changes({"status": before.status},
                                                      {"status": after.status})))
                expired += 1
        return expired


# Background jobs act as the platform itself: every tenant is visible to them, and the audit
# log shows them as the "system" actor.
SYSTEM = Principal(user_id=UUID(int=0), email="system", role=Role.SUPER_ADMIN, company_id=None,
                   department_id=None, token_id="system", expires_at=datetime.max.replace(
                       tzinfo=UTC))


def system_caller() -> Caller:
    return Caller(principal=SYSTEM, request_id="job", client_address="")

