"""DYNAMIC interviews: the next question adapts to the answers so far.

The last answer is scored (through the AI gateway, recorded), then the provider's follow-up
chooses: a probe of a concept the candidate missed after a weak answer, a deeper question on the
same skill after a strong one, or the next question; always within the job's skills and in the
interview's language. The first question is the provider's opening choice. The decision records
go back to the candidate flow, which stores them with the chosen question.
"""

from __future__ import annotations

from server.domain.ai import AnswerScore, AnswerToScore, FollowUpRequest
from server.domain.ai_gateway import AIGateway, CallRecord
from server.domain.evaluations import decisions_of
from server.domain.models import Question
from server.domain.ports import ChosenQuestion, QuestionContext


class AdaptiveQuestionProvider:
    def __init__(self, gateway: AIGateway) -> None:
        self._ai = gateway

    async def next_question(self, context: QuestionContext) -> ChosenQuestion:
        interview, job = context.interview, context.job
        answers = {a.question_id: a for a in context.answers}
        records: list[CallRecord] = []
        history: list[tuple[Question, str, AnswerScore | None]] = []
        for n, question in enumerate(context.asked):
            answer = answers.get(question.id)
            text = answer.text if answer else ""
            score: AnswerScore | None = None
            if answer is not None and n == len(context.asked) - 1:
                scored = await self._ai.evaluate_answer(AnswerToScore(
                    question=question, language=interview.language, answer_text=answer.text,
                    code=answer.code, code_language=answer.code_language,
                    fluency_required=interview.language in job.required_languages))
                records.extend(scored.records)
                score = scored.value
            history.append((question, text, score))
        decided = await self._ai.follow_up(FollowUpRequest(
            job_title=job.title, skills=job.required_skills,
            domain=interview.domain or job.domain, language=interview.language,
            history=tuple(history),
            remaining=len(context.question_set.questions) - len(context.asked),
            pinned=context.question_set.questions))
        records.extend(decided.records)
        return ChosenQuestion(question=decided.value.question, kind=decided.value.kind,
                              rationale=decided.value.rationale,
                              decisions=tuple(decisions_of(records, interview)))
