"""EvaluationService: proto -> use-case -> proto."""

from __future__ import annotations

from typing import Any

import orjson
from grpc import aio
from interviewplatform.v1 import evaluation_pb2 as epb
from interviewplatform.v1 import evaluation_service_pb2 as pb
from interviewplatform.v1 import evaluation_service_pb2_grpc

from server.api import convert
from server.context import caller
from server.domain.ai import CodingResult, Dimensions, Recommendation, TestOutcome
from server.domain.evaluation_models import (
    Assessment,
    DecisionRecord,
    Evaluation,
    EvaluationState,
    OverrideReason,
)
from server.domain.evaluations import EvaluationUseCases
from server.domain.models import Page

Ctx = aio.ServicerContext[Any, Any]

STATE_TO_PROTO = {
    EvaluationState.QUEUED: epb.EVALUATION_STATE_QUEUED,
    EvaluationState.RUNNING: epb.EVALUATION_STATE_RUNNING,
    EvaluationState.DONE: epb.EVALUATION_STATE_DONE,
    EvaluationState.FAILED: epb.EVALUATION_STATE_FAILED,
}
RECOMMENDATION_TO_PROTO = {
    Recommendation.STRONG_HIRE: epb.RECOMMENDATION_STRONG_HIRE,
    Recommendation.HIRE: epb.RECOMMENDATION_HIRE,
    Recommendation.LEAN_NO: epb.RECOMMENDATION_LEAN_NO,
    Recommendation.NO_HIRE: epb.RECOMMENDATION_NO_HIRE,
}
RECOMMENDATION_FROM_PROTO = {v: k for k, v in RECOMMENDATION_TO_PROTO.items()}
REASON_TO_PROTO = {
    OverrideReason.SCORE_TOO_HIGH: epb.OVERRIDE_REASON_SCORE_TOO_HIGH,
    OverrideReason.SCORE_TOO_LOW: epb.OVERRIDE_REASON_SCORE_TOO_LOW,
    OverrideReason.MISSED_CONTEXT: epb.OVERRIDE_REASON_MISSED_CONTEXT,
    OverrideReason.CODING_RESULT_WRONG: epb.OVERRIDE_REASON_CODING_RESULT_WRONG,
    OverrideReason.UNSTABLE_RESULT: epb.OVERRIDE_REASON_UNSTABLE_RESULT,
    OverrideReason.POLICY: epb.OVERRIDE_REASON_POLICY,
    OverrideReason.OTHER: epb.OVERRIDE_REASON_OTHER,
}
REASON_FROM_PROTO = {v: k for k, v in REASON_TO_PROTO.items()}
OUTCOME_TO_PROTO = {
    TestOutcome.PASSED: epb.CODE_TEST_OUTCOME_PASSED,
    TestOutcome.FAILED: epb.CODE_TEST_OUTCOME_FAILED,
    TestOutcome.ERROR: epb.CODE_TEST_OUTCOME_ERROR,
    TestOutcome.TIMEOUT: epb.CODE_TEST_OUTCOME_TIMEOUT,
    TestOutcome.MEMORY_LIMIT: epb.CODE_TEST_OUTCOME_MEMORY_LIMIT,
    TestOutcome.OUTPUT_LIMIT: epb.CODE_TEST_OUTCOME_OUTPUT_LIMIT,
    TestOutcome.PROCESS_LIMIT: epb.CODE_TEST_OUTCOME_PROCESS_LIMIT,
    TestOutcome.UNSUPPORTED: epb.CODE_TEST_OUTCOME_UNSUPPORTED,
}


def coding_result(c: CodingResult) -> epb.CodingResult:
    return epb.CodingResult(language=c.language, passed=c.passed, total=c.total, results=[
        epb.CodeTestResult(index=r.index, outcome=OUTCOME_TO_PROTO[r.outcome],
                           time_ms=r.time_ms, output=r.output, error=r.error,
                           truncated=r.truncated, hidden=r.hidden) for r in c.results])


def _dims(d: Dimensions) -> epb.RubricScores:
    return epb.RubricScores(technical_accuracy=d.technical_accuracy, depth=d.depth,
                            clarity=d.clarity)


def assessment(a: Assessment) -> epb.AiAssessment:
    return epb.AiAssessment(
        overall_score=a.overall_score,
        recommendation=RECOMMENDATION_TO_PROTO[a.recommendation],
        dimensions=_dims(a.dimensions),
        question_scores=[epb.QuestionScore(
            question_id=q.question_id, position=q.position, score=q.score,
            dimensions=_dims(q.dimensions), covered_concepts=list(q.covered_concepts),
            missing_concepts=list(q.missing_concepts),
            evidence=[epb.Evidence(concept=e.concept, quote=e.quote) for e in q.evidence],
            feedback=q.feedback, coding=coding_result(q.coding) if q.coding else None,
            spread=q.spread, unanswered=q.unanswered) for q in a.questions],
        strengths=list(a.strengths), weaknesses=list(a.weaknesses), summary=a.summary,
        summary_language=a.summary_language, provider=a.provider, model=a.model,
        fallback=a.fallback, fallback_reason=a.fallback_reason,
        stability=epb.StabilityCheck(runs=a.stability.runs, max_spread=a.stability.max_spread,
                                     threshold=a.stability.threshold,
                                     unstable=a.stability.unstable),
        decision_ids=list(a.decision_ids), fluency_scored=a.fluency_scored)


def evaluation(e: Evaluation) -> epb.Evaluation:
    review = None
    if e.review is not None:
        r = e.review
        review = epb.HumanReview(
            reviewer_id=str(r.reviewer_id), reviewer_email=r.reviewer_email,
            overall_score=r.overall_score,
            recommendation=RECOMMENDATION_TO_PROTO[r.recommendation],
            reason=REASON_TO_PROTO[r.reason], comment=r.comment,
            review_time=convert.timestamp(r.reviewed_at))
    final = e.final_recommendation
    return epb.Evaluation(
        interview_id=str(e.interview_id), state=STATE_TO_PROTO[e.state],
        failure_reason=e.failure_reason or "", attempts=e.attempts,
        ai=assessment(e.ai) if e.ai else None, review=review, final_score=e.final_score,
        final_recommendation=RECOMMENDATION_TO_PROTO[final] if final else
        epb.RECOMMENDATION_UNSPECIFIED,
        etag=str(e.version), create_time=convert.timestamp(e.created_at),
        update_time=convert.timestamp(e.updated_at))


def decision_record(r: DecisionRecord) -> epb.DecisionRecord:
    d = r.decision
    return epb.DecisionRecord(
        id=str(r.id), company_id=str(d.company_id), interview_id=convert.id_str(d.interview_id),
        job_id=str(d.job_id), kind=d.kind, provider=d.provider, model=d.model,
        template_id=d.template_id, template_hash=d.template_hash, input_hash=d.input_hash,
        output_json=orjson.dumps(d.output).decode(), latency_ms=d.latency_ms,
        prompt_tokens=d.prompt_tokens, output_tokens=d.output_tokens,
        fallback_reason=d.fallback_reason or "", attempts=d.attempts,
        create_time=convert.timestamp(r.created_at))


class EvaluationService(evaluation_service_pb2_grpc.EvaluationServiceServicer):
    def __init__(self, evaluations: EvaluationUseCases) -> None:
        self._e = evaluations

    async def GetEvaluation(self, request: pb.GetEvaluationRequest,
                            context: Ctx) -> pb.GetEvaluationResponse:
        found = await self._e.get(caller(), convert.req_uuid(request.interview_id,
                                                             "interview_id"))
        return pb.GetEvaluationResponse(evaluation=evaluation(found))

    async def OverrideEvaluation(self, request: pb.OverrideEvaluationRequest,
                                 context: Ctx) -> pb.OverrideEvaluationResponse:
        changed = await self._e.override(
            caller(), convert.req_uuid(request.interview_id, "interview_id"),
            score=request.overall_score,
            recommendation=RECOMMENDATION_FROM_PROTO[request.recommendation],
            reason=REASON_FROM_PROTO[request.reason], comment=request.comment,
            etag=request.etag)
        return pb.OverrideEvaluationResponse(evaluation=evaluation(changed))

    async def RetryEvaluation(self, request: pb.RetryEvaluationRequest,
                              context: Ctx) -> pb.RetryEvaluationResponse:
        queued = await self._e.retry(caller(), convert.req_uuid(request.interview_id,
                                                                "interview_id"))
        return pb.RetryEvaluationResponse(evaluation=evaluation(queued))

    async def GetDecisionRecord(self, request: pb.GetDecisionRecordRequest,
                                context: Ctx) -> pb.GetDecisionRecordResponse:
        found = await self._e.decision(caller(), convert.req_uuid(request.id))
        return pb.GetDecisionRecordResponse(record=decision_record(found))

    async def ListDecisionRecords(self, request: pb.ListDecisionRecordsRequest,
                                  context: Ctx) -> pb.ListDecisionRecordsResponse:
        page: Page[DecisionRecord] = await self._e.decisions(
            caller(), interview_id=convert.opt_uuid(request.interview_id),
            job_id=convert.opt_uuid(request.job_id), size=request.page_size,
            token=request.page_token)
        return pb.ListDecisionRecordsResponse(
            records=[decision_record(r) for r in page.items],
            next_page_token=page.next_page_token)
