"""The real deepgram-sdk client (live STT over WebSocket, Aura TTS over HTTP) against the fake."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct

import pytest

from server.domain.speech import AudioFormat, Encoding, SpeechError, TranscriptPiece
from server.providers.speech.deepgram import (
    AURA_VOICES,
    DeepgramSpeechToText,
    DeepgramTextToSpeech,
    environment,
)
from server.providers.speech.factory import (
    LayeredTextToSpeech,
    aclose_provider,
    layered,
    make_speech,
)
from server.settings import ConfigurationError
from tests.fakes.deepgram import FakeDeepgram, speak_wav
from tests.helpers import fast_settings

KEY = "dg-secret-key-0123456789"
LINEAR16 = AudioFormat(Encoding.LINEAR16, 16000, "en")
SCRIPT = ["I have five years", "of experience with Python and Kubernetes"]
WORD = 3200                                        # audio bytes per revealed word (0.1 s)


async def collect(session: object) -> list[TranscriptPiece]:
    return [piece async for piece in session.results()]  # type: ignore[attr-defined]


async def stream(session: object, chunks: int, size: int = WORD) -> None:
    for _ in range(chunks):
        await session.send(b"\x01\x00" * (size // 2))  # type: ignore[attr-defined]


def test_environment_targets_one_host_for_rest_and_websockets() -> None:
    env = environment("http://127.0.0.1:8765/")
    assert (env.base, env.production) == ("http://127.0.0.1:8765", "ws://127.0.0.1:8765")
    assert environment("https://dg.example").production == "wss://dg.example"
    assert environment(None).production == "wss://api.deepgram.com"
    with pytest.raises(ValueError):
        environment("ftp://x")


async def test_interim_and_final_transcripts_arrive_in_order() -> None:
    with FakeDeepgram(api_key=KEY, segments=SCRIPT, bytes_per_word=WORD) as fake:
        stt = DeepgramSpeechToText(KEY, base_url=fake.base_url)
        session = await stt.open(LINEAR16)
        await stream(session, 10)                   # all 10 words of the script
        await session.finish()
        pieces = await asyncio.wait_for(collect(session), 10)
        await session.aclose()
        await stt.aclose()
        record = fake.listens[0]
    finals = [p.text for p in pieces if p.is_final]
    assert finals == SCRIPT
    # Every final follows its own interim hypotheses; interims grow word by word.
    first_final = next(i for i, p in enumerate(pieces) if p.is_final)
    assert pieces[first_final - 1].text == "I have five years" and not pieces[0].is_final
    assert pieces[-1].is_final and pieces[-1].text.endswith("Kubernetes")
    assert [p.end_seconds for p in pieces] == sorted(p.end_seconds for p in pieces)
    assert not any(p.partial for p in pieces)
    assert record.authorized and record.audio_bytes == 10 * WORD and record.audio_chunks == 10
    assert record.controls == ["Finalize", "CloseStream"] and record.ended == "server-closed"
    assert record.query["model"] == "nova-3" and record.query["encoding"] == "linear16"
    assert record.query["sample_rate"] == "16000" and record.query["interim_results"] == "true"
    assert record.query["language"] == "en"


async def test_finalize_flushes_a_half_spoken_segment() -> None:
    with FakeDeepgram(api_key=KEY, segments=SCRIPT, bytes_per_word=WORD) as fake:
        stt = DeepgramSpeechToText(KEY, base_url=fake.base_url)
        session = await stt.open(LINEAR16)
        await stream(session, 6)                    # segment 1 + "of experience"
        await session.finish()
        pieces = await asyncio.wait_for(collect(session), 10)
        await session.aclose()
        await stt.aclose()
        finalized = [m for m in fake.listens[0].sent
                     if m["type"] == "Results" and m["from_finalize"]]
    assert [p.text for p in pieces if p.is_final] == ["I have five years", "of experience"]
    assert len(finalized) == 1
    assert fake.listens[0].sent[-1]["type"] == "Metadata"


async def test_dropped_connection_keeps_the_partial_transcript() -> None:
    with FakeDeepgram(api_key=KEY, segments=SCRIPT, bytes_per_word=WORD,
                      drop_after_bytes=7 * WORD) as fake:
        stt = DeepgramSpeechToText(KEY, base_url=fake.base_url)
        session = await stt.open(LINEAR16)
        received: list[TranscriptPiece] = []

        async def consume() -> SpeechError:
            with pytest.raises(SpeechError) as info:
                async for piece in session.results():
                    received.append(piece)
            return info.value

        consumer = asyncio.create_task(consume())
        sent_error = None
        for _ in range(20):
            try:
                await stream(session, 1)
            except SpeechError as exc:
                sent_error = exc
                break
            await asyncio.sleep(0.02)
        error = await asyncio.wait_for(consumer, 10)
        await session.aclose()
        await stt.aclose()
        assert fake.listens[0].ended == "dropped"
    assert error.reason == "DROPPED"
    assert sent_error is not None and sent_error.reason == "DROPPED"
    finals = [p for p in received if p.is_final]
    assert finals[0].text == "I have five years" and not finals[0].partial
    # The unconfirmed hypothesis of the second segment is kept, marked partial.
    assert finals[-1].partial and finals[-1].text == "of experience with"
    assert received[-1] is finals[-1]


async def test_server_closing_early_is_a_drop() -> None:
    with FakeDeepgram(api_key=KEY, bytes_per_word=WORD, drop_after_bytes=WORD) as fake:
        stt = DeepgramSpeechToText(KEY, base_url=fake.base_url)
        session = await stt.open(LINEAR16)
        await stream(session, 1)
        with pytest.raises(SpeechError) as info:
            await asyncio.wait_for(collect(session), 10)
        await session.aclose()
        await stt.aclose()
    assert info.value.reason == "DROPPED"


async def test_default_transcript_is_derived_from_the_audio_received() -> None:
    with FakeDeepgram(api_key=KEY, bytes_per_word=WORD, words_per_segment=2) as fake:
        stt = DeepgramSpeechToText(KEY, base_url=fake.base_url)
        piece = await stt.transcribe(b"\x00\x00" * (5 * WORD // 2), LINEAR16)
        await stt.aclose()
    assert piece.is_final and piece.text == "word1 word2 word3 word4 word5"
    assert piece.end_seconds == pytest.approx(0.5)


async def test_containers_are_sent_without_an_encoding_and_keepalive_is_sent() -> None:
    with FakeDeepgram(api_key=KEY, bytes_per_word=WORD) as fake:
        stt = DeepgramSpeechToText(KEY, base_url=fake.base_url, keepalive_seconds=0.2)
        session = await stt.open(AudioFormat(Encoding.OGG_OPUS, 0, "es"))
        await asyncio.sleep(0.6)                    # no audio: KeepAlive keeps Deepgram open
        await session.send(b"OggS" + b"\x00" * 100)
        await session.finish()
        await asyncio.wait_for(collect(session), 10)
        await session.aclose()
        await stt.aclose()
        record = fake.listens[0]
    assert "encoding" not in record.query and "sample_rate" not in record.query
    assert record.query["language"] == "es"
    assert record.controls.count("KeepAlive") >= 1
    assert record.controls[-2:] == ["Finalize", "CloseStream"]


async def test_wrong_key_and_unreachable_server_are_unavailable_without_the_key(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with FakeDeepgram(api_key="the-right-key") as fake:
        stt = DeepgramSpeechToText(KEY, base_url=fake.base_url)
        with pytest.raises(SpeechError) as info:
            await stt.open(LINEAR16)
        await stt.aclose()
        tts = DeepgramTextToSpeech(KEY, base_url=fake.base_url)
        voice = tts.voice_for("en")
        assert voice is not None
        with pytest.raises(SpeechError) as tts_info:
            async for _ in tts.synthesize("Hello", voice):
                pass
        await tts.aclose()
        assert fake.listens[0].ended == "refused" and not fake.listens[0].authorized
    for error in (info.value, tts_info.value):
        assert error.reason == "UNAVAILABLE" and "401" in str(error)
        assert KEY not in str(error) and KEY not in repr(error) and error.__cause__ is None
        assert error.__suppress_context__
    assert KEY not in caplog.text
    with socket.socket() as probe:                 # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stt = DeepgramSpeechToText(KEY, base_url=f"http://127.0.0.1:{port}", connect_timeout=2)
    with pytest.raises(SpeechError) as info:
        await stt.open(LINEAR16)
    await stt.aclose()
    assert info.value.reason == "UNAVAILABLE" and KEY not in str(info.value)


async def test_aura_returns_the_fake_audio_in_chunks() -> None:
    text = "Tell me about a project you are proud of."
    with FakeDeepgram(api_key=KEY, speak_chunk_bytes=1000) as fake:
        tts = DeepgramTextToSpeech(KEY, base_url=fake.base_url, chunk_bytes=2048)
        voice = tts.voice_for("es")
        assert voice is not None and voice.name == "aura-2-celeste-es"
        chunks = [chunk async for chunk in tts.synthesize(text, voice)]
        await tts.aclose()
        request = fake.speaks[0]
    audio = b"".join(chunks)
    assert len(chunks) > 3 and all(len(c) <= 2048 for c in chunks)
    assert audio == speak_wav(len(text) * fake.speak_seconds_per_char, 24000)
    assert struct.unpack("<I", audio[24:28])[0] == voice.sample_rate == 24000
    assert request.text == text and request.authorized
    assert request.query["model"] == "aura-2-celeste-es" and request.query["container"] == "wav"
    assert "authorization" not in request.headers


async def test_aura_languages_and_server_errors() -> None:
    tts = DeepgramTextToSpeech(KEY, base_url="http://127.0.0.1:9")
    assert set(tts.languages()) == {"en", "es", "de", "fr", "it", "ja"} == set(AURA_VOICES)
    assert all(tts.voice_for(lang) is None for lang in ("pt", "hi", "zh", "ko", "ar", "ru"))
    await tts.aclose()
    with FakeDeepgram(api_key=KEY, speak_status=500) as fake:
        tts = DeepgramTextToSpeech(KEY, base_url=fake.base_url)
        voice = tts.voice_for("de")
        assert voice is not None
        with pytest.raises(SpeechError) as info:
            async for _ in tts.synthesize("Hallo", voice):
                pass
        await tts.aclose()
    assert info.value.reason == "UNAVAILABLE" and "500" in str(info.value)


async def test_unsupported_language_is_refused_before_connecting() -> None:
    stt = DeepgramSpeechToText(KEY, base_url="http://127.0.0.1:9")
    with pytest.raises(SpeechError) as info:
        await stt.open(AudioFormat(Encoding.LINEAR16, 16000, "xx"))
    await stt.aclose()
    assert info.value.reason == "UNSUPPORTED_LANGUAGE"
    assert len(stt.languages()) == 12


async def test_factory_chooses_deepgram_with_an_espeak_fallback() -> None:
    local_stt, local_tts, none = make_speech(fast_settings(speech_provider="auto"))
    assert (local_stt.name, local_tts.name, none) == ("whisper", "espeak", None)
    with pytest.raises(ConfigurationError):
        make_speech(fast_settings(speech_provider="deepgram"))
    with FakeDeepgram(api_key=KEY) as fake:
        settings = fast_settings(deepgram_api_key=KEY, deepgram_base_url=fake.base_url)
        stt, tts = layered(settings)
        assert stt.name == "deepgram" and isinstance(tts, LayeredTextToSpeech)
        assert len(tts.languages()) == 12
        english, portuguese = tts.voice_for("en"), tts.voice_for("pt")
        assert english is not None and english.name == "aura-2-thalia-en"
        assert portuguese is not None and portuguese.name == "espeak-ng:pt-br"
        aura = b"".join([c async for c in tts.synthesize("Hello", english)])
        espeak = b"".join([c async for c in tts.synthesize("Olá, tudo bem?", portuguese)])
        ok, detail = await tts.health()
        assert len(fake.speaks) == 1 and fake.speaks[0].text == "Hello"   # pt never hit Aura
        assert isinstance(tts.primary, DeepgramTextToSpeech)
        assert isinstance(stt, DeepgramSpeechToText)
        await aclose_provider(tts)
        await aclose_provider(stt)
        assert tts.primary._http.is_closed and stt._http.is_closed
    assert aura[:4] == espeak[:4] == b"RIFF" and aura != espeak
    assert ok and "espeak" in detail and "pt" in detail and KEY not in detail
    assert make_speech(fast_settings(speech_provider="local", deepgram_api_key=KEY))[0].name \
        == "whisper"


async def test_closing_mid_stream_closes_the_websocket_cleanly() -> None:
    with FakeDeepgram(api_key=KEY, segments=SCRIPT, bytes_per_word=WORD) as fake:
        stt = DeepgramSpeechToText(KEY, base_url=fake.base_url)
        session = await stt.open(LINEAR16)
        await stream(session, 3)
        results = session.results()
        first = await asyncio.wait_for(anext(results), 5)
        await session.aclose()                      # e.g. the candidate cancelled the RPC
        rest = [piece async for piece in results]
        await stt.aclose()
        for _ in range(50):
            if fake.listens[0].ended:
                break
            await asyncio.sleep(0.02)
        record = fake.listens[0]
    assert first.text.startswith("I") and not first.is_final
    assert not any(p.is_final for p in rest)
    assert record.ended == "client-closed" and "CloseStream" not in record.controls
    with pytest.raises(SpeechError):
        await session.send(b"\x00\x00")
