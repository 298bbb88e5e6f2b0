"""LocalProvider: question generation, evaluation, follow-ups, summaries and call records.

The provider runs on a small bank built here (so these tests do not depend on the bank files'
contents) and on the real embedder."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from server.domain.ai import (
    AnswerScore,
    AnswerToScore,
    Dimensions,
    FollowUpRequest,
    QuestionSpec,
    SummaryRequest,
    stable_hash,
)
from server.domain.models import LANGUAGES, Difficulty, Question, QuestionType
from server.providers.ai.bank import Bank, BankEntry, load_bank, to_question
from server.providers.ai.embeddings import shared_embedder
from server.providers.ai.local import LocalProvider

LEVELS = (Difficulty.EASY, Difficulty.MEDIUM, Difficulty.HARD)


def _raw(domain: str, level: Difficulty, n: int, qtype: str, skills: list[str]) -> dict[str, Any]:
    qid = f"{domain}-{level.value}-{n}"
    raw: dict[str, Any] = {
        "id": qid,
        "difficulty": level.value,
        "type": qtype,
        "skills": skills,
        "text": {lang: f"[{lang}] {domain} {level.value} question {n}?" for lang in LANGUAGES},
        "expected_answer": {
            lang: f"[{lang}] A good answer explains caching, latency and invalidation."
            for lang in LANGUAGES
        },
        "concepts": [
            {"name": "caching", "terms": {"*": ["caching"], "ja": ["キャッシュ"]}},
            {"name": "latency", "terms": {"*": ["latency"]}},
            {"name": "invalidation", "terms": {"*": ["invalidation"]}},
        ],
        "rubric": [
            {"name": "technical_accuracy", "weight": 50, "description": {"en": "a"}},
            {"name": "depth", "weight": 30, "description": {"en": "b"}},
            {"name": "clarity", "weight": 20, "description": {"en": "c"}},
        ],
    }
    if qtype == "coding":
        raw["starter_code"] = {
            "python": "def solve():\n    pass\n",
            "javascript": "function solve() {}\n",
        }
        raw["examples"] = [{"input": "1", "expected_output": "1"}]
        raw["hidden_tests"] = [{"input": "2", "expected_output": "2"}] * 3
    return raw


SPEC_DOMAINS = {
    "python": ("technical", ["python", "django"]),
    "javascript": ("technical", ["javascript", "typescript"]),
    "system-design": ("technical", ["system design", "caching"]),
    "behavioral": ("behavioral", ["teamwork"]),
    "coding": ("coding", ["algorithms"]),
}


def make_bank() -> Bank:
    bank = Bank(entries={}, by_domain={}, domain_skills={}, problems=[])
    for domain, (qtype, skills) in SPEC_DOMAINS.items():
        bank.domain_skills[domain] = tuple(skills)
        for level in LEVELS:
            for n in range(1, 5):
                own = [skills[(n - 1) % len(skills)]]
                raw = _raw(domain, level, n, qtype, own)
                entry = BankEntry(domain, raw["id"], level, QuestionType(qtype), tuple(own), raw)
                bank.entries[entry.id] = entry
                bank.by_domain.setdefault(domain, []).append(entry)
    return bank


@pytest.fixture(scope="module")
def provider() -> LocalProvider:
    return LocalProvider(embedder=shared_embedder(), bank=make_bank())


def spec(**changes: Any) -> QuestionSpec:
    base = QuestionSpec(
        job_title="Backend Engineer",
        job_description="Builds APIs.",
        skills=("Python", "Django"),
        domain=None,
        seniority=None,
        difficulty=None,
        count=5,
        languages=("es", "en"),
    )
    return replace(base, **changes)


def _rank(q: Question) -> int:
    return LEVELS.index(q.difficulty)


# --- generate_questions -------------------------------------------------------------------------


async def test_generates_the_asked_count_in_the_asked_languages(provider: LocalProvider) -> None:
    result = await provider.generate_questions(spec())
    questions = result.value
    assert len(questions) == 5
    assert len({q.id for q in questions}) == 5
    for q in questions:
        assert set(q.texts) == {"es", "en"}
        assert q.expected_answer.startswith("[es]") and q.expected_answers["en"].startswith("[en]")
        assert q.source == f"bank:{q.id}"
    tech = [q for q in questions if q.type == QuestionType.TECHNICAL]
    # Skills map to python, the title ("Backend") to system-design; skills come first.
    assert all(q.id.startswith(("python-", "system-design-")) for q in tech)
    assert tech[0].id.startswith("python-") or tech[1].id.startswith("python-")
    alone = await provider.generate_questions(spec(job_title="Engineer", include_behavioral=False))
    assert all(q.id.startswith("python-") for q in alone.value)
    assert [_rank(q) for q in tech] == sorted(_rank(q) for q in tech)  # easy -> hard
    assert any(q.type == QuestionType.BEHAVIORAL for q in questions)
    info = result.info
    assert (info.provider, info.model, info.template_id) == (
        "local",
        "local-bank-e5-v1",
        "local/generate_questions/v1",
    )
    assert info.input_hash == stable_hash(spec())
    assert info.usage.prompt_tokens == 0 and info.attempts == 1


async def test_same_spec_same_questions_and_avoid_ids(provider: LocalProvider) -> None:
    first = [q.id for q in (await provider.generate_questions(spec())).value]
    again = [q.id for q in (await provider.generate_questions(spec())).value]
    assert first == again
    avoided = await provider.generate_questions(spec(avoid_ids=tuple(first)))
    assert not {q.id for q in avoided.value} & set(first)


async def test_seniority_shifts_the_difficulty(provider: LocalProvider) -> None:
    def mean_rank(qs: tuple[Question, ...]) -> float:
        return sum(_rank(q) for q in qs) / len(qs)

    junior = (await provider.generate_questions(spec(seniority="junior", count=8))).value
    senior = (await provider.generate_questions(spec(seniority="senior", count=8))).value
    assert mean_rank(junior) < mean_rank(senior)
    fixed = await provider.generate_questions(
        spec(difficulty=Difficulty.HARD, include_behavioral=False)
    )
    assert {q.difficulty for q in fixed.value} == {Difficulty.HARD}


async def test_coding_question_uses_the_jobs_code_language(provider: LocalProvider) -> None:
    ts = await provider.generate_questions(
        spec(skills=("TypeScript", "Node.js"), include_coding=True)
    )
    coding = [q for q in ts.value if q.type == QuestionType.CODING]
    assert len(coding) == 1
    assert coding[0].code_language == "javascript"
    assert coding[0].starter_code.startswith("function")
    assert len(coding[0].hidden_tests) == 3 and coding[0].examples
    prefixes = ("javascript-", "system-design-", "coding-", "behavioral-")
    assert all(q.id.startswith(prefixes) for q in ts.value)
    assert any(q.id.startswith("javascript-") for q in ts.value)
    py = await provider.generate_questions(spec(include_coding=True))
    assert [q.code_language for q in py.value if q.type == QuestionType.CODING] == ["python"]


async def test_no_matching_domain_still_gives_questions(provider: LocalProvider) -> None:
    result = await provider.generate_questions(
        spec(job_title="Chef", skills=("cooking", "baking"), count=4)
    )
    ids = [q.id for q in result.value]
    assert len(ids) == 4
    assert all(i.startswith(("system-design-", "behavioral-")) for i in ids)
    assert any(i.startswith("behavioral-") for i in ids)
    assert any(i.startswith("system-design-") for i in ids)


async def test_skills_come_from_the_job_description_when_none_are_listed() -> None:
    real = LocalProvider(embedder=shared_embedder())
    result = await real.generate_questions(spec(
        job_title="Engineer", skills=(), count=6, include_behavioral=False,
        job_description="You will build React frontends and deploy them with Kubernetes."))
    domains = {q.source.removeprefix("bank:").rsplit("-", 2)[0] for q in result.value}
    assert domains == {"react", "devops"}


# --- evaluate_answer ----------------------------------------------------------------------------


async def test_evaluate_answer_scores_and_records_the_call(provider: LocalProvider) -> None:
    question = to_question(make_bank().entries["system-design-easy-1"], ("en",))
    good = (
        "Caching keeps hot data in memory so requests get lower latency, because the database "
        "is not hit every time. The hard part is invalidation: when the source changes you must "
        "delete or expire the cached entry, for example with a TTL, or users see stale data."
    )
    strong = await provider.evaluate_answer(AnswerToScore(question, "en", good))
    weak = await provider.evaluate_answer(AnswerToScore(question, "en", "I like football."))
    assert strong.value.score > 60
    assert weak.value.score < 30
    assert set(strong.value.covered_concepts) == {"caching", "latency", "invalidation"}
    assert strong.info.template_id == "local/evaluate_answer/v1"
    assert strong.info.template_hash == weak.info.template_hash
    assert strong.info.input_hash != weak.info.input_hash
    assert strong.info.latency_ms > 0


# --- follow_up ----------------------------------------------------------------------------------


def _score(question: Question, value: float, missing: tuple[str, ...] = ()) -> AnswerScore:
    names = tuple(c.name for c in question.concepts)
    return AnswerScore(
        question_id=question.id,
        score=value,
        dimensions=Dimensions(value, value, value),
        covered_concepts=tuple(n for n in names if n not in missing),
        missing_concepts=missing,
        evidence=(),
        feedback="",
    )


def _request(
    history: list[tuple[Question, float, tuple[str, ...]]], **changes: Any
) -> FollowUpRequest:
    request = FollowUpRequest(
        job_title="Backend Engineer",
        skills=("Python",),
        domain=None,
        language="ja",
        history=tuple((q, "answer", _score(q, s, m)) for q, s, m in history),
        remaining=3,
    )
    return replace(request, **changes)


def _bank_q(qid: str, langs: tuple[str, ...] = ("ja", "en")) -> Question:
    return to_question(make_bank().entries[qid], langs)


async def test_weak_answer_gets_a_probe_on_the_missing_concept(provider: LocalProvider) -> None:
    asked = _bank_q("python-medium-2")
    result = await provider.follow_up(_request([(asked, 30.0, ("latency", "invalidation"))]))
    follow = result.value
    assert follow.kind == "probe"
    probe = follow.question
    assert probe.id == "python-medium-2-probe"
    assert probe.source == "bank:python-medium-2#probe"
    assert [c.name for c in probe.concepts] == ["latency", "invalidation"]
    assert probe.expected_answer == asked.expected_answers.get("ja", asked.expected_answer)
    assert set(probe.texts) == {"ja"}
    assert "latency" in probe.texts["ja"] and "前の回答" in probe.texts["ja"]
    assert "latency" in follow.rationale
    assert result.info.template_id == "local/follow_up/v1"


async def test_strong_answer_goes_deeper_on_the_same_skill(provider: LocalProvider) -> None:
    asked = _bank_q("python-easy-1")
    follow = (await provider.follow_up(_request([(asked, 88.0, ())]))).value
    assert follow.kind == "deeper"
    assert follow.question.difficulty == Difficulty.MEDIUM
    assert follow.question.id.startswith("python-") and follow.question.id != asked.id
    assert set(follow.question.texts) == {"ja"}


async def test_middling_answer_gets_the_next_question_at_the_same_level(
    provider: LocalProvider,
) -> None:
    history = [(_bank_q(f"python-medium-{n}"), 60.0, ("latency",)) for n in (1, 2, 3)]
    follow = (await provider.follow_up(_request(history))).value
    assert follow.kind == "next"
    assert follow.question.id == "python-medium-4"  # the only unasked medium python question
    assert follow.question.difficulty == Difficulty.MEDIUM


async def test_pinned_questions_come_first_and_nothing_repeats(provider: LocalProvider) -> None:
    first = _bank_q("python-easy-1")
    pinned = (first, _bank_q("python-hard-3"))
    follow = (await provider.follow_up(_request([(first, 60.0, ())], pinned=pinned))).value
    assert follow.kind == "next" and follow.question.id == "python-hard-3"
    probe = _bank_q("python-easy-2")
    history = [
        (probe, 20.0, ("latency",)),
        (
            replace(probe, id="python-easy-2-probe", source="bank:python-easy-2#probe"),
            20.0,
            ("latency",),
        ),
    ]
    again = (await provider.follow_up(_request(history))).value
    assert again.kind == "next"  # no probe of a probe
    assert again.question.id not in {"python-easy-2", "python-easy-2-probe"}


async def test_first_question_without_history(provider: LocalProvider) -> None:
    follow = (await provider.follow_up(_request([]))).value
    assert follow.kind == "next"
    assert follow.question.difficulty == Difficulty.EASY
    assert follow.question.id.startswith("python-")


# --- summarize / health -------------------------------------------------------------------------


async def test_summary_in_the_reviewers_language(provider: LocalProvider) -> None:
    good, bad = _bank_q("python-easy-1", ("fr",)), _bank_q("python-hard-1", ("fr",))
    request = SummaryRequest(
        job_title="Backend Engineer",
        skills=("Python",),
        reviewer_language="fr",
        scores=(_score(good, 90.0), _score(bad, 20.0, ("latency", "invalidation"))),
        questions=(good, bad),
    )
    summary = (await provider.summarize(request)).value
    assert summary.language == "fr"
    assert any("caching" in s for s in summary.strengths)
    assert any("latency" in w for w in summary.weaknesses)
    assert any(bad.texts["fr"][:20] in w for w in summary.weaknesses)
    assert "55/100" in summary.summary and "2 réponses" in summary.summary
    empty = await provider.summarize(replace(request, scores=(), questions=()))
    assert empty.value.strengths == () and empty.value.summary


async def test_health_counts_the_bank(provider: LocalProvider) -> None:
    ok, message = await provider.health()
    assert ok and message == f"local provider: {len(make_bank().entries)} bank questions"
    real_ok, real_message = await LocalProvider().health()
    assert real_ok and str(len(load_bank().entries)) in real_message


async def test_real_bank_questions_in_all_languages() -> None:
    provider = LocalProvider(embedder=shared_embedder())
    result = await provider.generate_questions(
        spec(skills=("Python",), count=4, languages=LANGUAGES, include_behavioral=False)
    )
    assert len(result.value) == 4
    for q in result.value:
        assert q.source.startswith("bank:") and q.id in load_bank().entries
        assert set(q.texts) == set(LANGUAGES) and all(q.texts.values())
        assert set(q.expected_answers) == set(LANGUAGES[1:])
        assert 3 <= len(q.concepts) <= 6
