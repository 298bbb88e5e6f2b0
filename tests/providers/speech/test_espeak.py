"""espeak-ng speaks all 12 interview languages, streamed as WAV chunks."""

from __future__ import annotations

import contextlib
import struct
import time
from pathlib import Path

import pytest

from server.domain.speech import AudioFormat, Encoding, SpeechError, Voice
from server.providers.speech.audio import decode, duration_seconds
from server.providers.speech.espeak import EspeakTextToSpeech

SAMPLES = {
    "en": "Tell me about a project you are proud of.",
    "es": "Háblame de un proyecto del que estés orgulloso.",
    "fr": "Parlez-moi d'un projet dont vous êtes fier.",
    "de": "Erzählen Sie mir von einem Projekt, auf das Sie stolz sind.",
    "pt": "Fale sobre um projeto do qual você se orgulha.",
    "hi": "मुझे किसी ऐसे प्रोजेक्ट के बारे में बताइए जिस पर आपको गर्व है।",
    "zh": "请介绍一个你引以为豪的项目。",
    "ja": "じぶんがほこりにおもうプロジェクトについておしえてください。",
    "ko": "자랑스럽게 생각하는 프로젝트에 대해 말씀해 주세요.",
    "ar": "حدثني عن مشروع تفخر به.",
    "ru": "Расскажите о проекте, которым вы гордитесь.",  # noqa: RUF001
    "it": "Parlami di un progetto di cui sei orgoglioso.",
}


def test_every_interview_language_has_a_voice() -> None:
    tts = EspeakTextToSpeech()
    assert set(tts.languages()) == set(SAMPLES)
    voices = {language: tts.voice_for(language) for language in SAMPLES}
    assert all(v is not None and v.encoding is Encoding.WAV for v in voices.values())
    assert len({v.name for v in voices.values() if v}) == 12     # a distinct voice each
    assert tts.voice_for("xx") is None


@pytest.mark.parametrize("language", list(SAMPLES))
async def test_speaks_each_language_as_wav(language: str) -> None:
    tts = EspeakTextToSpeech(chunk_bytes=4096)
    voice = tts.voice_for(language)
    assert voice is not None
    started = time.perf_counter()
    first_chunk_at = None
    chunks: list[bytes] = []
    async for chunk in tts.synthesize(SAMPLES[language], voice):
        if first_chunk_at is None:
            first_chunk_at = time.perf_counter() - started
        chunks.append(chunk)
    audio = b"".join(chunks)
    assert len(chunks) > 1 and all(len(c) <= 4096 for c in chunks)
    assert first_chunk_at is not None and first_chunk_at < 0.5
    # A PCM WAV header: RIFF/WAVE, fmt chunk with PCM, mono, 16 bit, the voice's rate.
    assert audio[:4] == b"RIFF" and audio[8:12] == b"WAVE" and audio[12:16] == b"fmt "
    fmt_code, channels, rate = struct.unpack("<HHI", audio[20:28])
    bits = struct.unpack("<H", audio[34:36])[0]
    assert (fmt_code, channels, rate, bits) == (1, 1, voice.sample_rate, 16)
    assert audio[36:40] == b"data"
    pcm = decode(audio, AudioFormat(Encoding.WAV, 0, language))
    assert duration_seconds(pcm) > 0.8                           # a sentence, not a blip


async def test_text_starting_with_a_dash_is_spoken_not_parsed() -> None:
    tts = EspeakTextToSpeech()
    voice = tts.voice_for("en")
    assert voice is not None
    audio = b"".join([c async for c in tts.synthesize("--version -v xx", voice)])
    assert audio[:4] == b"RIFF" and len(audio) > 10_000


async def test_unknown_voice_and_missing_binary() -> None:
    tts = EspeakTextToSpeech()
    with pytest.raises(SpeechError) as info:
        async for _ in tts.synthesize("hi", Voice("aura-2-thalia-en", "en", Encoding.WAV, 24000)):
            pass
    assert info.value.reason == "UNSUPPORTED_LANGUAGE"
    broken = EspeakTextToSpeech(binary="espeak-ng-not-installed")
    assert (await broken.health())[0] is False
    voice = broken.voice_for("en")
    assert voice is not None
    with pytest.raises(SpeechError) as info:
        async for _ in broken.synthesize("hi", voice):
            pass
    assert info.value.reason == "UNAVAILABLE"
    assert (await tts.health())[0] is True


async def test_consumer_stopping_early_kills_the_process() -> None:
    tts = EspeakTextToSpeech(chunk_bytes=1024)
    voice = tts.voice_for("en")
    assert voice is not None
    stream = tts.synthesize("A long question. " * 200, voice)
    first = await anext(stream)
    assert first[:4] == b"RIFF"
    assert "espeak-ng" in child_commands()
    await stream.aclose()                      # e.g. the client cancelled the RPC
    assert "espeak-ng" not in child_commands()


def child_commands() -> list[str]:
    """Commands of this process's live children (Linux /proc)."""
    names = []
    for task in Path("/proc/self/task").iterdir():
        for pid in (task / "children").read_text().split():
            with contextlib.suppress(OSError):
                names.append(Path(f"/proc/{pid}/comm").read_text().strip())
    return names
