"""Offline transcription with faster-whisper and the bundled tiny.en model, on espeak-ng speech."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator

import pytest

from server.domain.speech import AudioFormat, Encoding, SpeechError, TranscriptPiece
from server.providers.speech.audio import TARGET_RATE, decode, duration_seconds
from server.providers.speech.whisper import (
    WhisperSpeechToText,
    bundled_model_dir,
    effective_threads,
)
from tests.providers.speech.test_audio import encode

SENTENCE = "I have five years of experience with Python and Kubernetes"
LINEAR16 = AudioFormat(Encoding.LINEAR16, TARGET_RATE, "en")


@pytest.fixture(scope="module")
def whisper() -> Iterator[WhisperSpeechToText]:
    provider = WhisperSpeechToText(interim_seconds=1.0)
    yield provider
    provider.close()


def espeak_wav(text: str, voice: str = "en") -> bytes:
    return subprocess.run(["espeak-ng", "-v", voice, "--stdout", text], capture_output=True,
                          check=True).stdout


def sentence_pcm() -> bytes:
    return decode(espeak_wav(SENTENCE), AudioFormat(Encoding.WAV, 0, "en"))


def test_bundled_tiny_en_model_is_english_only(whisper: WhisperSpeechToText) -> None:
    assert bundled_model_dir() is not None
    assert whisper.languages() == ("en",)


async def test_streamed_answer_yields_interims_then_a_final_transcript(
        whisper: WhisperSpeechToText) -> None:
    pcm = sentence_pcm()
    session = await whisper.open(LINEAR16)
    pieces: list[TranscriptPiece] = []

    async def collect() -> None:
        async for piece in session.results():
            pieces.append(piece)

    collector = asyncio.create_task(collect())
    chunk = TARGET_RATE * 2 // 10                      # 100 ms chunks, at about real time / 2
    for offset in range(0, len(pcm), chunk):
        await session.send(pcm[offset:offset + chunk])
        await asyncio.sleep(0.05)
    await session.finish()
    await asyncio.wait_for(collector, 30)
    await session.aclose()

    interims = [p for p in pieces if not p.is_final]
    finals = [p for p in pieces if p.is_final]
    assert interims, "no interim transcript while streaming"
    assert len(finals) == 1 and pieces[-1] is finals[0]       # the final piece comes last
    final = finals[0].text.lower()
    assert "python" in final and "kubernetes" in final, final
    assert abs(finals[0].end_seconds - duration_seconds(pcm)) < 0.05
    assert all(p.end_seconds <= finals[0].end_seconds + 0.01 for p in interims)


async def test_linear16_at_another_rate_is_resampled(whisper: WhisperSpeechToText) -> None:
    wav = espeak_wav(SENTENCE)
    raw_22k = wav[44:]                                  # espeak-ng: 22050 Hz s16le after the header
    session = await whisper.open(AudioFormat(Encoding.LINEAR16, 22050, "en"))
    for offset in range(0, len(raw_22k), 4411):       # odd chunk sizes
        await session.send(raw_22k[offset:offset + 4411])
    await session.finish()
    pieces = [p async for p in session.results()]
    await session.aclose()
    assert "python" in pieces[-1].text.lower() and pieces[-1].is_final


async def test_one_shot_wav_and_ogg(whisper: WhisperSpeechToText) -> None:
    wav = espeak_wav(SENTENCE)
    piece = await whisper.transcribe(wav, AudioFormat(Encoding.WAV, 0, "en"))
    assert piece.is_final and "python" in piece.text.lower()
    assert "kubernetes" in piece.text.lower()
    ogg = encode(sentence_pcm(), "ogg", "libopus")
    piece = await whisper.transcribe(ogg, AudioFormat(Encoding.OGG_OPUS, 0, "en"))
    assert "python" in piece.text.lower(), piece.text
    assert piece.end_seconds > 3.0


async def test_streamed_ogg_container(whisper: WhisperSpeechToText) -> None:
    ogg = encode(sentence_pcm(), "ogg", "libopus")
    session = await whisper.open(AudioFormat(Encoding.OGG_OPUS, 0, "en"))
    for offset in range(0, len(ogg), 2000):
        await session.send(ogg[offset:offset + 2000])
    await session.finish()
    pieces = [p async for p in session.results()]
    await session.aclose()
    assert pieces[-1].is_final and "python" in pieces[-1].text.lower()


async def test_garbage_audio_is_bad_audio(whisper: WhisperSpeechToText) -> None:
    with pytest.raises(SpeechError) as info:
        await whisper.transcribe(b"\x13\x37garbage" * 500, AudioFormat(Encoding.OGG_OPUS, 0, "en"))
    assert info.value.reason == "BAD_AUDIO"
    session = await whisper.open(AudioFormat(Encoding.WEBM_OPUS, 0, "en"))
    await session.send(b"definitely not webm" * 300)
    await session.finish()
    with pytest.raises(SpeechError) as info:
        async for _ in session.results():
            pass
    assert info.value.reason == "BAD_AUDIO"
    await session.aclose()


async def test_unsupported_language_and_length_cap() -> None:
    capped = WhisperSpeechToText(max_seconds=1.0)
    try:
        with pytest.raises(SpeechError) as info:
            await capped.open(AudioFormat(Encoding.LINEAR16, TARGET_RATE, "ja"))
        assert info.value.reason == "UNSUPPORTED_LANGUAGE"
        session = await capped.open(LINEAR16)
        with pytest.raises(SpeechError) as info:
            await session.send(b"\x00\x00" * TARGET_RATE * 2)
        assert info.value.reason == "TOO_LONG"
        await session.aclose()
    finally:
        capped.close()


async def test_closing_mid_stream_ends_results(whisper: WhisperSpeechToText) -> None:
    session = await whisper.open(LINEAR16)
    await session.send(sentence_pcm()[: TARGET_RATE * 2 * 2])
    results = session.results()
    await session.aclose()                             # e.g. the client cancelled
    remaining = [p async for p in results]
    assert all(not p.is_final for p in remaining)      # no final transcript after a cancel
    with pytest.raises(SpeechError):
        await session.send(b"\x00\x00" * 100)


async def test_threads_are_capped_by_the_openmp_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # CTranslate2 with more intra-op threads than OMP_THREAD_LIMIT transcribes garbage.
    monkeypatch.setenv("OMP_THREAD_LIMIT", "1")
    assert effective_threads(4) == 1
    monkeypatch.setenv("OMP_THREAD_LIMIT", "8")
    assert effective_threads(2) == 2
    monkeypatch.delenv("OMP_THREAD_LIMIT")
    assert effective_threads(3) == 3


async def test_interims_are_skipped_when_the_pool_is_busy() -> None:
    provider = WhisperSpeechToText(workers=1, interim_seconds=0.2)
    try:
        await provider.warm_up()
        pcm = sentence_pcm()
        sessions = [await provider.open(LINEAR16) for _ in range(4)]
        for offset in range(0, len(pcm), 3200):         # 4 streams, no pauses: far behind
            for session in sessions:
                await session.send(pcm[offset:offset + 3200])
        assert provider._in_flight <= provider.workers  # nothing queued behind the worker
        started = asyncio.get_running_loop().time()
        for session in sessions:
            await session.finish()
        for session in sessions:
            pieces = [p async for p in session.results()]
            assert pieces[-1].is_final and "python" in pieces[-1].text.lower()
            assert sum(p.is_final for p in pieces) == 1
            await session.aclose()
        # One stale interim at most ran before the four finals (each well under a second).
        assert asyncio.get_running_loop().time() - started < 8
        assert provider._in_flight == 0
    finally:
        provider.close()
