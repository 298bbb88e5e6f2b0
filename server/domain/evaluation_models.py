"""Records of evaluations and AI decisions (plain dataclasses, stored as JSON by storage/)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from server.domain.ai import CodingResult, Dimensions, Evidence, Recommendation
from server.domain.models import Question


class EvaluationState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class OverrideReason(StrEnum):
    SCORE_TOO_HIGH = "score_too_high"
    SCORE_TOO_LOW = "score_too_low"
    MISSED_CONTEXT = "missed_context"
    CODING_RESULT_WRONG = "coding_result_wrong"
    UNSTABLE_RESULT = "unstable_result"
    POLICY = "policy"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class QuestionAssessment:
    question_id: str
    position: int
    score: float
    dimensions: Dimensions
    covered_concepts: tuple[str, ...]
    missing_concepts: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    feedback: str
    coding: CodingResult | None
    spread: float
    unanswered: bool


@dataclass(frozen=True, slots=True)
class Stability:
    runs: int
    max_spread: float
    threshold: float
    unstable: bool


@dataclass(frozen=True, slots=True)
class Assessment:
    """The AI's result; kept unchanged beside any human review."""

    overall_score: float
    recommendation: Recommendation
    dimensions: Dimensions
    questions: tuple[QuestionAssessment, ...]
    strengths: tuple[str, ...]
    weaknesses: tuple[str, ...]
    summary: str
    summary_language: str
    provider: str
    model: str
    fallback: bool
    fallback_reason: str
    stability: Stability
    decision_ids: tuple[str, ...]
    fluency_scored: bool


@dataclass(frozen=True, slots=True)
class HumanReview:
    reviewer_id: UUID
    reviewer_email: str
    overall_score: float
    recommendation: Recommendation
    reason: OverrideReason
    comment: str
    reviewed_at: datetime


@dataclass(frozen=True, slots=True)
class Evaluation:
    interview_id: UUID
    company_id: UUID
    department_id: UUID
    state: EvaluationState
    attempts: int
    failure_reason: str | None
    ai: Assessment | None
    review: HumanReview | None
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def final_score(self) -> float:
        if self.review is not None:
            return self.review.overall_score
        return self.ai.overall_score if self.ai else 0.0

    @property
    def final_recommendation(self) -> Recommendation | None:
        if self.review is not None:
            return self.review.recommendation
        return self.ai.recommendation if self.ai else None


@dataclass(frozen=True, slots=True)
class NewDecision:
    company_id: UUID
    department_id: UUID
    interview_id: UUID | None
    job_id: UUID
    kind: str
    provider: str
    model: str
    template_id: str
    template_hash: str
    input_hash: str
    output: object
    latency_ms: float
    prompt_tokens: int
    output_tokens: int
    attempts: int
    fallback_reason: str | None


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    id: UUID
    created_at: datetime
    decision: NewDecision


@dataclass(frozen=True, slots=True)
class AskedQuestion:
    """A question chosen for a DYNAMIC interview, stored before it was shown."""

    question: Question
    position: int
    kind: str
    rationale: str
