"""Response schemas for Gemini, and their conversion to domain records.

Each method gets a pydantic model that is sent as the request's `response_schema` (Gemini's
constrained decoding then follows it) and used again to validate the answer. The models are
built per request where the request narrows what is valid, so the schema itself says it:

* texts are objects with one required property per requested language (never a free-form map,
  which Gemini's schema subset cannot express), so a missing language cannot be decoded;
* concept names, the question type/difficulty, the targeted skill and a pinned question's id are
  enums of the allowed values;
* list lengths (the number of questions, 3-6 concepts) are minItems/maxItems;
* scores are numbers in 0-100.

What a schema cannot express is checked in the `to_*` conversions and raised as
`SemanticError` (the provider turns it into a retry, then SCHEMA_VIOLATION): blank or duplicate
question texts, a coding question without a language or hidden tests, a follow-up that names
neither a pinned question nor a new one.

Evidence quotes are the one lenient check: a quote that is not a verbatim span of the answer is
dropped (and counted), not failed. One invented quote should not throw away an otherwise valid
evaluation and force a fallback; what remains is verified, so no record ever shows a quote the
candidate did not write. Quotes longer than 300 characters are cut (a prefix of a verbatim span
is still verbatim). Missing concepts are derived (question concepts minus covered ones), so the
two lists can never contradict each other.

Ids are ours, not the model's: generated questions are "g1".."gN", follow-ups "f<position>"; the
rubric of generated questions is fixed (technical_accuracy 50 / depth 30 / clarity 20).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from server.domain.ai import (
    AnswerScore,
    AnswerToScore,
    Dimensions,
    Evidence,
    FollowUp,
    FollowUpRequest,
    QuestionSpec,
    Summary,
    SummaryRequest,
)
from server.domain.models import (
    Difficulty,
    KeyConcept,
    Question,
    QuestionType,
    RubricCriterion,
    TestCase,
)

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Score = Annotated[float, Field(ge=0, le=100)]
QUOTE_MAX = 300
FOLLOW_UP_KINDS = ("probe", "deeper", "next")
GENERATED_RUBRIC = (
    RubricCriterion("technical_accuracy", "Correct facts, reasoning and terminology.", 50.0),
    RubricCriterion("depth", "Goes beyond the definition: trade-offs, examples, edge cases.", 30.0),
    RubricCriterion("clarity", "The content is well structured and unambiguous.", 20.0),
)


class SemanticError(ValueError):
    """The answer fits the schema but not our rules."""


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


def _choice(values: tuple[str, ...]) -> Any:
    """A Literal of runtime values (an enum in the response schema); `str` when there are none."""
    return cast(Any, Literal)[values] if values else str


def _list(item: Any) -> Any:
    """`list[item]` for a model or Literal built at runtime."""
    return cast(Any, list)[item]


def _per_language(name: str, languages: tuple[str, ...], kind: Any, description: str) -> Any:
    """An object with one required property per language (aliases allow codes like pt-BR)."""
    fields: dict[str, Any] = {
        f"l_{i}": (kind, Field(alias=lang, description=f"{description} in language '{lang}'"))
        for i, lang in enumerate(languages)
    }
    return create_model(name, __base__=_Out, **fields)


def _by_language(obj: BaseModel, languages: tuple[str, ...]) -> dict[str, Any]:
    return {lang: getattr(obj, f"l_{i}") for i, lang in enumerate(languages)}


class DimensionsOut(_Out):
    technical_accuracy: Score = Field(description="Correctness of the content, 0-100")
    depth: Score = Field(description="Depth: trade-offs, examples, edge cases, 0-100")
    clarity: Score = Field(description="Clarity of the content (not of the language), 0-100")


class TestCaseOut(_Out):
    __test__ = False

    input: str = Field(description="stdin of the program")
    expected_output: str = Field(description="exact expected stdout")


# --- evaluate_answer ---------------------------------------------------------------------------

def concept_names(question: Question) -> tuple[str, ...]:
    """The concepts an answer is checked against: the question's concepts, else its keywords."""
    names = tuple(c.name for c in question.concepts) or question.keywords
    return tuple(dict.fromkeys(n for n in names if n.strip()))


@lru_cache(maxsize=256)
def evaluation_model(concepts: tuple[str, ...]) -> type[BaseModel]:
    concept = _choice(concepts)
    evidence = create_model(
        "EvidenceOut", __base__=_Out,
        concept=(concept, Field(description="the concept this quote shows")),
        quote=(NonEmpty, Field(description="a verbatim span copied from the answer")),
    )
    return create_model(
        "EvaluationOut", __base__=_Out,
        score=(Score, Field(description="overall score 0-100 following the rubric weights")),
        dimensions=(DimensionsOut, ...),
        covered_concepts=(_list(concept), Field(description="concepts the answer shows")),
        evidence=(_list(evidence), Field(max_length=12)),
        feedback=(NonEmpty, Field(description="one or two sentences for the reviewer")),
    )


def to_answer_score(item: AnswerToScore, out: BaseModel) -> tuple[AnswerScore, int]:
    """The domain score and how many evidence quotes were dropped as not verbatim."""
    data: Any = out
    concepts = concept_names(item.question)
    covered = tuple(dict.fromkeys(
        c for c in data.covered_concepts if c in concepts or not concepts))
    haystack = f"{item.answer_text}\n{item.code}"
    kept: list[Evidence] = []
    for ev in data.evidence:
        quote = ev.quote[:QUOTE_MAX]
        if quote in haystack:
            kept.append(Evidence(concept=ev.concept, quote=quote))
    dims = data.dimensions
    score = AnswerScore(
        question_id=item.question.id,
        score=float(data.score),
        dimensions=Dimensions(float(dims.technical_accuracy), float(dims.depth),
                              float(dims.clarity)),
        covered_concepts=covered,
        missing_concepts=tuple(c for c in concepts if c not in covered),
        evidence=tuple(kept),
        feedback=data.feedback,
    )
    return score, len(data.evidence) - len(kept)


# --- generate_questions ------------------------------------------------------------------------

def question_types(spec: QuestionSpec) -> tuple[str, ...]:
    types = [QuestionType.TECHNICAL.value]
    if spec.include_behavioral:
        types.append(QuestionType.BEHAVIORAL.value)
    if spec.include_coding:
        types.append(QuestionType.CODING.value)
    return tuple(types)


def _difficulties(difficulty: Difficulty | None) -> tuple[str, ...]:
    return (difficulty.value,) if difficulty else tuple(d.value for d in Difficulty)


def _concept_model(languages: tuple[str, ...]) -> Any:
    terms = _per_language("TermsOut", languages, list[NonEmpty],
                          "words or phrases that show the concept")
    return create_model(
        "ConceptOut", __base__=_Out,
        name=(NonEmpty, Field(description="short concept name")),
        terms=(terms, ...),
        any_language=(list[NonEmpty], Field(
            default_factory=list, description="terms valid in every language, e.g. acronyms")),
    )


def _question_fields(languages: tuple[str, ...], skills: tuple[str, ...],
                     types: tuple[str, ...], difficulties: tuple[str, ...],
                     min_concepts: int) -> dict[str, Any]:
    texts = _per_language("TextsOut", languages, NonEmpty, "the question")
    answers = _per_language("ExpectedOut", languages, NonEmpty, "a model answer")
    concept = _concept_model(languages)
    fields: dict[str, Any] = {
        "type": (_choice(types), ...),
        "difficulty": (_choice(difficulties), ...),
        "texts": (texts, ...),
        "expected_answer": (answers, ...),
        "concepts": (_list(concept), Field(min_length=min_concepts, max_length=6)),
    }
    if skills:
        fields["skill"] = (_choice(skills), Field(description="the job skill it assesses"))
    if QuestionType.CODING.value in types:
        fields |= {
            "code_language": (str, Field("", description="coding only: e.g. python")),
            "starter_code": (str, Field("", description="coding only")),
            "examples": (list[TestCaseOut], Field(default_factory=list, max_length=3)),
            "hidden_tests": (list[TestCaseOut], Field(default_factory=list, max_length=8)),
        }
    return fields


@lru_cache(maxsize=128)
def _questions_model(languages: tuple[str, ...], skills: tuple[str, ...], types: tuple[str, ...],
                     difficulties: tuple[str, ...], count: int) -> type[BaseModel]:
    question = create_model(
        "QuestionOut", __base__=_Out,
        **_question_fields(languages, skills, types, difficulties, 3),
    )
    return create_model(
        "QuestionsOut", __base__=_Out,
        questions=(_list(question), Field(min_length=count, max_length=count)),
    )


def questions_model(spec: QuestionSpec) -> type[BaseModel]:
    if spec.count < 1 or not spec.languages:
        raise ValueError("a question spec needs count >= 1 and at least one language")
    return _questions_model(spec.languages, _skills(spec.skills), question_types(spec),
                            _difficulties(spec.difficulty), spec.count)


def _skills(skills: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s.strip() for s in skills if s.strip()))


def _to_question(q: Any, qid: str, languages: tuple[str, ...]) -> Question:
    texts = _by_language(q.texts, languages)
    answers = _by_language(q.expected_answer, languages)
    concepts = tuple(_to_concept(c, languages) for c in q.concepts)
    qtype = QuestionType(q.type)
    skill = getattr(q, "skill", "")
    coding = qtype is QuestionType.CODING
    if coding and not (q.code_language.strip() and q.hidden_tests):
        raise SemanticError(f"{qid}: a coding question needs a code language and hidden tests")
    return Question(
        id=qid, type=qtype, difficulty=Difficulty(q.difficulty), texts=texts,
        expected_answer=answers[languages[0]],
        expected_answers={lang: answers[lang] for lang in languages[1:]},
        keywords=tuple(k for k in dict.fromkeys([skill, *(c.name for c in concepts)]) if k),
        rubric=GENERATED_RUBRIC,
        concepts=concepts,
        starter_code=q.starter_code if coding else "",
        code_language=q.code_language.strip() if coding else "",
        examples=tuple(TestCase(t.input, t.expected_output) for t in q.examples) if coding else (),
        hidden_tests=(tuple(TestCase(t.input, t.expected_output) for t in q.hidden_tests)
                      if coding else ()),
        source="gemini",
    )


def _to_concept(c: Any, languages: tuple[str, ...]) -> KeyConcept:
    terms: dict[str, tuple[str, ...]] = {
        lang: tuple(words) for lang, words in _by_language(c.terms, languages).items()
    }
    if c.any_language:
        terms["*"] = tuple(c.any_language)
    return KeyConcept(name=c.name, terms=terms)


def to_questions(spec: QuestionSpec, out: BaseModel) -> tuple[Question, ...]:
    data: Any = out
    questions = tuple(_to_question(q, f"g{i}", spec.languages)
                      for i, q in enumerate(data.questions, start=1))
    seen: set[str] = set()
    for q in questions:
        key = " ".join(q.texts[spec.languages[0]].casefold().split())
        if key in seen:
            raise SemanticError(f"{q.id}: duplicate question text")
        seen.add(key)
    return questions


# --- follow_up ---------------------------------------------------------------------------------

def available_pinned(request: FollowUpRequest) -> tuple[str, ...]:
    asked = {q.id for q, _, _ in request.history}
    return tuple(q.id for q in request.pinned if q.id not in asked)


@lru_cache(maxsize=128)
def _follow_up_model(language: str, skills: tuple[str, ...],
                     pinned: tuple[str, ...]) -> type[BaseModel]:
    types = (QuestionType.TECHNICAL.value, QuestionType.BEHAVIORAL.value)
    question = create_model(
        "NewQuestionOut", __base__=_Out,
        **_question_fields((language,), skills, types, _difficulties(None), 1),
    )
    fields: dict[str, Any] = {
        "kind": (_choice(FOLLOW_UP_KINDS), ...),
        "rationale": (NonEmpty, Field(description="why this question, one sentence")),
        "question": (question | None, Field(None, description="a new question, or null")),
    }
    if pinned:
        fields["pinned_id"] = (_choice(pinned) | None, Field(
            None, description="id of a pinned question to ask next, or null"))
    return create_model("FollowUpOut", __base__=_Out, **fields)


def follow_up_model(request: FollowUpRequest) -> type[BaseModel]:
    return _follow_up_model(request.language, _skills(request.skills), available_pinned(request))


def to_follow_up(request: FollowUpRequest, out: BaseModel) -> FollowUp:
    data: Any = out
    pinned_id = getattr(data, "pinned_id", None)
    if pinned_id is not None:
        chosen = next(q for q in request.pinned if q.id == pinned_id)
    elif data.question is not None:
        chosen = _to_question(data.question, f"f{len(request.history) + 1}", (request.language,))
    else:
        raise SemanticError("the follow-up names neither a pinned question nor a new one")
    return FollowUp(question=chosen, rationale=data.rationale, kind=data.kind)


# --- summarize ---------------------------------------------------------------------------------

class SummaryOut(_Out):
    strengths: list[NonEmpty] = Field(max_length=6, description="short phrases")
    weaknesses: list[NonEmpty] = Field(max_length=6, description="short phrases")
    summary: NonEmpty = Field(description="three to six sentences for the reviewer")


def summary_model() -> type[BaseModel]:
    return SummaryOut


def to_summary(request: SummaryRequest, out: BaseModel) -> Summary:
    data: Any = out
    return Summary(strengths=tuple(data.strengths), weaknesses=tuple(data.weaknesses),
                   summary=data.summary, language=request.reviewer_language)
