"""The candidate's side of an interview: the public view, start, next question, answers,
complete — reached with the candidate's link token, never with a staff access token.

The token: the invitation link carries a random token; only its SHA-256 is stored
(candidate_tokens). A call hashes the token it was given and looks it up: unknown →
UNAUTHENTICATED CANDIDATE_TOKEN_INVALID; revoked (reschedule, cancel) →
CANDIDATE_TOKEN_REVOKED; issued for another interview than the one named → NOT_FOUND (the
interview's existence is not revealed). After the window (the token's expiry) an interview that
was not completed answers FAILED_PRECONDITION INTERVIEW_EXPIRED, and is moved to EXPIRED through
the state machine when first noticed; a completed interview's token just expires
(CANDIDATE_TOKEN_EXPIRED).

Nothing returned here ever carries expected answers, keywords, rubrics or hidden tests: the
servicer only has `PublicQuestion`s to fill, from the fields picked in `public_question`.

Questions: STATIC serves the pinned question set in order (the first unanswered question).
DYNAMIC asks the QuestionProvider (server/domain/adaptive.py: the AI chooses a probe, a deeper
or the next question from the answers so far) and stores the chosen question
(interview_questions) with the decision records in the same transaction before showing it; the
same unanswered question is shown again until it is answered, and answers are accepted for
stored questions only. A DYNAMIC interview asks as many questions as its pinned set has.

Completion queues the interview's evaluation in the same transaction; after the commit `kick`
enqueues the evaluation job (a sweeper catches a lost enqueue).

RunCode runs the candidate's code on a coding question's visible examples in the sandbox.

Answers: one per question, never changed. The same answer again (same content, or the same
request_id) returns the stored one; a different answer is ALREADY_EXISTS ANSWER_EXISTS; after
completion FAILED_PRECONDITION INTERVIEW_COMPLETED. The window's end bounds everything.

Audit: start, answer (the question id only) and complete are recorded with no actor (the
candidate is not a user) on interviews/{id}.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TypeVar
from uuid import UUID

import structlog

from server.domain import access
from server.domain.ai import CodingResult
from server.domain.audit import changes, record
from server.domain.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unauthenticated,
)
from server.domain.evaluation_models import AskedQuestion
from server.domain.interview_state import InterviewEvent, transition
from server.domain.models import (
    Answer,
    AnswerAudio,
    Caller,
    Difficulty,
    Interview,
    InterviewMode,
    InterviewStatus,
    Principal,
    Question,
    QuestionSet,
    QuestionType,
    Role,
)
from server.domain.ports import (
    ChosenQuestion,
    Clock,
    CodeRunner,
    QuestionContext,
    QuestionProvider,
    UnitOfWork,
    UowFactory,
)

log = structlog.get_logger(__name__)
Kick = Callable[[UUID], Awaitable[None]]

T = TypeVar("T")

# The candidate is no user: their reads go through the repositories' scope as the platform.
PLATFORM = Principal(user_id=UUID(int=0), email="candidate-flow", role=Role.SUPER_ADMIN,
                     company_id=None, department_id=None, token_id="candidate",
                     expires_at=datetime.max.replace(tzinfo=UTC))


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def interview_expired() -> FailedPrecondition:
    return FailedPrecondition("the interview's window has ended", reason="INTERVIEW_EXPIRED")


def interview_completed() -> FailedPrecondition:
    return FailedPrecondition("the interview is completed", reason="INTERVIEW_COMPLETED")


def resource(interview: Interview) -> str:
    return f"interviews/{interview.id}"


@dataclass(frozen=True, slots=True)
class PublicView:
    """What a candidate may see of an interview."""

    interview: Interview
    job_title: str
    company_name: str
    question_count: int
    answered_count: int


@dataclass(frozen=True, slots=True)
class PublicQuestion:
    """A question as a candidate sees it: no expected answer, keywords, rubric, hidden tests."""

    id: str
    position: int
    type: QuestionType
    difficulty: Difficulty
    text: str
    language: str
    starter_code: str
    code_language: str
    examples: tuple[tuple[str, str], ...]


def public_question(q: Question, position: int, language: str,
                    default_language: str) -> PublicQuestion:
    lang = language if language in q.texts else default_language
    if lang not in q.texts:
        lang = next(iter(q.texts))
    coding = q.type is QuestionType.CODING
    return PublicQuestion(
        id=q.id, position=position, type=q.type, difficulty=q.difficulty,
        text=q.texts[lang], language=lang,
        starter_code=q.starter_code if coding else "",
        code_language=q.code_language if coding else "",
        examples=tuple((e.input, e.expected_output) for e in q.examples) if coding else ())


def unique_id(wanted: str, asked: tuple[Question, ...]) -> str:
    """The chosen question's id, made unique within the interview (a probe may come twice)."""
    taken = {q.id for q in asked}
    base = (wanted or "q")[:56]
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, 1000) if f"{base}-{n}" not in taken)


def first_unanswered(questions: tuple[Question, ...],
                     answers: tuple[Answer, ...]) -> Question | None:
    answered = {a.question_id for a in answers}
    return next((q for q in questions if q.id not in answered), None)


@dataclass(frozen=True, slots=True)
class AskedQuestionView:
    """A question asked in an in-progress interview, for the speech use-cases."""

    interview: Interview
    question: Question
    position: int
    default_language: str
    answered: bool


class CandidateUseCases:
    def __init__(self, uow: UowFactory, clock: Clock, provider: QuestionProvider,
                 runner: CodeRunner, kick: Kick) -> None:
        self._uow = uow
        self._clock = clock
        self._provider = provider
        self._runner = runner
        self._kick = kick

    # --- the token and the window ---------------------------------------------------------

    async def _open(self, uow: UnitOfWork, token: str, interview_id: UUID) -> Interview:
        found = await uow.candidates.token(token_hash(token)) if token else None
        if found is None:
            raise Unauthenticated("invalid interview link", reason="CANDIDATE_TOKEN_INVALID")
        if found.interview_id != interview_id:
            raise NotFound("interview not found", reason="INTERVIEW_NOT_FOUND")
        interview = await uow.interviews.get(PLATFORM, interview_id, for_update=True)
        if interview is None:
            raise NotFound("interview not found", reason="INTERVIEW_NOT_FOUND")
        if found.revoked_at is not None:
            if interview.status is InterviewStatus.EXPIRED:
                raise interview_expired()
            raise Unauthenticated("this interview link is no longer valid",
                                  reason="CANDIDATE_TOKEN_REVOKED")
        return interview

    async def _run(self, caller: Caller, token: str, interview_id: UUID,
                   body: Callable[[UnitOfWork, Interview], Awaitable[T]]) -> T:
        """Check the token and the window, then run `body` in the same transaction. An
        interview found past its window is moved to EXPIRED (committed) before answering."""
        async with self._uow() as uow:
            interview = await self._open(uow, token, interview_id)
            if self._clock.now() < interview.window_end:
                return await body(uow, interview)
            if interview.status in (InterviewStatus.COMPLETED, InterviewStatus.CANCELLED):
                raise Unauthenticated("this interview link has expired",
                                      reason="CANDIDATE_TOKEN_EXPIRED")
            if interview.status is not InterviewStatus.EXPIRED:
                status = transition(interview.status, InterviewEvent.EXPIRE)
                after = await uow.interviews.update(interview.id, {"status": status}, None)
                await uow.candidate_tokens.revoke_all(interview.id, self._clock.now())
                await uow.audit.append(record(
                    caller, "interview.expire", resource(after), after.company_id,
                    changes({"status": interview.status}, {"status": after.status})))
        raise interview_expired()

    async def _question_set(self, uow: UnitOfWork, interview: Interview) -> QuestionSet:
        found = await uow.question_sets.get(interview.job_id, interview.question_set_version)
        if found is None:  # the foreign key makes this impossible
            raise FailedPrecondition("the question set is missing",
                                     reason="QUESTION_SET_MISSING")
        return found

    async def _view(self, uow: UnitOfWork, interview: Interview) -> PublicView:
        job = await uow.jobs.get(PLATFORM, interview.job_id)
        company = await uow.companies.get(PLATFORM, interview.company_id)
        qs = await self._question_set(uow, interview)
        answers = await uow.candidates.answers(interview.id)
        return PublicView(interview=interview, job_title=job.title if job else "",
                          company_name=company.name if company else "",
                          question_count=len(qs.questions), answered_count=len(answers))

    @staticmethod
    def _require_in_progress(interview: Interview) -> None:
        if interview.status is InterviewStatus.IN_PROGRESS:
            return
        if interview.status is InterviewStatus.COMPLETED:
            raise interview_completed()
        if interview.status is InterviewStatus.SCHEDULED:
            raise FailedPrecondition("the interview has not been started",
                                     reason="INTERVIEW_NOT_STARTED")
        raise FailedPrecondition(f"the interview is {interview.status.value}",
                                 reason="ILLEGAL_TRANSITION",
                                 metadata={"status": interview.status.value})

    # --- use-cases ------------------------------------------------------------------------

    async def get(self, caller: Caller, token: str, interview_id: UUID) -> PublicView:
        return await self._run(caller, token, interview_id, self._view)

    async def start(self, caller: Caller, token: str, interview_id: UUID) -> PublicView:
        async def body(uow: UnitOfWork, interview: Interview) -> PublicView:
            if interview.status is InterviewStatus.IN_PROGRESS:
                return await self._view(uow, interview)
            if (interview.status is InterviewStatus.SCHEDULED
                    and self._clock.now() < interview.scheduled_at):
                raise FailedPrecondition("the interview has not started yet",
                                         reason="NOT_STARTED_YET",
                                         metadata={"scheduled_time":
                                                   interview.scheduled_at.isoformat()})
            status = transition(interview.status, InterviewEvent.START)
            after = await uow.interviews.update(interview.id, {"status": status}, None)
            await uow.audit.append(record(
                caller, "interview.start", resource(after), after.company_id,
                changes({"status": interview.status}, {"status": after.status})))
            return await self._view(uow, after)

        return await self._run(caller, token, interview_id, body)

    async def _questions(self, uow: UnitOfWork, interview: Interview,
                         qs: QuestionSet) -> tuple[Question, ...]:
        """The questions a candidate may answer: the pinned set (STATIC) or the ones asked."""
        if interview.mode is InterviewMode.DYNAMIC:
            return tuple(a.question for a in await uow.asked_questions.list(interview.id))
        return qs.questions

    async def next_question(self, caller: Caller, token: str,
                            interview_id: UUID) -> PublicQuestion | None:
        """The first unanswered question. For a DYNAMIC interview whose asked questions are all
        answered, the provider chooses the next one OUTSIDE any transaction (an AI call may take
        seconds; no row lock is held meanwhile), then it is stored — unless another call stored
        one in between, in which case that one is shown (the choice's AI records are kept)."""
        async def peek(uow: UnitOfWork, interview: Interview
                       ) -> tuple[PublicQuestion | None, QuestionContext | None]:
            self._require_in_progress(interview)
            qs = await self._question_set(uow, interview)
            answers = tuple(await uow.candidates.answers(interview.id))
            asked = await self._questions(uow, interview, qs)
            question = first_unanswered(asked, answers)
            if question is not None:
                position = next(n for n, q in enumerate(asked, 1) if q.id == question.id)
                return public_question(question, position, interview.language,
                                       qs.default_language), None
            if interview.mode is not InterviewMode.DYNAMIC or len(asked) >= len(qs.questions):
                return None, None
            job = await uow.jobs.get(PLATFORM, interview.job_id)
            assert job is not None  # the foreign key
            return None, QuestionContext(interview=interview, job=job, question_set=qs,
                                         asked=asked, answers=answers)

        for _ in range(3):
            shown, context = await self._run(caller, token, interview_id, peek)
            if context is None:
                return shown
            chosen = await self._provider.next_question(context)
            stored = await self._run(caller, token, interview_id,
                                     functools.partial(self._store_chosen, context=context,
                                                       chosen=chosen))
            if stored is not None:
                return stored
        raise Aborted("the next question is being chosen by another request; try again",
                      reason="CONCURRENT_REQUEST")

    async def _store_chosen(self, uow: UnitOfWork, interview: Interview, *,
                            context: QuestionContext,
                            chosen: ChosenQuestion) -> PublicQuestion | None:
        """Store the chosen question (and the AI records that chose it) if nothing was asked
        since the choice began; None when another request got there first."""
        self._require_in_progress(interview)
        await uow.decisions.add_many(chosen.decisions)
        asked = await self._questions(uow, interview, context.question_set)
        if len(asked) != len(context.asked):
            return None
        question = replace(chosen.question, id=unique_id(chosen.question.id, asked))
        if not await uow.asked_questions.add(interview.id, AskedQuestion(
                question=question, position=len(asked) + 1, kind=chosen.kind,
                rationale=chosen.rationale)):
            return None
        return public_question(question, len(asked) + 1, interview.language,
                               context.question_set.default_language)

    async def _asked(self, uow: UnitOfWork, interview: Interview,
                     question_id: str) -> tuple[int, Question, QuestionSet]:
        """In progress, and `question_id` one of the questions a candidate may answer: its
        position, the question and the pinned set. NOT_FOUND QUESTION_NOT_FOUND otherwise."""
        self._require_in_progress(interview)
        qs = await self._question_set(uow, interview)
        for position, question in enumerate(await self._questions(uow, interview, qs), 1):
            if question.id == question_id:
                return position, question, qs
        raise NotFound("no such question in this interview", reason="QUESTION_NOT_FOUND")

    async def run_code(self, caller: Caller, token: str, interview_id: UUID, *,
                       question_id: str, code: str, code_language: str) -> CodingResult:
        async def body(uow: UnitOfWork, interview: Interview) -> Question:
            _, question, _ = await self._asked(uow, interview, question_id)
            if question.type is not QuestionType.CODING:
                raise InvalidArgument("only coding questions run code",
                                      reason="CODE_NOT_EXPECTED")
            return question

        question = await self._run(caller, token, interview_id, body)
        language = code_language or question.code_language
        if language not in self._runner.languages():
            raise InvalidArgument(f"{language} cannot be run here",
                                  reason="CODE_LANGUAGE_UNSUPPORTED",
                                  metadata={"supported": ",".join(self._runner.languages())})
        return await self._runner.run(language, code, question.examples, hidden=False)

    async def asked_question(self, caller: Caller, token: str, interview_id: UUID,
                             question_id: str) -> AskedQuestionView:
        """The token, the window, in progress, and a question asked in this interview."""
        async def body(uow: UnitOfWork, interview: Interview) -> AskedQuestionView:
            position, question, qs = await self._asked(uow, interview, question_id)
            answers = await uow.candidates.answers(interview.id)
            return AskedQuestionView(
                interview=interview, question=question, position=position,
                default_language=qs.default_language,
                answered=any(a.question_id == question_id for a in answers))

        return await self._run(caller, token, interview_id, body)

    async def answer(self, caller: Caller, token: str, interview_id: UUID, *,
                     question_id: str, text: str, code: str, code_language: str,
                     request_id: UUID | None, audio: AnswerAudio | None = None,
                     recording: bytes = b"") -> Answer:
        if not text.strip() and not code.strip():
            raise InvalidArgument("an answer needs text or code", reason="ANSWER_EMPTY")

        async def body(uow: UnitOfWork, interview: Interview) -> Answer:
            position, question, _ = await self._asked(uow, interview, question_id)
            if code and question.type is not QuestionType.CODING:
                raise InvalidArgument("code answers only coding questions",
                                      reason="CODE_NOT_EXPECTED")
            language = (code_language or question.code_language) if code else ""
            answers = await uow.candidates.answers(interview.id)
            existing = next((a for a in answers if a.question_id == question_id), None)
            if existing is not None:
                same = (existing.text, existing.code, existing.code_language) == (
                    text, code, language)
                if same or (request_id is not None and existing.request_id == request_id):
                    return existing
                raise AlreadyExists("this question is already answered",
                                    reason="ANSWER_EXISTS", metadata={"question_id": question_id})
            stored = await uow.candidates.add_answer(Answer(
                interview_id=interview.id, question_id=question_id, position=position,
                text=text, code=code, code_language=language, request_id=request_id,
                created_at=self._clock.now(), audio=audio))
            if recording:
                await uow.candidates.keep_recording(interview.id, question_id, recording)
            await uow.audit.append(record(caller, "interview.answer", resource(interview),
                                          interview.company_id,
                                          changes(None, {"question_id": question_id})))
            return stored

        return await self._run(caller, token, interview_id, body)

    async def complete(self, caller: Caller, token: str, interview_id: UUID) -> PublicView:
        async def body(uow: UnitOfWork, interview: Interview) -> PublicView:
            if interview.status is InterviewStatus.COMPLETED:
                return await self._view(uow, interview)
            status = transition(interview.status, InterviewEvent.COMPLETE)
            after = await uow.interviews.update(interview.id, {"status": status}, None)
            await uow.evaluations.create_queued(after)
            await uow.audit.append(record(
                caller, "interview.complete", resource(after), after.company_id,
                changes({"status": interview.status}, {"status": after.status})))
            return await self._view(uow, after)

        view = await self._run(caller, token, interview_id, body)
        try:
            await self._kick(interview_id)
        except Exception:  # the sweeper queues it later
            log.warning("could not enqueue the evaluation", interview_id=str(interview_id),
                        exc_info=True)
        return view


class StaffAnswerReads:
    """The candidate's answers as recruiters read them (GetInterview): scoped like interviews."""

    def __init__(self, uow: UowFactory) -> None:
        self._uow = uow

    async def get(self, caller: Caller, interview_id: UUID) -> tuple[Interview, list[Answer]]:
        p = access.require_principal(caller)
        async with self._uow() as uow:
            found = await uow.interviews.get(p, interview_id)
            if found is None:
                raise NotFound("interview not found", reason="INTERVIEW_NOT_FOUND")
            return found, await uow.candidates.answers(interview_id)
