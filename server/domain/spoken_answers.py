"""Spoken answers and spoken questions: the SpeechService use-cases.

Every call first goes through the candidate flow's checks (server/domain/candidate.py): the link
token, the window, the interview in progress, and the question asked in this interview. Answers
are saved through `CandidateUseCases.answer`, so the one-answer-per-question rules hold for
voice as for text (the same transcript again returns the stored answer; another one is
ALREADY_EXISTS ANSWER_EXISTS; a question already answered is refused before any audio is
transcribed).

stream_answer (bidirectional): three tasks around one provider session —
  * the pump reads audio from the client and puts it in a BOUNDED queue (AUDIO_QUEUE_CHUNKS
    chunks of at most 64 KiB): when the provider is slow the queue fills, the pump waits, the
    gRPC reader stops reading and HTTP/2 flow control pushes back on the client;
  * the sender takes chunks from that queue into `SttSession.send`, then `finish()` on the
    client's half-close;
  * the reader puts the provider's pieces in a second bounded queue that the generator yields
    from: a client that reads slowly stops the reader, which stops pulling from the provider.
  No buffer grows without bound; the recording kept for the answer stops at
  answer_audio_keep_bytes (`truncated`).

Decisions (documented in README and bench/SPEECH_STREAMS.md):
  * Caps: more than speech_max_bytes of audio → RESOURCE_EXHAUSTED AUDIO_TOO_LARGE; more than
    speech_max_seconds of audio (counted from the bytes for LINEAR16/WAV, from the transcript's
    timestamps otherwise, and a wall-clock bound of 2 x the cap + 30 s for any stream) →
    RESOURCE_EXHAUSTED AUDIO_TOO_LONG. Nothing is saved: the candidate may answer again,
    shorter. The provider session is closed; the rest of the client's audio is read and
    discarded (within the wall-clock bound) so that the status follows its last write, as
    after a provider drop.
  * Client cancel: nothing is saved (the answer is only written after the client's half-close
    and the provider's last final piece), the provider session is closed.
  * Provider drop (SpeechError DROPPED): what was recognised (final pieces and the last interim
    one) is saved as the answer, marked `partial_transcript`; the client gets a partial
    Transcript and the saved Answer at once, then — once it half-closes (its further audio is
    discarded, within the caps) — the status UNAVAILABLE SPEECH_PROVIDER_DROPPED (metadata
    answer_saved=true/false). Nothing recognised → nothing saved, same status. Waiting for the
    half-close matters: a gRPC client (grpcio aio) that writes after the server ended a stream
    reports its own INTERNAL error and loses the server's status.
  * Other provider failures: UNAVAILABLE SPEECH_UNAVAILABLE / SPEECH_TIMEOUT, INVALID_ARGUMENT
    AUDIO_UNDECODABLE / SPEECH_LANGUAGE_UNSUPPORTED. No speech recognised at all:
    INVALID_ARGUMENT NO_SPEECH.

upload_answer (unary, for browsers and REST): one `transcribe` of the whole recording (≤ 10 MB
by the contract, ≤ speech_max_bytes), the same caps and rules.

speak_question (server-streaming): the question's text in the interview's language (or the
question set's default when it has no translation) spoken by the TTS voice for that language.
When the TTS has no voice for it, the English text (or the default language's) is spoken by that
language's voice instead, and the response says which voice and language were used. Synthesised
audio is cached per (question text, voice) in an LRU of tts_cache_entries; chunks are streamed as
they are made on a miss.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import UUID

import structlog

from server.domain.candidate import CandidateUseCases, public_question
from server.domain.errors import (
    AlreadyExists,
    DomainError,
    InvalidArgument,
    ResourceExhausted,
    Unavailable,
)
from server.domain.lru import Lru
from server.domain.models import Answer, AnswerAudio, Caller
from server.domain.speech import (
    AudioFormat,
    Encoding,
    SpeechError,
    SpeechToText,
    SttSession,
    TextToSpeech,
    TranscriptPiece,
    Voice,
)

log = structlog.get_logger(__name__)

AUDIO_QUEUE_CHUNKS = 8          # client → provider: at most 8 x 64 KiB waiting per stream
RESULT_QUEUE_PIECES = 32        # provider → client
FINISH_TIMEOUT_SECONDS = 120.0  # from the client's half-close to the provider's last piece
UPLOAD_MAX_BYTES = 10 * 1024 * 1024

MEDIA_TYPES = {Encoding.WAV: "audio/wav", Encoding.OGG_OPUS: "audio/ogg",
               Encoding.WEBM_OPUS: "audio/webm", Encoding.MP3: "audio/mpeg"}


@dataclass(frozen=True, slots=True)
class SpeechLimits:
    max_seconds: float
    max_bytes: int
    keep_bytes: int
    tts_cache_entries: int


@dataclass(frozen=True, slots=True)
class SpokenAnswerConfig:
    """The first message of a spoken answer."""

    question_id: str
    encoding: Encoding
    sample_rate: int
    language: str              # "" = the interview's


@dataclass(frozen=True, slots=True)
class SpokenQuestion:
    """How a question is spoken: the voice (and its language, which may be a fallback)."""

    voice: Voice
    language: str
    fallback: bool
    chunks: AsyncIterator[bytes]


def media_type(fmt: AudioFormat) -> str:
    if fmt.encoding is Encoding.LINEAR16:
        return f"audio/L16;rate={fmt.sample_rate};channels=1"
    return MEDIA_TYPES[fmt.encoding]


def seconds_of(fmt: AudioFormat, size: int, header: bytes) -> float | None:
    """Audio length from its size, when the encoding says it (LINEAR16, WAV); else None."""
    if fmt.encoding is Encoding.LINEAR16:
        return size / (2 * fmt.sample_rate)
    if fmt.encoding is Encoding.WAV and len(header) >= 44 and header[:4] == b"RIFF":
        byte_rate = struct.unpack_from("<I", header, 28)[0]
        return max(0, size - 44) / byte_rate if byte_rate else None
    return None


def speech_failure(exc: SpeechError) -> DomainError:
    """A provider failure other than a drop, as the client sees it."""
    if exc.reason == "BAD_AUDIO":
        return InvalidArgument("the audio could not be decoded", reason="AUDIO_UNDECODABLE")
    if exc.reason == "UNSUPPORTED_LANGUAGE":
        return InvalidArgument("the speech provider does not support this language",
                               reason="SPEECH_LANGUAGE_UNSUPPORTED")
    if exc.reason == "TIMEOUT":
        return Unavailable("the speech provider timed out", reason="SPEECH_TIMEOUT")
    return Unavailable("the speech provider is unavailable", reason="SPEECH_UNAVAILABLE",
                       metadata={"provider_reason": exc.reason})


def too_large(limit: int) -> ResourceExhausted:
    return ResourceExhausted(f"the audio is larger than {limit} bytes", retry_after_seconds=0,
                             reason="AUDIO_TOO_LARGE", metadata={"max_bytes": str(limit)})


def too_long(limit: float) -> ResourceExhausted:
    return ResourceExhausted(f"the audio is longer than {limit:g} seconds",
                             retry_after_seconds=0, reason="AUDIO_TOO_LONG",
                             metadata={"max_seconds": f"{limit:g}"})


def dropped(*, saved: bool, question_id: str) -> Unavailable:
    return Unavailable("the speech provider dropped the connection; "
                       + ("the partial transcript was saved" if saved
                          else "nothing was recognised"),
                       reason="SPEECH_PROVIDER_DROPPED",
                       metadata={"answer_saved": str(saved).lower(), "question_id": question_id})


class _End:
    """The provider's results ended normally."""


END = _End()


# Spoken questions: (text, voice name) -> audio chunks.
TtsCache = Lru[tuple[str, str], tuple[bytes, ...]]


class _Recording:
    """The audio of one answer as it arrives: counted, capped, kept up to keep_bytes."""

    def __init__(self, fmt: AudioFormat, limits: SpeechLimits) -> None:
        self.fmt = fmt
        self.limits = limits
        self.size = 0
        self.kept = bytearray()
        self.truncated = False
        self.heard_seconds = 0.0   # from the transcript's timestamps

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limits.max_bytes:
            raise too_large(self.limits.max_bytes)
        room = self.limits.keep_bytes - len(self.kept)
        if room > 0:
            self.kept += chunk[:room]
        if len(chunk) > room:
            self.truncated = True
        seconds = self.seconds()
        if seconds is not None and seconds > self.limits.max_seconds:
            raise too_long(self.limits.max_seconds)

    def heard(self, end_seconds: float) -> None:
        self.heard_seconds = max(self.heard_seconds, end_seconds)
        if self.heard_seconds > self.limits.max_seconds:
            raise too_long(self.limits.max_seconds)

    def seconds(self) -> float | None:
        return seconds_of(self.fmt, self.size, bytes(self.kept[:44]))

    def audio(self, provider: str, partial: bool) -> AnswerAudio:
        seconds = self.seconds()
        return AnswerAudio(media_type=media_type(self.fmt), size_bytes=len(self.kept),
                           duration_ms=round(1000 * (self.heard_seconds if seconds is None
                                                     else seconds)),
                           truncated=self.truncated, partial_transcript=partial,
                           provider=provider)


class _Stream:
    """One provider session driven by three tasks (see the module docstring): the pump (client
    audio → bounded queue), the sender (queue → provider, then finish) and the reader
    (provider pieces → bounded queue). `next` returns a piece, END, a SpeechError, or raises
    the first failure of the pump/sender (caps, a bad request message)."""

    def __init__(self, session: SttSession, recording: _Recording,
                 audio: AsyncIterator[bytes]) -> None:
        self.session = session
        self.recording = recording
        self.audio: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=AUDIO_QUEUE_CHUNKS)
        self.out: asyncio.Queue[TranscriptPiece | SpeechError | _End] = asyncio.Queue(
            maxsize=RESULT_QUEUE_PIECES)
        self.failure: asyncio.Future[BaseException] = (
            asyncio.get_running_loop().create_future())
        self.finished = asyncio.Event()
        self.client_done = asyncio.Event()   # the client half-closed (or will send no more)
        self.deadline = time.monotonic() + 2 * recording.limits.max_seconds + 30
        self.tasks = [asyncio.create_task(self._pump(audio)),
                      asyncio.create_task(self._send()), asyncio.create_task(self._read())]
        for task in self.tasks:
            task.add_done_callback(self._watch)

    async def _pump(self, audio: AsyncIterator[bytes]) -> None:
        try:
            async for chunk in audio:
                self.recording.add(chunk)
                await self.audio.put(chunk)   # waits while the provider is behind
        except DomainError as exc:
            # A cap: report it now, then read (and discard) what the client still sends, so
            # that the status goes out after its last write — a client still writing when a
            # stream ends sees its own INTERNAL error instead of the status. Bounded by the
            # deadline.
            if not self.failure.done():
                self.failure.set_result(exc)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(self.deadline - time.monotonic(), 0)):
                    async for _ in audio:
                        pass
            self.client_done.set()
            return
        self.client_done.set()
        await self.audio.put(None)

    async def client_finished(self) -> None:
        """Wait (up to the deadline) until the client has stopped sending."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.client_done.wait(),
                                   max(self.deadline - time.monotonic(), 0))

    async def _send(self) -> None:
        while (chunk := await self.audio.get()) is not None:
            await self.session.send(chunk)
        await self.session.finish()
        self.finished.set()

    async def _read(self) -> None:
        try:
            async for piece in self.session.results():
                await self.out.put(piece)  # waits while the client reads slowly
        except SpeechError as exc:
            await self.out.put(exc)
        else:
            await self.out.put(END)

    def _watch(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and not self.failure.done():
            exc = task.exception()
            if exc is not None:
                self.failure.set_result(exc)

    async def next(self) -> TranscriptPiece | SpeechError | _End:
        wait = (FINISH_TIMEOUT_SECONDS if self.finished.is_set()
                else self.deadline - time.monotonic())
        getter: asyncio.Future[TranscriptPiece | SpeechError | _End] = asyncio.ensure_future(
            self.out.get())
        waited: set[asyncio.Future[object]] = {getter, self.failure}  # type: ignore[arg-type]
        try:
            done, _ = await asyncio.wait(waited, timeout=max(wait, 0),
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not getter.done():
                getter.cancel()
        if getter in done:
            return getter.result()
        if self.failure in done:
            exc = self.failure.result()
            if isinstance(exc, SpeechError):
                return exc
            raise exc
        if self.finished.is_set():
            return SpeechError("TIMEOUT", "the speech provider did not finish in time")
        raise too_long(self.recording.limits.max_seconds)

    async def drain(self) -> None:
        """After a provider drop: discard the client's audio until it half-closes, so that the
        status comes after its last write (a client still writing when a stream ends may see
        its own INTERNAL error instead of the status) — within the caps and the deadline."""
        self.tasks[1].cancel()   # the sender: the provider is gone

        async def discard() -> None:
            while await self.audio.get() is not None:
                pass

        drained = asyncio.ensure_future(discard())
        try:   # until the half-close, or the pump fails (a cap), or the deadline
            await asyncio.wait({drained, self.tasks[0]},
                               timeout=max(self.deadline - time.monotonic(), 0),
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            drained.cancel()

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        try:
            await self.session.aclose()
        except Exception:
            log.warning("closing the speech session failed", exc_info=True)


class SpokenAnswers:
    def __init__(self, candidates: CandidateUseCases, stt: SpeechToText, tts: TextToSpeech,
                 limits: SpeechLimits) -> None:
        self._candidates = candidates
        self._stt = stt
        self._tts = tts
        self._limits = limits
        self.cache = TtsCache(limits.tts_cache_entries)

    # --- checks ---------------------------------------------------------------------------

    async def _format(self, caller: Caller, token: str, interview_id: UUID, *,
                      question_id: str, encoding: Encoding, sample_rate: int,
                      language: str) -> AudioFormat:
        """Token, window, in progress, the question asked and not answered; the audio format."""
        target = await self._candidates.asked_question(caller, token, interview_id,
                                                       question_id)
        if target.answered:
            raise AlreadyExists("this question is already answered", reason="ANSWER_EXISTS",
                                metadata={"question_id": question_id})
        if encoding is Encoding.LINEAR16 and not 8000 <= sample_rate <= 48000:
            raise InvalidArgument("LINEAR16 audio needs a sample rate of 8000 to 48000 Hz",
                                  reason="SAMPLE_RATE_REQUIRED")
        language = language or target.interview.language
        if language not in self._stt.languages():
            raise InvalidArgument(f"{self._stt.name} does not transcribe {language}",
                                  reason="SPEECH_LANGUAGE_UNSUPPORTED",
                                  metadata={"supported": ",".join(self._stt.languages())})
        return AudioFormat(encoding=encoding,
                           sample_rate=sample_rate if encoding is Encoding.LINEAR16 else 0,
                           language=language)

    async def _save(self, caller: Caller, token: str, interview_id: UUID, *,
                    question_id: str, text: str, recording: _Recording,
                    partial: bool) -> Answer:
        return await self._candidates.answer(
            caller, token, interview_id, question_id=question_id, text=text, code="",
            code_language="", request_id=None,
            audio=recording.audio(self._stt.name, partial), recording=bytes(recording.kept))

    # --- the bidirectional stream ---------------------------------------------------------

    async def stream_answer(self, caller: Caller, token: str, interview_id: UUID,
                            config: SpokenAnswerConfig, audio: AsyncIterator[bytes]
                            ) -> AsyncIterator[TranscriptPiece | Answer]:
        """Yields the provider's pieces as they come, then the saved answer (see the module
        docstring for caps, cancellation and drops)."""
        fmt = await self._format(caller, token, interview_id, question_id=config.question_id,
                                 encoding=config.encoding, sample_rate=config.sample_rate,
                                 language=config.language)
        recording = _Recording(fmt, self._limits)
        try:
            session = await self._stt.open(fmt)
        except SpeechError as exc:
            raise speech_failure(exc) from exc
        stream = _Stream(session, recording, audio)
        finals: list[str] = []
        pending = ""
        try:
            while True:
                item = await stream.next()
                if isinstance(item, TranscriptPiece):
                    recording.heard(item.end_seconds)
                    finals, pending = (([*finals, item.text.strip()], "") if item.is_final
                                       else (finals, item.text.strip()))
                    yield item
                    continue
                if isinstance(item, SpeechError) and item.reason != "DROPPED":
                    raise speech_failure(item) from item
                if isinstance(item, SpeechError) or not stream.finished.is_set():
                    # Dropped (or ended before the client finished): keep what was heard.
                    text = " ".join(t for t in (*finals, pending) if t)
                    async for event in self._dropped(
                            caller, token, interview_id, question_id=config.question_id,
                            text=text, recording=recording):
                        yield event
                    await stream.drain()
                    raise dropped(saved=bool(text), question_id=config.question_id)
                text = " ".join(t for t in finals if t)
                if not text:
                    raise InvalidArgument("no speech was recognised", reason="NO_SPEECH")
                yield await self._save(caller, token, interview_id,
                                       question_id=config.question_id, text=text,
                                       recording=recording, partial=False)
                return
        except ResourceExhausted:
            await stream.client_finished()   # a cap: the status after the client's last write
            raise
        finally:
            await stream.close()

    async def _dropped(self, caller: Caller, token: str, interview_id: UUID, *,
                       question_id: str, text: str, recording: _Recording
                       ) -> AsyncIterator[TranscriptPiece | Answer]:
        saved = bool(text)
        log.warning("speech provider dropped", provider=self._stt.name,
                    interview_id=str(interview_id), answer_saved=saved)
        if saved:
            yield TranscriptPiece(text=text, is_final=True, end_seconds=recording.heard_seconds,
                                  partial=True)
            yield await self._save(caller, token, interview_id, question_id=question_id,
                                   text=text, recording=recording, partial=True)

    # --- the unary upload -----------------------------------------------------------------

    async def upload_answer(self, caller: Caller, token: str, interview_id: UUID, *,
                            question_id: str, audio: bytes, encoding: Encoding,
                            sample_rate: int, language: str
                            ) -> tuple[Answer, TranscriptPiece]:
        limit = min(UPLOAD_MAX_BYTES, self._limits.max_bytes)
        if len(audio) > limit:
            raise too_large(limit)
        fmt = await self._format(caller, token, interview_id, question_id=question_id,
                                 encoding=encoding, sample_rate=sample_rate,
                                 language=language)
        recording = _Recording(fmt, self._limits)
        recording.add(audio)
        try:
            piece = await self._stt.transcribe(audio, fmt)
        except SpeechError as exc:
            raise speech_failure(exc) from exc
        recording.heard_seconds = piece.end_seconds
        if recording.seconds() is None and piece.end_seconds > self._limits.max_seconds:
            raise too_long(self._limits.max_seconds)
        text = piece.text.strip()
        if not text:
            raise InvalidArgument("no speech was recognised", reason="NO_SPEECH")
        answer = await self._save(caller, token, interview_id, question_id=question_id,
                                  text=text, recording=recording, partial=piece.partial)
        return answer, piece

    # --- spoken questions -----------------------------------------------------------------

    async def speak_question(self, caller: Caller, token: str, interview_id: UUID,
                             question_id: str) -> SpokenQuestion:
        target = await self._candidates.asked_question(caller, token, interview_id,
                                                       question_id)
        wanted = target.interview.language
        shown = public_question(target.question, target.position, wanted,
                                target.default_language)
        text, voice = shown.text, self._tts.voice_for(shown.language)
        if voice is None:   # no voice for it: a language the question has and the TTS speaks
            for lang in ("en", target.default_language, *target.question.texts):
                voice = self._tts.voice_for(lang) if lang in target.question.texts else None
                if voice is not None:
                    text = target.question.texts[lang]
                    break
        if voice is None:
            raise Unavailable(f"{self._tts.name} has no voice for this question's languages",
                              reason="TTS_LANGUAGE_UNSUPPORTED",
                              metadata={"supported": ",".join(self._tts.languages())})
        return SpokenQuestion(voice=voice, language=voice.language,
                              fallback=voice.language != wanted,
                              chunks=self._chunks(text, voice))

    async def _chunks(self, text: str, voice: Voice) -> AsyncIterator[bytes]:
        key = (text, voice.name)
        cached = self.cache.get(key)
        if cached is not None:
            for chunk in cached:
                yield chunk
            return
        made: list[bytes] = []
        try:
            async for chunk in self._tts.synthesize(text, voice):
                made.append(chunk)
                yield chunk
        except SpeechError as exc:
            raise speech_failure(exc) from exc
        self.cache.put(key, tuple(made))
