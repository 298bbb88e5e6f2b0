"""Speech as the domain sees it: speech-to-text sessions (streaming) and one-shot
transcription, text-to-speech voices, and the errors providers raise.

Providers (server/providers/speech/): Deepgram (deepgram-sdk, live WebSocket STT and Aura TTS)
and offline ones (faster-whisper STT, espeak-ng TTS). The SpeechService use-cases
(server/domain/spoken_answers.py) drive them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Encoding(StrEnum):
    LINEAR16 = "linear16"      # raw s16le mono at a sample rate
    WAV = "wav"
    OGG_OPUS = "ogg_opus"
    WEBM_OPUS = "webm_opus"
    MP3 = "mp3"


class SpeechError(Exception):
    """A speech provider failed. reason: DROPPED (connection lost mid-stream), UNAVAILABLE
    (cannot connect / not installed), TIMEOUT, BAD_AUDIO (undecodable), UNSUPPORTED_LANGUAGE,
    TOO_LONG (more audio than SPEECH_MAX_SECONDS)."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class TranscriptPiece:
    text: str
    is_final: bool
    start_seconds: float = 0.0
    end_seconds: float = 0.0
    partial: bool = False      # the provider stopped early; text is what was recognised


@dataclass(frozen=True, slots=True)
class AudioFormat:
    encoding: Encoding
    sample_rate: int           # for LINEAR16; 0 = from the container
    language: str              # one of the 12 interview languages


class SttSession(Protocol):
    """One streaming recognition. `send` audio chunks, then `finish`; `results` yields interim
    and final pieces as they come and ends after the last final piece (or raises SpeechError
    with reason DROPPED, after yielding what was recognised). `aclose` releases everything
    (also on cancellation)."""

    async def send(self, chunk: bytes) -> None: ...
    async def finish(self) -> None: ...
    def results(self) -> AsyncIterator[TranscriptPiece]: ...
    async def aclose(self) -> None: ...


class SpeechToText(Protocol):
    name: str                  # "deepgram" | "whisper"

    def languages(self) -> tuple[str, ...]: ...
    async def open(self, fmt: AudioFormat) -> SttSession: ...
    async def transcribe(self, audio: bytes, fmt: AudioFormat) -> TranscriptPiece: ...
    async def health(self) -> tuple[bool, str]: ...


@dataclass(frozen=True, slots=True)
class Voice:
    name: str                  # e.g. "espeak-ng:es", "aura-2-thalia-en"
    language: str              # the language it speaks
    encoding: Encoding         # of the audio it produces
    sample_rate: int


class TextToSpeech(Protocol):
    name: str                  # "deepgram" | "espeak"

    def voice_for(self, language: str) -> Voice | None: ...
    def languages(self) -> tuple[str, ...]: ...
    def synthesize(self, text: str, voice: Voice) -> AsyncIterator[bytes]: ...
    async def health(self) -> tuple[bool, str]: ...
