"""The local AI provider: the curated question bank + multilingual e5 embeddings, no network.

It is the default when no Gemini key is configured and the fallback when Gemini fails, so it
answers every method of `AIProvider` deterministically:

* generate_questions - maps the job's skills / title / domain to bank domains, plans the
  difficulties (a mix shifted by seniority, or the one asked for), picks questions round-robin
  across the matched domains (preferring those that share the job's skills, in an order seeded
  by the spec so the same spec gives the same set), adds behavioral and coding questions when
  asked, and never fails: with no matching domain it uses behavioral + general questions.
* evaluate_answer - `scoring.Scorer` (see its docstring), run off the event loop.
* summarize - strengths (best-covered concepts, strong answers), weaknesses (missing concepts,
  weak answers) and an overall sentence in the reviewer's language (local_texts.json).
* follow_up - a weak last answer (< 50) gets a probe on its most important missing concept; a
  strong one (>= 75) a harder question on the same skill; otherwise the next question at the
  same level, pinned questions first. Never a question already asked.

Every result carries a CallInfo: template_id "local/<method>/v1", template_hash = sha256 of the
method version, scorer version and local_texts.json, input_hash = stable_hash(request).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TypeVar

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
    stable_hash,
)
from server.domain.models import Difficulty, Question
from server.providers.ai import scoring
from server.providers.ai.bank import (
    BEHAVIORAL,
    CODING,
    Bank,
    BankEntry,
    code_language_for,
    domains_for,
    load_bank,
    to_question,
)
from server.providers.ai.embeddings import Embedder, shared_embedder
from server.providers.ai.scoring import Scorer, texts_for

T = TypeVar("T")

MODEL = "local-bank-e5-v1"
_ORDER = (Difficulty.EASY, Difficulty.MEDIUM, Difficulty.HARD)
_GENERAL = ("system-design",)
# Share of easy / medium / hard questions when no difficulty is asked for.
_MIX = {
    "junior": (0.5, 0.4, 0.1),
    "mid": (0.3, 0.4, 0.3),
    "senior": (0.1, 0.4, 0.5),
}
_SENIORITY = {
    "intern": "junior",
    "junior": "junior",
    "senior": "senior",
    "lead": "senior",
    "principal": "senior",
    "staff": "senior",
}
WEAK, STRONG = 50.0, 75.0


class LocalProvider:
    name = "local"
    model = MODEL

    def __init__(self, embedder: Embedder | None = None, bank: Bank | None = None) -> None:
        self._embedder = embedder
        self._bank = bank
        self._scorer: Scorer | None = None

    # --- AIProvider ---------------------------------------------------------------------------

    async def generate_questions(self, spec: QuestionSpec) -> AIResult[tuple[Question, ...]]:
        return await self._timed("generate_questions", spec, lambda: self._generate(spec))

    async def evaluate_answer(self, item: AnswerToScore) -> AIResult[AnswerScore]:
        started = time.perf_counter()
        scorer = self._get_scorer()
        value = await asyncio.to_thread(scorer.score, item)
        return AIResult(value, self._info("evaluate_answer", item, started))

    async def summarize(self, request: SummaryRequest) -> AIResult[Summary]:
        return await self._timed("summarize", request, lambda: _summarize(request))

    async def follow_up(self, request: FollowUpRequest) -> AIResult[FollowUp]:
        return await self._timed("follow_up", request, lambda: self._follow_up(request))

    async def health(self) -> tuple[bool, str]:
        try:
            bank = self._get_bank()
        except Exception as exc:  # the bank files are unreadable: report, don't raise
            return False, f"local provider: bank unavailable ({exc})"
        return True, f"local provider: {len(bank.entries)} bank questions"

    # --- plumbing -----------------------------------------------------------------------------

    def _get_bank(self) -> Bank:
        if self._bank is None:
            self._bank = load_bank()
        return self._bank

    def _get_scorer(self) -> Scorer:
        if self._scorer is None:
            self._scorer = Scorer(self._embedder or shared_embedder())
        return self._scorer

    async def _timed(self, method: str, request: object, work: Callable[[], T]) -> AIResult[T]:
        started = time.perf_counter()
        value = await asyncio.to_thread(work)
        return AIResult(value, self._info(method, request, started))

    def _info(self, method: str, request: object, started: float) -> CallInfo:
        return CallInfo(
            provider=self.name,
            model=self.model,
            template_id=f"local/{method}/v1",
            template_hash=template_hash(method),
            input_hash=stable_hash(request),
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
        )

    # --- question generation ------------------------------------------------------------------

    def _generate(self, spec: QuestionSpec) -> tuple[Question, ...]:
        bank = self._get_bank()
        domains = _tech_domains(bank, spec.skills, spec.job_title, spec.domain,
                                spec.job_description)
        code_lang = code_language_for(spec.skills, domains)
        n_code = 1 if spec.include_coding and bank.by_domain.get(CODING) and spec.count >= 2 else 0
        n_beh = 0
        if spec.include_behavioral and bank.by_domain.get(BEHAVIORAL) and spec.count >= 3:
            n_beh = max(1, spec.count // 5)
            if not domains_for(spec.skills, spec.job_title, spec.domain, bank):
                n_beh = max(1, spec.count // 3)  # nothing matched: behavioral + general
        n_tech = max(0, spec.count - n_code - n_beh)
        seed = stable_hash([spec.job_title, spec.skills, spec.domain, spec.seniority, spec.count])
        taken: set[str] = set(spec.avoid_ids)

        def pick(domains: list[str], plan: list[Difficulty | None]) -> list[BankEntry]:
            return _pick(
                bank, domains=domains, plan=plan, skills=spec.skills, seed=seed, taken=taken
            )

        picked = pick(domains, _difficulty_plan(n_tech, spec.difficulty, spec.seniority))
        coding = pick([CODING], _difficulty_plan(n_code, spec.difficulty, spec.seniority))
        behavioral = pick([BEHAVIORAL], _difficulty_plan(n_beh, None, spec.seniority))
        missing = spec.count - len(picked) - len(coding) - len(behavioral)
        if missing > 0:  # the matched domains ran out: fill with general questions
            picked += pick([*_GENERAL, BEHAVIORAL], [None] * missing)
        entries = [*picked, *coding, *behavioral]
        return tuple(to_question(e, spec.languages, code_lang) for e in entries)

    # --- follow-ups ---------------------------------------------------------------------------

    def _follow_up(self, request: FollowUpRequest) -> FollowUp:
        bank = self._get_bank()
        asked = {q.id for q, _, _ in request.history} | {_bank_id(q) for q, _, _ in request.history}
        last = request.history[-1] if request.history else None
        score = last[2] if last else None
        if last and score and score.score < WEAK and not last[0].id.endswith("-probe"):
            probe = _probe(last[0], score, request.language)
            if probe is not None and probe.id not in asked:
                concept = probe.concepts[0].name
                return FollowUp(
                    probe, f"probe: weak answer ({score.score:.0f}), missed '{concept}'", "probe"
                )
        domains = _tech_domains(bank, request.skills, request.job_title, request.domain)
        if last and score and score.score >= STRONG:
            deeper = self._deeper(bank, domains, last[0], asked, request)
            if deeper is not None:
                return deeper
        return self._next(bank, domains, last[0] if last else None, asked, request)

    def _deeper(
        self,
        bank: Bank,
        domains: list[str],
        last: Question,
        asked: set[str],
        request: FollowUpRequest,
    ) -> FollowUp | None:
        level = _ORDER[min(_ORDER.index(last.difficulty) + 1, len(_ORDER) - 1)]
        last_entry = bank.entries.get(_bank_id(last))
        skills = last_entry.skills if last_entry else tuple(request.skills)
        pool = [e for d in domains for e in bank.in_domain(d, level) if e.id not in asked]
        if not pool:
            return None
        entry = _best(pool, skills, stable_hash(sorted(asked)))
        question = to_question(
            entry, (request.language,), code_language_for(request.skills, domains)
        )
        return FollowUp(
            question,
            f"deeper: strong answer on '{last.id}', {level.value} question "
            f"on {', '.join(entry.skills) or entry.domain}",
            "deeper",
        )

    def _next(
        self,
        bank: Bank,
        domains: list[str],
        last: Question | None,
        asked: set[str],
        request: FollowUpRequest,
    ) -> FollowUp:
        for pinned in request.pinned:
            if pinned.id not in asked and _bank_id(pinned) not in asked:
                return FollowUp(pinned, "next: the job's pinned question not asked yet", "next")
        level = last.difficulty if last else Difficulty.EASY
        seed = stable_hash(sorted(asked))
        code_lang = code_language_for(request.skills, domains)
        for pool_domains, wanted in (
            (domains, level),
            (domains, None),
            ([*_GENERAL, BEHAVIORAL], None),
        ):
            pool = [e for d in pool_domains for e in bank.in_domain(d, wanted) if e.id not in asked]
            if pool:
                entry = _best(pool, tuple(s.lower() for s in request.skills), seed)
                question = to_question(entry, (request.language,), code_lang)
                why = f"next: {entry.difficulty.value} question on {entry.domain}"
                return FollowUp(question, why, "next")
        raise ProviderError("UNAVAILABLE", "the question bank has no unasked question left")


# --- selection helpers ------------------------------------------------------------------------


def _tech_domains(bank: Bank, skills: Iterable[str], title: str, domain: str | None,
                  description: str = "") -> list[str]:
    """The job's domains from its skills, title and domain; when they name none, the skills
    the job description mentions (e.g. a JD uploaded without a skills list)."""
    found = domains_for(skills, title, domain, bank)
    tech = [d for d in found if d not in (BEHAVIORAL, CODING)]
    if not tech and description:
        tech = [d for d in domains_for((description,), "", None, bank)
                if d not in (BEHAVIORAL, CODING)]
    if tech:
        return tech
    return [d for d in _GENERAL if d in bank.by_domain] or [
        d for d in bank.by_domain if d not in (BEHAVIORAL, CODING)
    ][:1]


def _difficulty_plan(
    n: int, difficulty: Difficulty | None, seniority: str | None
) -> list[Difficulty | None]:
    if n <= 0:
        return []
    if difficulty is not None:
        return [difficulty] * n
    shares = _MIX[_SENIORITY.get((seniority or "").lower(), "mid")]
    counts = [int(n * s) for s in shares]
    for i in sorted(range(3), key=lambda k: -(n * shares[k] - counts[k])):
        if sum(counts) >= n:
            break
        counts[i] += 1
    return [level for level, c in zip(_ORDER, counts, strict=True) for _ in range(c)]


def _pick(
    bank: Bank,
    *,
    domains: list[str],
    plan: list[Difficulty | None],
    skills: Iterable[str],
    seed: str,
    taken: set[str],
) -> list[BankEntry]:
    """One entry per planned difficulty, round-robin over `domains`; a level that is used up
    falls back to the nearest other level."""
    wanted = tuple(s.strip().lower() for s in skills)
    chosen: list[BankEntry] = []
    live = [d for d in domains if d in bank.by_domain]
    for i, level in enumerate(plan):
        for attempt in range(len(live)):
            domain = live[(i + attempt) % len(live)]
            entry = _first_free(
                bank, domain=domain, level=level, skills=wanted, seed=seed, taken=taken
            )
            if entry is not None:
                chosen.append(entry)
                taken.add(entry.id)
                break
    return chosen


def _first_free(
    bank: Bank,
    *,
    domain: str,
    level: Difficulty | None,
    skills: tuple[str, ...],
    seed: str,
    taken: set[str],
) -> BankEntry | None:
    levels: list[Difficulty | None] = [level]
    if level is not None:
        levels += sorted(
            (d for d in _ORDER if d != level),
            key=lambda d: abs(_ORDER.index(d) - _ORDER.index(level)),
        )
    for lvl in levels:
        pool = [e for e in bank.in_domain(domain, lvl) if e.id not in taken]
        if pool:
            return _best(pool, skills, seed)
    return None


def _best(pool: list[BankEntry], skills: tuple[str, ...], seed: str) -> BankEntry:
    """The entry sharing the most skills; ties broken by a hash of (seed, id) - deterministic
    for one spec, varied across specs."""
    wanted = set(skills)

    def key(e: BankEntry) -> tuple[int, str]:
        return (-len(wanted & set(e.skills)), hashlib.sha256(f"{seed}:{e.id}".encode()).hexdigest())

    return min(pool, key=key)


def _bank_id(question: Question) -> str:
    source = question.source
    if source.startswith("bank:"):
        return source.removeprefix("bank:").split("#", 1)[0]
    return question.id


# --- probes -----------------------------------------------------------------------------------


def _probe(question: Question, score: AnswerScore, language: str) -> Question | None:
    missing = [c for c in question.concepts if c.name in score.missing_concepts]
    if not missing:
        return None
    concept = missing[0]
    original = question.texts.get(language) or next(iter(question.texts.values()), "")
    text = texts_for(language)["probe"].format(
        concept=concept_label(concept.name, concept.terms, language), question=original
    )
    expected = question.expected_answers.get(language) or question.expected_answer
    return replace(
        question,
        id=f"{question.id}-probe",
        texts={language: text},
        expected_answer=expected,
        expected_answers=dict(question.expected_answers),
        concepts=tuple(missing),
        keywords=tuple(c.name for c in missing),
        source=f"bank:{_bank_id(question)}#probe",
    )


def concept_label(name: str, terms: dict[str, tuple[str, ...]], language: str) -> str:
    """How a concept is named to a candidate: its first word in the language, else its name."""
    words = terms.get(language, ())
    if words and len(words[0]) >= 2:
        return words[0]
    return name.replace("_", " ")


# --- summaries --------------------------------------------------------------------------------


def _summarize(request: SummaryRequest) -> Summary:
    lang = request.reviewer_language
    templates = texts_for(lang)["summary"]
    pairs = list(zip(request.scores, request.questions, strict=False))
    if not pairs:
        return Summary((), (), templates["empty"], lang)
    strengths = _concept_lines(pairs, templates["strength_concept"], good=True)
    weaknesses = _concept_lines(pairs, templates["weakness_concept"], good=False)
    ranked = sorted(pairs, key=lambda p: (-p[0].score, p[1].id))
    strengths += [
        templates["strength_question"].format(score=round(s.score), question=_short(q, lang))
        for s, q in ranked
        if s.score >= STRONG
    ][:2]
    weaknesses += [
        templates["weakness_question"].format(score=round(s.score), question=_short(q, lang))
        for s, q in reversed(ranked)
        if s.score < WEAK
    ][:2]
    average = sum(s.score for s, _ in pairs) / len(pairs)
    text = templates["overall"].format(
        level=templates["levels"][_level(average)], score=round(average), count=len(pairs)
    )
    if len(pairs) > 1:
        text += " " + templates["best"].format(best=_short(ranked[0][1], lang))
        text += " " + templates["worst"].format(worst=_short(ranked[-1][1], lang))
    return Summary(tuple(strengths), tuple(weaknesses), text, lang)


def _concept_lines(
    pairs: list[tuple[AnswerScore, Question]], template: str, *, good: bool
) -> list[str]:
    counts: dict[str, int] = {}
    for score, _ in pairs:
        names = score.covered_concepts if good and score.score >= WEAK else ()
        if not good and score.score < STRONG:
            names = score.missing_concepts
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    top = sorted(counts, key=lambda n: (-counts[n], n))[:3]
    return [template.format(concept=name.replace("_", " ")) for name in top]


def _level(average: float) -> str:
    if average >= 80:
        return "strong_hire"
    if average >= 65:
        return "hire"
    if average >= 45:
        return "lean_no"
    return "no_hire"


def _short(question: Question, language: str, limit: int = 90) -> str:
    text = question.texts.get(language) or next(iter(question.texts.values()), question.id)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def template_hash(method: str) -> str:
    texts = scoring.load_texts()
    return stable_hash(
        {
            "method": f"local/{method}/v1",
            "model": MODEL,
            "scorer": scoring.SCORER_VERSION,
            "texts": texts,
        }
    )
