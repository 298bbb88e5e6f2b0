"""Scoring quality in the 12 interview languages, on our own answer sets (answer_sets.json):
three questions with expected answers and concept words per language, and for every language a
correct, a partially correct and an off-topic answer written independently of the expected
answer. Also: cross-lingual answers, verbatim evidence, coding scores, determinism."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from server.domain.ai import AnswerToScore, CodingResult, TestOutcome, TestResult
from server.domain.models import LANGUAGES, Difficulty, KeyConcept, Question, QuestionType
from server.providers.ai import textmatch
from server.providers.ai.embeddings import Embedder, shared_embedder
from server.providers.ai.scoring import Scorer

SETS: dict[str, Any] = json.loads((Path(__file__).parent / "answer_sets.json").read_text("utf-8"))
RAW = {q["id"]: q for q in SETS["questions"]}
KINDS = ("correct", "partial", "off_topic")


def make_question(raw: dict[str, Any], languages: tuple[str, ...] = LANGUAGES) -> Question:
    return Question(
        id=raw["id"],
        type=QuestionType.TECHNICAL,
        difficulty=Difficulty(raw["difficulty"]),
        texts={lang: raw["text"][lang] for lang in languages},
        expected_answer=raw["expected_answer"][languages[0]],
        expected_answers={lang: raw["expected_answer"][lang] for lang in languages[1:]},
        keywords=tuple(c["name"] for c in raw["concepts"]),
        concepts=tuple(
            KeyConcept(c["name"], {k: tuple(v) for k, v in c["terms"].items()})
            for c in raw["concepts"]
        ),
    )


QUESTIONS = {qid: make_question(raw) for qid, raw in RAW.items()}


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer(shared_embedder())


def _item_id(item: dict[str, Any]) -> str:
    return f"{item['language']}-{item['question'].removeprefix('fixture-')}"


def test_answer_sets_cover_every_language_with_three_questions() -> None:
    per_language: dict[str, set[str]] = {}
    for item in SETS["answers"]:
        per_language.setdefault(item["language"], set()).add(item["question"])
        for kind in KINDS:
            answer = item[kind].strip()
            assert answer, (item["language"], item["question"], kind)
            expected = RAW[item["question"]]["expected_answer"][item["language"]]
            assert answer not in expected and expected not in answer  # not copies
    assert set(per_language) == set(LANGUAGES)
    assert all(len(qs) >= 3 for qs in per_language.values()), per_language


def test_fixture_concepts_are_findable_in_every_expected_answer() -> None:
    for raw in SETS["questions"]:
        for concept in raw["concepts"]:
            for lang in LANGUAGES:
                words = concept["terms"].get(lang, []) + concept["terms"].get("*", [])
                hit = textmatch.find_term(raw["expected_answer"][lang], words)
                assert hit is not None, (raw["id"], concept["name"], lang)


@pytest.mark.parametrize("item", SETS["answers"], ids=_item_id)
def test_correct_beats_partial_beats_off_topic(scorer: Scorer, item: dict[str, Any]) -> None:
    question, lang = QUESTIONS[item["question"]], item["language"]
    correct, partial, off = (
        scorer.score(AnswerToScore(question, lang, item[kind])) for kind in KINDS
    )
    assert correct.score > partial.score > off.score, (correct.score, partial.score, off.score)
    assert correct.score > 60, correct
    assert off.score < 35, off
    assert len(correct.covered_concepts) > len(partial.covered_concepts)
    assert off.covered_concepts == ()
    for score in (correct, partial, off):
        dims = score.dimensions
        assert all(0 <= v <= 100 for v in (dims.technical_accuracy, dims.depth, dims.clarity))
        assert score.feedback


@pytest.mark.parametrize("qid", sorted(RAW))
def test_spanish_answers_to_an_english_only_question_rank_correctly(
    scorer: Scorer, qid: str
) -> None:
    question = make_question(RAW[qid], ("en",))
    item = next(a for a in SETS["answers"] if a["question"] == qid and a["language"] == "es")
    correct, partial, off = (
        scorer.score(AnswerToScore(question, "es", item[kind])).score for kind in KINDS
    )
    assert correct > partial > off, (correct, partial, off)
    assert off < 35


def test_evidence_quotes_are_verbatim_spans_of_the_answer(scorer: Scorer) -> None:
    checked = 0
    for item in SETS["answers"]:
        answer = item["correct"]
        result = scorer.score(AnswerToScore(QUESTIONS[item["question"]], item["language"], answer))
        assert {e.concept for e in result.evidence} == set(result.covered_concepts)
        for evidence in result.evidence:
            assert evidence.quote and evidence.quote in answer
            assert len(evidence.quote) <= 300
            checked += 1
        assert set(result.covered_concepts).isdisjoint(result.missing_concepts)
    assert checked >= 36 * 2


def test_empty_keyword_lists_and_restated_questions_score_low(scorer: Scorer) -> None:
    question = QUESTIONS["fixture-python-list-tuple"]
    good = next(
        a for a in SETS["answers"] if a["question"] == question.id and a["language"] == "en"
    )
    correct = scorer.score(AnswerToScore(question, "en", good["correct"])).score
    for answer in ("", "   ", "I don't know."):
        result = scorer.score(AnswerToScore(question, "en", answer))
        assert result.score < 30 and result.evidence == ()
    keywords = scorer.score(AnswerToScore(question, "en", "mutable immutable hashable memory key"))
    restated = scorer.score(AnswerToScore(question, "en", question.texts["en"]))
    assert keywords.score < correct - 25
    assert restated.score < 50 < correct


def test_feedback_is_written_in_the_answer_language(scorer: Scorer) -> None:
    item = next(a for a in SETS["answers"] if a["language"] == "de")
    partial = scorer.score(AnswerToScore(QUESTIONS[item["question"]], "de", item["partial"]))
    assert partial.missing_concepts
    assert "fehlt" in partial.feedback or "zeigt" in partial.feedback
    assert partial.missing_concepts[0] in partial.feedback


def _coding_question() -> Question:
    return Question(
        id="fixture-coding",
        type=QuestionType.CODING,
        difficulty=Difficulty.EASY,
        texts={"en": "Write a function that returns the sum of a list of integers."},
        expected_answer="Loop over the list and add each number to a running total, "
        "starting from zero; return the total. It runs in linear time.",
        concepts=(
            KeyConcept("iteration", {"en": ("loop", "iterate")}),
            KeyConcept("linear time", {"en": ("linear",)}),
        ),
        code_language="python",
    )


def _results(passed: int, total: int) -> CodingResult:
    tests = tuple(
        TestResult(
            i, TestOutcome.PASSED if i < passed else TestOutcome.FAILED, 1.0, "", "", False, True
        )
        for i in range(total)
    )
    return CodingResult("python", passed, total, tests)


def test_coding_score_follows_the_test_pass_ratio(scorer: Scorer) -> None:
    question = _coding_question()
    text = "I loop over the numbers and keep a running total, so it is linear time."
    scores = [
        scorer.score(AnswerToScore(question, "en", text, code="...", coding=_results(p, 4))).score
        for p in range(5)
    ]
    assert scores == sorted(scores) and scores[4] - scores[0] >= 65
    assert scores[0] <= 30
    assert scores[4] >= 80
    bare = scorer.score(AnswerToScore(question, "en", "", code="...", coding=_results(3, 4)))
    assert bare.score == pytest.approx(0.9 * 75)
    assert bare.feedback.startswith("3 of 4 tests passed")


def test_scores_are_deterministic_across_calls_and_instances(scorer: Scorer) -> None:
    fresh = Scorer(Embedder())
    for item in SETS["answers"][::7]:
        question = QUESTIONS[item["question"]]
        for kind in KINDS:
            args = AnswerToScore(question, item["language"], item[kind])
            first, second, third = scorer.score(args), scorer.score(args), fresh.score(args)
            assert first == second
            assert first.score == pytest.approx(third.score, abs=0.5)
            assert first.covered_concepts == third.covered_concepts


def test_concurrent_scoring_gives_the_same_results(scorer: Scorer) -> None:
    """The provider scores in worker threads; the shared embedder must not mix answers up."""
    items = [
        AnswerToScore(QUESTIONS[a["question"]], a["language"], a[kind])
        for a in SETS["answers"][:4]
        for kind in KINDS
    ]
    alone = [scorer.score(item) for item in items]
    with ThreadPoolExecutor(max_workers=2) as pool:
        together = list(pool.map(scorer.score, items))
    assert together == alone


def test_no_confidence_or_tone_features(scorer: Scorer) -> None:
    """Hedging or enthusiasm around the same content does not move the score much."""
    for item in SETS["answers"][:3]:  # English
        question = QUESTIONS[item["question"]]
        plain = scorer.score(AnswerToScore(question, "en", item["correct"])).score
        hedged = scorer.score(
            AnswerToScore(question, "en", "I'm not completely sure, but " + item["correct"])
        ).score
        excited = scorer.score(
            AnswerToScore(question, "en", item["correct"] + " I really love this topic!")
        ).score
        assert abs(plain - hedged) < 6 and abs(plain - excited) < 6, (plain, hedged, excited)
