"""The candidate's side: link tokens found by their hash, and answers (with the recording of a
spoken answer: its bytes go to the deferred `audio` column, never read back here)."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.domain.errors import AlreadyExists
from server.domain.models import Answer, AnswerAudio, CandidateTokenInfo
from server.storage.orm import AnswerRow, CandidateTokenRow
from server.storage.sql import unique_violations


def _audio(row: AnswerRow) -> AnswerAudio | None:
    if row.audio_media_type is None:
        return None
    return AnswerAudio(media_type=row.audio_media_type, size_bytes=row.audio_size or 0,
                       duration_ms=row.audio_duration_ms or 0, truncated=row.audio_truncated,
                       partial_transcript=row.transcript_partial,
                       provider=row.speech_provider or "")


def _answer(row: AnswerRow) -> Answer:
    return Answer(interview_id=row.interview_id, question_id=row.question_id,
                  position=row.position, text=row.text, code=row.code,
                  code_language=row.code_language, request_id=row.request_id,
                  created_at=row.created_at, audio=_audio(row))


class SqlCandidateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def token(self, token_hash: bytes) -> CandidateTokenInfo | None:
        row = await self._s.scalar(
            select(CandidateTokenRow).where(CandidateTokenRow.token_hash == token_hash))
        if row is None:
            return None
        return CandidateTokenInfo(interview_id=row.interview_id, expires_at=row.expires_at,
                                  revoked_at=row.revoked_at)

    async def answers(self, interview_id: uuid.UUID) -> list[Answer]:
        rows = await self._s.scalars(
            select(AnswerRow).where(AnswerRow.interview_id == interview_id)
            .order_by(AnswerRow.position, AnswerRow.created_at))
        return [_answer(r) for r in rows.all()]

    async def add_answer(self, answer: Answer) -> Answer:
        row = AnswerRow(interview_id=answer.interview_id, question_id=answer.question_id,
                        position=answer.position, text=answer.text, code=answer.code,
                        code_language=answer.code_language, request_id=answer.request_id)
        if answer.audio is not None:
            a = answer.audio
            row.audio_media_type, row.audio_size, row.audio_duration_ms = (
                a.media_type, a.size_bytes, a.duration_ms)
            row.audio_truncated, row.transcript_partial, row.speech_provider = (
                a.truncated, a.partial_transcript, a.provider)
        with unique_violations({"answers_interview_question_key": AlreadyExists(
                "this question is already answered", reason="ANSWER_EXISTS")}):
            self._s.add(row)
            await self._s.flush()
        await self._s.refresh(row)
        return _answer(row)

    async def keep_recording(self, interview_id: uuid.UUID, question_id: str,
                             recording: bytes) -> None:
        await self._s.execute(
            update(AnswerRow).where(AnswerRow.interview_id == interview_id,
                                    AnswerRow.question_id == question_id)
            .values(audio=recording))
