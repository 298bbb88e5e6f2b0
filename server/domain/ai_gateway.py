"""The one door to AI: calls the configured provider, falls back to the local provider when it
fails, and returns with every value the decision records to store (never hidden: a failed call
is recorded with its reason, and the local answer that replaced it says which reason it stood
in for).

Use-cases store the records in the same transaction as what the calls produced (questions,
evaluations), so that no result exists without its record.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from uuid import UUID

import orjson
import structlog

from server.domain.ai import (
    AIProvider,
    AIResult,
    AnswerScore,
    AnswerToScore,
    CallInfo,
    FollowUp,
    FollowUpRequest,
    ProviderError,
    QuestionSpec,
    Summary,
    SummaryRequest,
    stable_hash,
)
from server.domain.evaluation_models import NewDecision
from server.domain.models import Question

T = TypeVar("T")
log = structlog.get_logger(__name__)


def jsonable(value: object) -> object:
    """A JSON-compatible copy of a provider's output (dataclasses, enums, tuples)."""
    return orjson.loads(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS))


@dataclass(frozen=True, slots=True)
class CallRecord:
    """A decision record before it is stored (the interview and job are added by the caller)."""

    kind: str
    info: CallInfo
    output: object
    fallback_reason: str | None


def new_decisions(records: Sequence[CallRecord], *, company_id: UUID, department_id: UUID,
                  job_id: UUID, interview_id: UUID | None = None) -> list[NewDecision]:
    """Decision records to store for calls made about a job (and an interview)."""
    return [NewDecision(
        company_id=company_id, department_id=department_id, interview_id=interview_id,
        job_id=job_id, kind=r.kind, provider=r.info.provider, model=r.info.model,
        template_id=r.info.template_id, template_hash=r.info.template_hash,
        input_hash=r.info.input_hash, output=r.output, latency_ms=r.info.latency_ms,
        prompt_tokens=r.info.usage.prompt_tokens, output_tokens=r.info.usage.output_tokens,
        attempts=r.info.attempts, fallback_reason=r.fallback_reason) for r in records]


@dataclass(frozen=True, slots=True)
class Decided(Generic[T]):
    value: T
    records: tuple[CallRecord, ...]
    provider: str
    model: str
    fallback_reason: str | None


class AIGateway:
    def __init__(self, primary: AIProvider | None, local: AIProvider) -> None:
        self.primary = primary
        self.local = local

    @property
    def active(self) -> AIProvider:
        return self.primary or self.local

    @property
    def deterministic(self) -> bool:
        """The local provider gives the same score every time: re-scoring it proves nothing."""
        return self.primary is None

    async def _call(self, kind: str, request: object,
                    call: Callable[[AIProvider], Awaitable[AIResult[T]]]) -> Decided[T]:
        records: list[CallRecord] = []
        reason: str | None = None
        if self.primary is not None:
            started = time.perf_counter()
            try:
                result = await call(self.primary)
            except ProviderError as exc:
                reason = exc.reason
                log.warning("AI provider failed; falling back to local", kind=kind,
                            provider=self.primary.name, reason=reason)
                records.append(CallRecord(
                    kind=kind, output={"error": reason}, fallback_reason=None,
                    info=CallInfo(provider=self.primary.name, model=self.primary.model,
                                  template_id=f"{kind}/failed", template_hash="",
                                  input_hash=stable_hash(request),
                                  latency_ms=(time.perf_counter() - started) * 1000)))
            else:
                records.append(CallRecord(kind=kind, info=result.info,
                                          output=jsonable(result.value), fallback_reason=None))
                return Decided(value=result.value, records=tuple(records),
                               provider=result.info.provider, model=result.info.model,
                               fallback_reason=None)
        result = await call(self.local)
        records.append(CallRecord(kind=kind, info=result.info, output=jsonable(result.value),
                                  fallback_reason=reason))
        return Decided(value=result.value, records=tuple(records),
                       provider=result.info.provider, model=result.info.model,
                       fallback_reason=reason)

    async def generate_questions(self, spec: QuestionSpec) -> Decided[tuple[Question, ...]]:
        return await self._call("generate_questions", spec,
                                lambda p: p.generate_questions(spec))

    async def evaluate_answer(self, item: AnswerToScore) -> Decided[AnswerScore]:
        return await self._call("evaluate_answer", item, lambda p: p.evaluate_answer(item))

    async def summarize(self, request: SummaryRequest) -> Decided[Summary]:
        return await self._call("summarize", request, lambda p: p.summarize(request))

    async def follow_up(self, request: FollowUpRequest) -> Decided[FollowUp]:
        return await self._call("follow_up", request, lambda p: p.follow_up(request))

    async def aclose(self) -> None:
        """Close the providers' connections (those that hold any)."""
        for provider in (self.primary, self.local):
            close = getattr(provider, "aclose", None)
            if close is not None:
                await close()

    async def health(self) -> tuple[bool, str]:
        ok, detail = await self.active.health()
        return ok, f"{self.active.name} ({self.active.model}): {detail}"
