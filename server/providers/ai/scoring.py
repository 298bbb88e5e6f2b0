"""The local answer scorer: content only, the same way in 12 languages, deterministic.

An answer is scored on three signals, each 0..1:

Semantic similarity (`semantic`). Raw e5 cosines are not comparable across languages or
questions: two unrelated Chinese sentences sit near 0.82 while two unrelated English ones sit
near 0.72, and a Spanish answer to an English reference loses about 0.07 to the language change
alone. So the cosine c = cos(answer, reference) is placed on a scale made of two reference
points measured for the same question and language:

  * lo = the mean cosine between the reference and off-topic anchor sentences written in the
    answer's language (local_texts.json) - what "nothing to do with it" scores here;
  * mid = the cosine between the reference and the question text in the answer's language -
    what merely restating the question scores.

c at or below lo maps to 0, c = mid maps to 0.5, and c = mid + 0.6 * (1 - mid) maps to 1
(piecewise linear, clipped). The reference is the expected answer in the answer's language when
the question has one, else the default expected answer (cross-lingual scoring still ranks
correctly because lo and mid are measured across the same language pair).

Concept coverage (`coverage`). A concept counts as covered when one of its terms for the
answer's language (or for any language, "*") occurs in an on-topic sentence of the answer - see
textmatch for the word-boundary rules; a sentence is on topic when the whole answer is
(semantic >= 0.2) or when it is closer to the reference or the question than to every anchor,
so "an old guitar" does not show "stale data" - or when one answer sentence is semantically
close to the concept: its cosine to the concept's context (the reference sentences that mention
the concept) must reach mid_k + 0.35 * (1 - mid_k), where mid_k is the question text's cosine
to that context, beat the sentence's own cosine to the question text, and be the sentence's
nearest concept (one sentence shows one concept by meaning). The relative thresholds keep
sentences that are merely on topic from counting. Coverage is scaled by min(1, words / 20) so
that a bare list of keywords earns little. Every covered concept has a verbatim quote.

Structure (`structure`). Length adequacy (short answers are penalised), sentence count, and
reasoning connectors / example markers from local_texts.json. Nothing about tone, emotion,
confidence or (unless fluency_required, which this scorer does not use) language quality.

Dimensions: technical_accuracy = 55% semantic + 45% coverage; depth = 65% coverage + 35%
elaboration; clarity = structure. Elaboration and structure are multiplied by relevance =
min(1, semantic / 0.5), so a long, well-built answer about something else still scores low.
The overall score is the rubric-weighted mean of the dimensions (50/30/20 unless the question
has its own weights). Coding questions: the test pass ratio gives 70% and the explanation text
30% (90% / 10% when there is no explanation). All figures are rounded to one decimal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from server.domain.ai import AnswerScore, AnswerToScore, CodingResult, Dimensions, Evidence
from server.domain.models import KeyConcept, Question, QuestionType
from server.providers.ai import textmatch
from server.providers.ai.embeddings import Embedder, Matrix

SCORER_VERSION = "local-scorer/v1"
_DEFAULT_WEIGHTS = {"technical_accuracy": 50.0, "depth": 30.0, "clarity": 20.0}
_TARGET_UNITS = 60.0  # answer length (words) that counts as fully elaborated
_NEAR_EMPTY_UNITS = 4.0  # below this an answer is treated as no answer
_CONCEPT_RATIO = 0.35  # semantic concept threshold: mid_k + ratio * (1 - mid_k)
_CONCEPT_MARGIN = 0.01  # ... and the sentence is closer to the concept than to the question
_RELEVANT = 0.2  # semantic score from which the whole answer is on topic
_SHORT_UNITS = 20.0  # coverage counts fully from this length (no keyword lists)
_TOP_SPAN = 0.6  # c = mid + 0.6 * (1 - mid) is a full semantic score


@lru_cache(maxsize=1)
def load_texts() -> dict[str, Any]:
    """local_texts.json: per-language word lists and templates."""
    raw = resources.files("server.providers.ai").joinpath("local_texts.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(raw)
    return data


def texts_for(language: str) -> dict[str, Any]:
    languages: dict[str, Any] = load_texts()["languages"]
    found: dict[str, Any] = languages.get(language) or languages["en"]
    return found


def join_names(names: tuple[str, ...] | list[str], language: str) -> str:
    sep: str = texts_for(language)["list_separator"]
    shown = [n.replace("_", " ") for n in names]
    return sep.join(f"«{n}»" if language in ("fr", "ru", "it") else f"'{n}'" for n in shown)


@dataclass(frozen=True, slots=True)
class Signals:
    """The intermediate figures of one scoring (exposed for tests and the benchmark)."""

    cosine: float
    low: float
    mid: float
    semantic: float
    coverage: float
    structure: float
    elaboration: float
    relevance: float


@dataclass(frozen=True, slots=True)
class _Reference:
    text: str
    question_text: str


class Scorer:
    """Scores answers with one shared `Embedder` (thread-safe; CPU-bound, call off the loop)."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    def score(self, item: AnswerToScore) -> AnswerScore:
        return self.score_with_signals(item)[0]

    def score_with_signals(self, item: AnswerToScore) -> tuple[AnswerScore, Signals]:
        question, language = item.question, item.language
        answer = item.answer_text.strip()
        text_part = self._score_text(question, language, answer)
        if question.type == QuestionType.CODING and item.coding is not None:
            return _with_coding(text_part, item.coding, answer, language), text_part[1]
        return text_part

    # --- text answers ---------------------------------------------------------------------

    def _score_text(
        self, question: Question, language: str, answer: str
    ) -> tuple[AnswerScore, Signals]:
        units = textmatch.length_units(answer, language)
        if units < _NEAR_EMPTY_UNITS:
            return _empty(question, language), Signals(0, 0, 0, 0, 0, 0, 0, 0)
        ref = _reference(question, language)
        spans = textmatch.sentences(answer)
        pieces = [answer[s.start : s.end] for s in spans]
        if all(textmatch.find_term(answer, concept_terms(c, language)) for c in question.concepts):
            answer_vec = self._embedder.embed([answer])[0]
            sentence_vecs = _LazySentences(self._embedder, pieces)
        else:  # the semantic concept match will need the sentences: one batch call
            vectors = self._embedder.embed([answer, *pieces])
            answer_vec = vectors[0]
            sentence_vecs = _LazySentences(self._embedder, pieces, vectors[1:])
        cosine, low, mid, semantic = self._semantic(ref, language, answer_vec)
        covered, evidence = self._coverage(
            question=question,
            language=language,
            ref=ref,
            answer=answer,
            spans=spans,
            sentence_vecs=sentence_vecs,
            relevant=semantic >= _RELEVANT,
        )
        concepts = question.concepts
        coverage = len(covered) / len(concepts) if concepts else semantic
        coverage *= min(1.0, units / _SHORT_UNITS)
        relevance = min(1.0, semantic / 0.5)
        structure, elaboration = _structure(answer, language, units, len(spans))
        accuracy = 0.55 * semantic + 0.45 * coverage
        depth = 0.65 * coverage + 0.35 * elaboration * relevance
        clarity = structure * relevance
        dims = Dimensions(_pct(accuracy), _pct(depth), _pct(clarity))
        missing = tuple(c.name for c in concepts if c.name not in covered)
        score = _weighted(question, dims)
        covered_names = tuple(c.name for c in concepts if c.name in covered)
        result = AnswerScore(
            question_id=question.id,
            score=score,
            dimensions=dims,
            covered_concepts=covered_names,
            missing_concepts=missing,
            evidence=tuple(evidence[name] for name in covered_names),
            feedback=_feedback(language, score, covered_names, missing),
        )
        signals = Signals(cosine, low, mid, semantic, coverage, structure, elaboration, relevance)
        return result, signals

    def _semantic(
        self, ref: _Reference, language: str, answer_vec: np.ndarray[Any, Any]
    ) -> tuple[float, float, float, float]:
        anchors: list[str] = texts_for(language)["anchors"]
        cached = self._embedder.embed_cached([ref.text, ref.question_text, *anchors])
        ref_vec = cached[0]
        low = float(np.mean(cached[2:] @ ref_vec))
        mid = max(float(cached[1] @ ref_vec), low + 0.02)
        cosine = float(answer_vec @ ref_vec)
        return cosine, low, mid, _calibrate(cosine, low, mid)

    def _coverage(
        self,
        *,
        question: Question,
        language: str,
        ref: _Reference,
        answer: str,
        spans: list[textmatch.Span],
        sentence_vecs: _LazySentences,
        relevant: bool,
    ) -> tuple[set[str], dict[str, Evidence]]:
        covered: set[str] = set()
        evidence: dict[str, Evidence] = {}
        if not spans:
            return covered, evidence
        on_topic = np.ones(len(spans), dtype=bool)
        if not relevant:
            # A sentence is on topic when it is closer to the reference or the question than
            # to every anchor; in an answer that is on topic as a whole every sentence counts.
            cached = self._embedder.embed_cached(
                [ref.text, ref.question_text, *texts_for(language)["anchors"]]
            )
            vecs = sentence_vecs.vectors()
            topical = np.maximum(vecs @ cached[0], vecs @ cached[1])
            on_topic = topical > np.max(vecs @ cached[2:].T, axis=1)
        for concept in question.concepts:
            hit = self._term_hit(answer, spans, concept_terms(concept, language), on_topic)
            if hit is not None:
                covered.add(concept.name)
                evidence[concept.name] = Evidence(concept.name, textmatch.quote(answer, *hit))
        if len(covered) < len(question.concepts):
            found = self._semantic_concepts(
                question.concepts, language, ref, sentence_vecs.vectors()
            )
            for concept, index in found:
                if concept.name not in covered:
                    covered.add(concept.name)
                    evidence[concept.name] = Evidence(
                        concept.name, textmatch.quote(answer, spans[index])
                    )
        return covered, evidence

    @staticmethod
    def _term_hit(
        answer: str,
        spans: list[textmatch.Span],
        terms: tuple[str, ...],
        on_topic: np.ndarray[Any, Any],
    ) -> tuple[textmatch.Span, textmatch.Span] | None:
        """The first term occurrence inside an on-topic sentence, as (sentence, hit): a term
        in a sentence about something else ("an old guitar") does not show the concept."""
        for index, span in enumerate(spans):
            if not bool(on_topic[index]):
                continue
            hit = textmatch.find_term(answer[span.start : span.end], terms)
            if hit is not None:
                return span, textmatch.Span(span.start + hit.start, span.start + hit.end)
        return None

    def _semantic_concepts(
        self,
        concepts: tuple[KeyConcept, ...],
        language: str,
        ref: _Reference,
        sentence_vecs: Matrix,
    ) -> list[tuple[KeyConcept, int]]:
        """Concepts shown by meaning: each sentence may show only the concept whose context it
        is closest to, and only above the relative threshold (see the module docstring)."""
        contexts = [concept_context(c, language, ref.text) for c in concepts]
        cached = self._embedder.embed_cached([ref.question_text, *contexts])
        question_vec, context_vecs = cached[0], cached[1:]
        to_question = sentence_vecs @ question_vec
        sims = sentence_vecs @ context_vecs.T  # sentences x concepts
        nearest = np.argmax(sims, axis=1)
        found: list[tuple[KeyConcept, int]] = []
        for k, concept in enumerate(concepts):
            mid_k = float(context_vecs[k] @ question_vec)
            threshold = mid_k + _CONCEPT_RATIO * (1.0 - mid_k)
            column = sims[:, k]
            ok = (column >= threshold) & (column >= to_question + _CONCEPT_MARGIN) & (nearest == k)
            if bool(ok.any()):
                found.append((concept, int(np.argmax(np.where(ok, column, -1.0)))))
        return found


# --- helpers ----------------------------------------------------------------------------------


class _LazySentences:
    """Sentence embeddings, computed only when a step needs them: an on-topic answer whose
    concepts are all found by their words needs none (half the model work). When they will be
    needed they are embedded in the same batch call as the answer (the engine runs a batch one
    text per thread)."""

    def __init__(
        self, embedder: Embedder, pieces: list[str], vectors: Matrix | None = None
    ) -> None:
        self._embedder = embedder
        self._pieces = pieces
        self._vectors = vectors

    def vectors(self) -> Matrix:
        if self._vectors is None:
            self._vectors = self._embedder.embed(self._pieces)
        return self._vectors


def concept_terms(concept: KeyConcept, language: str) -> tuple[str, ...]:
    return tuple(concept.terms.get(language, ())) + tuple(concept.terms.get("*", ()))


def concept_context(concept: KeyConcept, language: str, reference: str) -> str:
    """The reference sentences that mention the concept; the concept's name and terms when
    none does."""
    terms = concept_terms(concept, language)
    picked = [
        reference[s.start : s.end]
        for s in textmatch.sentences(reference)
        if textmatch.find_term(reference[s.start : s.end], terms) is not None
    ]
    if picked:
        return " ".join(picked)
    return f"{concept.name}: {', '.join(terms)}" if terms else concept.name


def _reference(question: Question, language: str) -> _Reference:
    text = question.expected_answers.get(language) or question.expected_answer
    if not text:
        others = next(iter(question.expected_answers.values()), "")
        text = others or _question_text(question, language)
    return _Reference(text, _question_text(question, language))


def _question_text(question: Question, language: str) -> str:
    return question.texts.get(language) or next(iter(question.texts.values()), question.id)


def _calibrate(cosine: float, low: float, mid: float) -> float:
    top = mid + _TOP_SPAN * (1.0 - mid)
    if cosine <= mid:
        value = 0.5 * (cosine - low) / (mid - low)
    else:
        value = 0.5 + 0.5 * (cosine - mid) / (top - mid)
    return float(min(1.0, max(0.0, value)))


def _structure(answer: str, language: str, units: float, n_sentences: int) -> tuple[float, float]:
    words = texts_for(language)
    length = min(1.0, units / _TARGET_UNITS)
    sentence_part = min(1.0, n_sentences / 3)
    connectors = min(1.0, textmatch.count_terms(answer, words["connectors"]) / 2)
    example = 1.0 if textmatch.find_term(answer, words["examples"]) else 0.0
    structure = 0.45 * length + 0.25 * sentence_part + 0.2 * connectors + 0.1 * example
    elaboration = 0.5 * length + 0.25 * connectors + 0.25 * example
    return structure, elaboration


def _weighted(question: Question, dims: Dimensions) -> float:
    weights = dict(_DEFAULT_WEIGHTS)
    given = {c.name: c.weight for c in question.rubric if c.name in weights and c.weight > 0}
    if len(given) == len(weights):
        weights = given
    total = sum(weights.values())
    value = (
        dims.technical_accuracy * weights["technical_accuracy"]
        + dims.depth * weights["depth"]
        + dims.clarity * weights["clarity"]
    ) / total
    return round(value, 1)


def _pct(value: float) -> float:
    return round(100.0 * min(1.0, max(0.0, value)), 1)


def _empty(question: Question, language: str) -> AnswerScore:
    names = tuple(c.name for c in question.concepts)
    return AnswerScore(
        question_id=question.id,
        score=0.0,
        dimensions=Dimensions(0.0, 0.0, 0.0),
        covered_concepts=(),
        missing_concepts=names,
        evidence=(),
        feedback=texts_for(language)["feedback"]["empty"],
    )


def _feedback(
    language: str, score: float, covered: tuple[str, ...], missing: tuple[str, ...]
) -> str:
    templates: dict[str, str] = texts_for(language)["feedback"]
    cov, miss = join_names(covered, language), join_names(missing, language)
    if score >= 75 and covered:
        text = templates["strong"].format(covered=cov)
        if missing:
            text += " " + _missing_tail(language, miss)
        return text
    if covered and missing:
        return templates["partial"].format(covered=cov, missing=miss)
    if covered:
        return templates["strong"].format(covered=cov)
    if score >= 30 and missing:
        return templates["vague"].format(missing=miss)
    return templates["weak"].format(missing=miss or "-")


def _missing_tail(language: str, missing: str) -> str:
    return str(texts_for(language)["feedback"]["vague"].format(missing=missing))


def _with_coding(
    text_part: tuple[AnswerScore, Signals], coding: CodingResult, answer: str, language: str
) -> AnswerScore:
    scored = text_part[0]
    ratio = coding.passed / coding.total if coding.total else 0.0
    explained = textmatch.length_units(answer, language) >= _NEAR_EMPTY_UNITS
    tests_pct = 100.0 * ratio
    if explained:
        score = round(0.7 * tests_pct + 0.3 * scored.score, 1)
        dims = Dimensions(
            round(0.8 * tests_pct + 0.2 * scored.dimensions.technical_accuracy, 1),
            round(0.5 * tests_pct + 0.5 * scored.dimensions.depth, 1),
            scored.dimensions.clarity,
        )
    else:
        score = round(0.9 * tests_pct, 1)
        dims = Dimensions(round(tests_pct, 1), round(0.7 * tests_pct, 1), 0.0)
    tests_line = texts_for(language)["feedback"]["tests"].format(
        passed=coding.passed, total=coding.total
    )
    feedback = tests_line if not explained else f"{tests_line} {scored.feedback}"
    return AnswerScore(
        question_id=scored.question_id,
        score=score,
        dimensions=dims,
        covered_concepts=scored.covered_concepts,
        missing_concepts=scored.missing_concepts,
        evidence=scored.evidence,
        feedback=feedback,
    )
