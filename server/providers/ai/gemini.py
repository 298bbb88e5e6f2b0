"""Gemini behind the `AIProvider` protocol, through google-genai's async client.

One call = one `_run`:

* a slot of an `asyncio.Semaphore(max_concurrency)` (waiting for a slot is not timed);
* one `asyncio.timeout(timeout_seconds)` around everything that follows, retries included
  (→ TIMEOUT); every HTTP request also carries the same timeout;
* the SDK's own retries (`HttpRetryOptions`: 408/429/5xx and httpx timeouts/connect errors,
  exponential backoff with a small jitter, `max_attempts` requests in all), which google-genai
  3.3 runs with tenacity around each request;
* the answer is read as JSON (not JSON → one more call, then MALFORMED_OUTPUT), validated
  against the same pydantic model that was sent as `response_schema` and our semantic checks
  (see schemas.py; violation → one more call, then SCHEMA_VIOLATION);
* SDK/httpx errors become `ProviderError` through the single `_ERROR_REASONS` table. Messages
  never carry the API key and the original exception is not chained (its request holds the key
  in a header).

Every HTTP request of a call (SDK retries included) is counted with an httpx event hook and a
context variable, so `CallInfo.attempts` is the number of requests actually sent. Tokens are
summed over the answers received.

Prompts are text files in prompts/ (`<method>.v1.txt`: the system instruction, a line
`### USER`, then the user turn; `string.Template` placeholders). Everything written by a
recruiter or a candidate goes into a delimited block whose tag is derived from the block's own
text (`<<<BEGIN ANSWER 1A2B..>>>` ... `<<<END ANSWER 1A2B..>>>`), so the text cannot close its
block early, and the system instruction tells the model to treat such blocks as data only.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template
from typing import Any, TypeVar

import httpx2
import orjson
import structlog
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from pydantic import BaseModel, ValidationError

from server.domain.ai import (
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
    Usage,
    stable_hash,
)
from server.domain.models import Question
from server.providers.ai import schemas

log = structlog.get_logger(__name__)
T = TypeVar("T")

PROMPTS = Path(__file__).with_name("prompts")
TEMPLATE_VERSION = "v1"
RETRY_STATUS_CODES = (408, 429, 500, 502, 503, 504)
TEMPERATURES = {"evaluate_answer": 0.1, "generate_questions": 0.7, "follow_up": 0.4,
                "summarize": 0.3}
OUTPUT_ATTEMPTS = 2  # a malformed or schema-violating answer is asked for once more


def _transports() -> tuple[Any, ...]:
    """The HTTP libraries google-genai may send with: httpx2 (its dependency), httpx (optional)."""
    try:
        import httpx
    except ImportError:  # pragma: no cover - httpx is a dev dependency here
        return (httpx2,)
    return (httpx2, httpx)


_HTTP = _transports()

# The one table from SDK/transport errors to ProviderError reasons: first match wins.
# (exception type, HTTP status range or None for any, reason)
_ERROR_REASONS: tuple[tuple[type[BaseException], range | None, str], ...] = (
    (genai_errors.APIError, range(429, 430), "RATE_LIMITED"),
    (genai_errors.APIError, range(408, 409), "TIMEOUT"),  # the upstream timed the request out
    (genai_errors.APIError, range(400, 500), "REQUEST_REJECTED"),
    (genai_errors.APIError, range(500, 600), "UPSTREAM_ERROR"),
    (genai_errors.APIError, None, "UPSTREAM_ERROR"),
    (genai_errors.UnknownApiResponseError, None, "UPSTREAM_ERROR"),  # envelope not JSON
    *((http.TimeoutException, None, "TIMEOUT") for http in _HTTP),
    (TimeoutError, None, "TIMEOUT"),
    *((http.TransportError, None, "UNAVAILABLE") for http in _HTTP),  # connect, DNS, TLS, cut
    (OSError, None, "UNAVAILABLE"),
)


def reason_for(exc: BaseException) -> str:
    """The ProviderError reason of an SDK or transport error (UPSTREAM_ERROR when unknown)."""
    code = exc.code if isinstance(exc, genai_errors.APIError) else None
    for kind, codes, reason in _ERROR_REASONS:
        if isinstance(exc, kind) and (codes is None or (code is not None and code in codes)):
            return reason
    return "UPSTREAM_ERROR"


# --- per-call accounting ---------------------------------------------------------------------

@dataclass(slots=True)
class _Tally:
    requests: int = 0
    prompt_tokens: int = 0
    output_tokens: int = 0


_TALLY: ContextVar[_Tally | None] = ContextVar("gemini_call_tally", default=None)


async def _count_request(_request: object) -> None:
    tally = _TALLY.get()
    if tally is not None:
        tally.requests += 1


# --- prompts ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Prompt:
    method: str
    system: str
    user: str
    template_hash: str

    @property
    def template_id(self) -> str:
        return f"{self.method}/{TEMPLATE_VERSION}"


@cache
def _template(method: str) -> tuple[Template, Template, str]:
    text = (PROMPTS / f"{method}.{TEMPLATE_VERSION}.txt").read_text(encoding="utf-8")
    system, user = text.split("\n### USER\n", 1)
    return Template(system.strip()), Template(user.strip()), hashlib.sha256(
        text.encode()).hexdigest()


def render(method: str, **values: str) -> Prompt:
    system, user, digest = _template(method)
    return Prompt(method, system.substitute(values), user.substitute(values).strip(), digest)


def block(label: str, text: str) -> str:
    """Untrusted text in delimiters tagged by its own hash: the text cannot forge the end line."""
    tag = hashlib.sha256(f"{label}\n{text}".encode()).hexdigest()[:16].upper()
    return f"<<<BEGIN {label} {tag}>>>\n{text}\n<<<END {label} {tag}>>>"


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


def _lines(values: tuple[str, ...] | list[str]) -> str:
    return "\n".join(f"- {v}" for v in values) or "(none)"


def _text_in(question: Question, language: str) -> str:
    return question.texts.get(language) or next(iter(question.texts.values()), "")


def evaluation_prompt(item: AnswerToScore) -> Prompt:
    q = item.question
    lang = item.language
    fluency = (
        f"Fluency in '{lang}' is required for this job: clarity may also reflect correct, fluent "
        "use of the language." if item.fluency_required else
        "Do not score language fluency, grammar, spelling, vocabulary or accent: an answer in "
        "imperfect language scores the same as a fluent one with the same content."
    )
    concepts = [
        f"{c.name}: " + "; ".join(c.terms.get(lang, ()) + c.terms.get("*", ()))
        for c in q.concepts
    ] or list(q.keywords)
    rubric = [f"{r.name} ({r.weight:g}): {r.description}"
              for r in (q.rubric or schemas.GENERATED_RUBRIC)]
    expected = q.expected_answers.get(lang) or q.expected_answer
    code = (f"\nThe candidate's code ({item.code_language or 'unknown language'}):\n"
            + block("CODE", item.code)) if item.code.strip() else ""
    return render(
        "evaluate_answer", fluency_rule=fluency, feedback_language=lang, language=lang,
        question_type=q.type.value, difficulty=q.difficulty.value,
        question_block=block("QUESTION", _text_in(q, lang)),
        concepts=block("CONCEPTS", _lines(concepts)), rubric=block("RUBRIC", _lines(rubric)),
        expected_block=block("REFERENCE", expected or "(none)"),
        coding_section=_coding_section(item), answer_block=block("ANSWER", item.answer_text),
        code_block=code,
    )


def _coding_section(item: AnswerToScore) -> str:
    """Sandbox pass counts between blank lines, or nothing."""
    result = item.coding
    if result is None:
        return "\nSandbox results: none (not run).\n" if item.code.strip() else ""
    outcomes: dict[str, int] = {}
    for r in result.results:
        outcomes[r.outcome.value] = outcomes.get(r.outcome.value, 0) + 1
    detail = ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items()))
    return (f"\nSandbox results ({result.language}): passed {result.passed} of {result.total} "
            f"tests{f' ({detail})' if detail else ''}.\n")


def questions_prompt(spec: QuestionSpec) -> Prompt:
    types_ = schemas.question_types(spec)
    coding_rule = (
        "A coding question gives code_language, starter_code, 1-3 examples and 3-8 hidden "
        "tests (stdin and the exact expected stdout); other questions leave those empty."
        if spec.include_coding else "No coding questions.")
    difficulty_rule = (f"every question is {spec.difficulty.value}." if spec.difficulty
                       else "a mix, ordered from easy to hard.")
    return render(
        "generate_questions", count=str(spec.count), languages=", ".join(spec.languages),
        difficulty_rule=difficulty_rule, types=", ".join(types_), coding_rule=coding_rule,
        avoid=block("USED", _lines(list(spec.avoid_ids))) if spec.avoid_ids else "none",
        title_block=block("TITLE", spec.job_title), seniority=spec.seniority or "unspecified",
        domain=spec.domain or "derive it from the skills",
        skills_block=block("SKILLS", _lines(spec.skills)),
        description_block=block("DESCRIPTION", spec.job_description or "(none)"),
    )


def follow_up_prompt(request: FollowUpRequest) -> Prompt:
    lang = request.language
    history = [
        {"id": q.id, "question": _text_in(q, lang), "answer": answer,
         "score": s.score if s else None,
         "covered": list(s.covered_concepts) if s else [],
         "missing": list(s.missing_concepts) if s else []}
        for q, answer, s in request.history
    ]
    available = set(schemas.available_pinned(request))
    pinned = [{"id": q.id, "type": q.type.value, "difficulty": q.difficulty.value,
               "question": _text_in(q, lang)} for q in request.pinned if q.id in available]
    return render(
        "follow_up", language=lang, remaining=str(request.remaining),
        title_block=block("TITLE", request.job_title),
        skills_block=block("SKILLS", _lines(request.skills)),
        domain=request.domain or "derive it from the skills",
        history_block=block("HISTORY", "\n".join(_json(h) for h in history) or "(none yet)"),
        pinned_block=block("PINNED", "\n".join(_json(p) for p in pinned)) if pinned else "(none)",
    )


def summary_prompt(request: SummaryRequest) -> Prompt:
    scored = [
        {"question": _text_in(q, request.reviewer_language), "score": s.score,
         "dimensions": dataclasses.asdict(s.dimensions), "covered": list(s.covered_concepts),
         "missing": list(s.missing_concepts), "feedback": s.feedback}
        for q, s in zip(request.questions, request.scores, strict=False)
    ]
    return render(
        "summarize", reviewer_language=request.reviewer_language,
        title_block=block("TITLE", request.job_title),
        skills_block=block("SKILLS", _lines(request.skills)),
        scores_block=block("SCORES", "\n".join(_json(s) for s in scored) or "(none)"),
    )


# --- the provider ----------------------------------------------------------------------------

class GeminiProvider:
    """`AIProvider` for Gemini. Close it with `await provider.aclose()`."""

    name = "gemini"

    def __init__(  # noqa: PLR0917 (the settings' six values, in their order)
                 self, api_key: str, model: str, base_url: str | None, timeout_seconds: float,
                 max_concurrency: int, max_attempts: int, *, initial_delay: float = 0.5,
                 max_delay: float = 4.0) -> None:
        if not api_key:
            raise ValueError("GeminiProvider needs an API key")
        self.model = model
        self._secret = api_key
        self._timeout = timeout_seconds
        self._slots = asyncio.Semaphore(max_concurrency)
        retry = types.HttpRetryOptions(
            attempts=max_attempts, initial_delay=initial_delay, max_delay=max_delay,
            jitter=initial_delay, http_status_codes=list(RETRY_STATUS_CODES))
        self._client = genai.Client(api_key=api_key, http_options=types.HttpOptions(
            base_url=base_url, timeout=max(1, round(timeout_seconds * 1000)),
            retry_options=retry,
            async_client_args={"event_hooks": {"request": [_count_request]}}))

    async def aclose(self) -> None:
        await self._client.aio.aclose()

    async def health(self) -> tuple[bool, str]:
        return True, f"configured, model {self.model}"

    async def generate_questions(self, spec: QuestionSpec) -> AIResult[tuple[Question, ...]]:
        return await self._run(spec, questions_prompt(spec), schemas.questions_model(spec),
                               lambda out: schemas.to_questions(spec, out))

    async def evaluate_answer(self, item: AnswerToScore) -> AIResult[AnswerScore]:
        model = schemas.evaluation_model(schemas.concept_names(item.question))
        return await self._run(item, evaluation_prompt(item), model,
                               lambda out: self._score(item, out))

    async def summarize(self, request: SummaryRequest) -> AIResult[Summary]:
        return await self._run(request, summary_prompt(request), schemas.summary_model(),
                               lambda out: schemas.to_summary(request, out))

    async def follow_up(self, request: FollowUpRequest) -> AIResult[FollowUp]:
        return await self._run(request, follow_up_prompt(request),
                               schemas.follow_up_model(request),
                               lambda out: schemas.to_follow_up(request, out))

    def _score(self, item: AnswerToScore, out: BaseModel) -> AnswerScore:
        score, dropped = schemas.to_answer_score(item, out)
        if dropped:
            log.info("gemini_evidence_dropped", question_id=item.question.id, dropped=dropped)
        return score

    async def _run(self, request: object, prompt: Prompt, schema: type[BaseModel],
                   convert: Callable[[BaseModel], T]) -> AIResult[T]:
        tally = _Tally()
        async with self._slots:
            token = _TALLY.set(tally)
            started = time.perf_counter()
            try:
                async with asyncio.timeout(self._timeout):
                    value = await self._answer(prompt, schema, convert, tally)
            except TimeoutError:
                raise ProviderError("TIMEOUT", f"gemini: no answer within {self._timeout:g} s "
                                    f"({tally.requests} request(s))") from None
            finally:
                _TALLY.reset(token)
            latency_ms = (time.perf_counter() - started) * 1000
        info = CallInfo(
            provider=self.name, model=self.model, template_id=prompt.template_id,
            template_hash=prompt.template_hash, input_hash=stable_hash(request),
            latency_ms=latency_ms, usage=Usage(tally.prompt_tokens, tally.output_tokens),
            attempts=tally.requests)
        return AIResult(value, info)

    async def _answer(self, prompt: Prompt, schema: type[BaseModel],
                      convert: Callable[[BaseModel], T], tally: _Tally) -> T:
        failure = ProviderError("MALFORMED_OUTPUT")
        for _ in range(OUTPUT_ATTEMPTS):
            response = await self._generate(prompt, schema)
            usage = response.usage_metadata
            if usage is not None:
                tally.prompt_tokens += usage.prompt_token_count or 0
                tally.output_tokens += usage.candidates_token_count or 0
            try:
                return _checked(response, schema, convert)
            except ProviderError as exc:
                failure = exc
                log.info("gemini_output_rejected", method=prompt.method, reason=exc.reason,
                         detail=str(exc)[:300])
        raise failure

    async def _generate(self, prompt: Prompt,
                        schema: type[BaseModel]) -> types.GenerateContentResponse:
        config = types.GenerateContentConfig(
            response_mime_type="application/json", response_schema=schema,
            temperature=TEMPERATURES[prompt.method], system_instruction=prompt.system)
        try:
            return await self._client.aio.models.generate_content(
                model=self.model, contents=prompt.user, config=config)
        except Exception as exc:  # every SDK/transport failure becomes a reason
            reason = reason_for(exc)
            raise ProviderError(reason, f"gemini {reason}: {self._redact(exc)}") from None

    def _redact(self, exc: BaseException) -> str:
        text = f"{type(exc).__name__}: {exc}"[:500]
        return text.replace(self._secret, "[redacted]")


def _checked(response: types.GenerateContentResponse, schema: type[BaseModel],
             convert: Callable[[BaseModel], T]) -> T:
    """Parse, validate and convert one answer, or raise MALFORMED_OUTPUT / SCHEMA_VIOLATION."""
    text = response.text
    try:
        data: Any = json.loads(text or "")
    except ValueError:
        finish = response.candidates[0].finish_reason if response.candidates else None
        raise ProviderError("MALFORMED_OUTPUT",
                            f"gemini: answer is not JSON (finish reason {finish})") from None
    try:
        return convert(schema.model_validate(data))
    except (ValidationError, schemas.SemanticError) as exc:
        raise ProviderError("SCHEMA_VIOLATION", f"gemini: {_short(exc)}") from None


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{exc.error_count()} schema error(s), first at {where}: {first['msg']}"
    return str(exc)
