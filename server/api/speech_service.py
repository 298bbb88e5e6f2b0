"""SpeechService: proto -> use-case -> proto (server/domain/spoken_answers.py).

The streaming handlers are async generators; the interceptor chain converts a DomainError raised
while streaming into the same google.rpc.Status as for unary calls (messages already sent stay
sent: a provider drop sends the partial transcript and the saved answer before its status).
StreamAnswer frames the request stream: the first message must carry the config, the next ones
audio only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from grpc import aio
from interviewplatform.v1 import speech_service_pb2 as pb
from interviewplatform.v1 import speech_service_pb2_grpc

from server.api import convert
from server.api.interview_service import answer
from server.context import caller, candidate_token_var
from server.domain.errors import InvalidArgument
from server.domain.models import Answer
from server.domain.speech import Encoding, TranscriptPiece
from server.domain.spoken_answers import SpokenAnswerConfig, SpokenAnswers

Ctx = aio.ServicerContext[Any, Any]

ENCODING_FROM_PROTO = {
    pb.AUDIO_ENCODING_LINEAR16: Encoding.LINEAR16, pb.AUDIO_ENCODING_WAV: Encoding.WAV,
    pb.AUDIO_ENCODING_OGG_OPUS: Encoding.OGG_OPUS,
    pb.AUDIO_ENCODING_WEBM_OPUS: Encoding.WEBM_OPUS, pb.AUDIO_ENCODING_MP3: Encoding.MP3,
}
ENCODING_TO_PROTO = {v: k for k, v in ENCODING_FROM_PROTO.items()}


def encoding(value: int) -> Encoding:
    found: Encoding | None = ENCODING_FROM_PROTO.get(value)  # type: ignore[call-overload]
    if found is None:
        raise InvalidArgument("an audio encoding is required", reason="ENCODING_REQUIRED")
    return found


def transcript(p: TranscriptPiece) -> pb.Transcript:
    return pb.Transcript(text=p.text, is_final=p.is_final, start_seconds=p.start_seconds,
                         end_seconds=p.end_seconds, partial=p.partial)


async def audio_only(requests: AsyncIterator[pb.StreamAnswerRequest]) -> AsyncIterator[bytes]:
    async for r in requests:
        if r.HasField("config"):
            raise InvalidArgument("only the first message carries the config",
                                  reason="STREAM_CONFIG_REPEATED")
        yield r.audio


class SpeechService(speech_service_pb2_grpc.SpeechServiceServicer):
    def __init__(self, speech: SpokenAnswers) -> None:
        self._s = speech

    async def StreamAnswer(self, request_iterator: AsyncIterator[pb.StreamAnswerRequest],
                           context: Ctx) -> AsyncIterator[pb.StreamAnswerResponse]:
        first = await anext(aiter(request_iterator), None)
        if first is None or not first.HasField("config"):
            raise InvalidArgument("the first message must carry the config",
                                  reason="STREAM_CONFIG_REQUIRED")
        c = first.config
        config = SpokenAnswerConfig(question_id=c.question_id, encoding=encoding(c.encoding),
                                    sample_rate=c.sample_rate_hertz, language=c.language)
        async for event in self._s.stream_answer(
                caller(), candidate_token_var.get(), convert.req_uuid(first.id), config,
                audio_only(request_iterator)):
            if isinstance(event, Answer):
                yield pb.StreamAnswerResponse(answer=answer(event))
            else:
                yield pb.StreamAnswerResponse(transcript=transcript(event))

    async def UploadAnswerAudio(self, request: pb.UploadAnswerAudioRequest,
                                context: Ctx) -> pb.UploadAnswerAudioResponse:
        stored, piece = await self._s.upload_answer(
            caller(), candidate_token_var.get(), convert.req_uuid(request.id),
            question_id=request.question_id, audio=request.audio,
            encoding=encoding(request.encoding), sample_rate=request.sample_rate_hertz,
            language=request.language)
        return pb.UploadAnswerAudioResponse(answer=answer(stored), transcript=transcript(piece))

    async def SpeakQuestion(self, request: pb.SpeakQuestionRequest,
                            context: Ctx) -> AsyncIterator[pb.SpeakQuestionResponse]:
        spoken = await self._s.speak_question(caller(), candidate_token_var.get(),
                                              convert.req_uuid(request.id),
                                              request.question_id)
        v = spoken.voice
        async for chunk in spoken.chunks:
            yield pb.SpeakQuestionResponse(
                audio=chunk, encoding=ENCODING_TO_PROTO[v.encoding],
                sample_rate_hertz=v.sample_rate, voice=v.name, language=spoken.language)
