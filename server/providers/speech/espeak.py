"""espeak-ng text-to-speech: an offline voice for each of the 12 interview languages.

`espeak-ng -v <voice> --stdout` writes a WAV (22050 Hz mono s16le) as it synthesises, sentence
by sentence; `synthesize` runs it as an asyncio subprocess (the text goes through stdin, so no
text can be taken for an option) and yields its stdout in chunks of at most `chunk_bytes` as they
arrive — the first chunk carries the WAV header. espeak-ng writes the header before it knows the
length, so the RIFF/data sizes are placeholders (0x7ffff000-ish): players and PyAV read such
streamed WAVs fine; a caller that needs exact sizes can rewrite them.

Voices (checked with `espeak-ng --voices`): en→en-us, es→es, fr→fr-fr, de→de, pt→pt-br, hi→hi,
zh→cmn (Mandarin), ja→ja, ko→ko, ar→ar, ru→ru, it→it. Quality is robotic but intelligible;
Japanese kanji are read poorly (kana are fine).

Cancellation (the consumer stops iterating, or the task is cancelled) kills the process; a
non-zero exit before any audio raises SpeechError(UNAVAILABLE); a missing binary too.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator

from server.domain.speech import Encoding, SpeechError, Voice

ESPEAK_VOICES: dict[str, str] = {
    "en": "en-us", "es": "es", "fr": "fr-fr", "de": "de", "pt": "pt-br", "hi": "hi",
    "zh": "cmn", "ja": "ja", "ko": "ko", "ar": "ar", "ru": "ru", "it": "it",
}
SAMPLE_RATE = 22050
VOICE_PREFIX = "espeak-ng:"


class EspeakTextToSpeech:
    name = "espeak"

    def __init__(self, *, binary: str = "espeak-ng", chunk_bytes: int = 16384,
                 words_per_minute: int = 165, timeout_seconds: float = 60.0) -> None:
        self.binary = binary
        self.chunk_bytes = chunk_bytes
        self.words_per_minute = words_per_minute
        self.timeout_seconds = timeout_seconds

    def languages(self) -> tuple[str, ...]:
        return tuple(ESPEAK_VOICES)

    def voice_for(self, language: str) -> Voice | None:
        voice = ESPEAK_VOICES.get(language.split("-", maxsplit=1)[0].lower())
        if voice is None:
            return None
        return Voice(name=VOICE_PREFIX + voice, language=language, encoding=Encoding.WAV,
                     sample_rate=SAMPLE_RATE)

    async def aclose(self) -> None:
        """Nothing to release (one process per synthesis)."""

    async def health(self) -> tuple[bool, str]:
        path = shutil.which(self.binary)
        if path is None:
            return False, f"{self.binary} is not installed"
        return True, f"{self.binary} ({len(ESPEAK_VOICES)} languages)"

    async def synthesize(self, text: str, voice: Voice) -> AsyncIterator[bytes]:
        if not voice.name.startswith(VOICE_PREFIX):
            raise SpeechError("UNSUPPORTED_LANGUAGE", f"not an espeak-ng voice: {voice.name}")
        espeak_voice = voice.name.removeprefix(VOICE_PREFIX)
        if espeak_voice not in ESPEAK_VOICES.values():
            raise SpeechError("UNSUPPORTED_LANGUAGE", f"unknown espeak-ng voice {espeak_voice}")
        try:
            process = await asyncio.create_subprocess_exec(
                self.binary, "-v", espeak_voice, "-s", str(self.words_per_minute), "-b", "1",
                "--stdout",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL)
        except OSError as exc:
            raise SpeechError("UNAVAILABLE", f"cannot run {self.binary}: {exc.strerror}") from None
        assert process.stdin is not None and process.stdout is not None
        sent = 0
        try:
            process.stdin.write(text.encode("utf-8"))
            await process.stdin.drain()
            process.stdin.close()
            async with asyncio.timeout(self.timeout_seconds):
                while True:
                    chunk = await process.stdout.read(self.chunk_bytes)
                    if not chunk:
                        break
                    sent += len(chunk)
                    yield chunk
                code = await process.wait()
        except TimeoutError:
            raise SpeechError("TIMEOUT", "espeak-ng took too long") from None
        except (BrokenPipeError, ConnectionResetError):
            code = await process.wait()
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if code != 0 and sent == 0:
            raise SpeechError("UNAVAILABLE", f"espeak-ng exited with status {code}")
