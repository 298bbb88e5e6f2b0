"""Speech benchmark: offline transcription speed, streaming final-transcript latency, and time to
the first audio chunk of a spoken question.

Run with `.venv/bin/python bench/bench_speech.py` (espeak-ng and the bundled tiny.en model must be
installed). See bench/SPEECH.md for the method and the last results.

1. Real-time factor (target ≤ 0.3 on 2 cores): about `--seconds` of English espeak-ng speech
   (interview-style sentences, decoded to 16 kHz) transcribed one-shot by WhisperSpeechToText
   (`transcribe`, beam 5, the path of an uploaded answer); RTF = processing time / audio
   duration, median over `--runs`. Also the share of reference words found in the transcript.
2. Final latency: a ~5 s answer streamed through a session at real time in 100 ms chunks (interim
   transcripts run meanwhile, as in production); latency = from `finish()` (after the last chunk)
   to the final piece. Median and max over `--stream-runs`.
3. TTS time to first audio chunk: espeak-ng (`EspeakTextToSpeech.synthesize`) for a question in
   each of the 12 languages, median over `--tts-runs`.
Concurrent streams are benchmarked with the SpeechService (S2), not here.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.domain.speech import AudioFormat, Encoding, SttSession, TranscriptPiece
from server.providers.speech.audio import TARGET_RATE, decode, duration_seconds, wav_bytes
from server.providers.speech.espeak import EspeakTextToSpeech
from server.providers.speech.whisper import WhisperSpeechToText

TARGET_RTF = 0.3
SENTENCES = [
    "I have five years of experience with Python and Kubernetes.",
    "In my last role I led a team of four engineers building a payments platform.",
    "We moved the monolith to services and cut the deployment time from hours to minutes.",
    "I enjoy mentoring junior developers and reviewing their code carefully.",
    "When a production incident happens I first stabilise the system and then find the cause.",
    "My favourite project was a search engine for legal documents written in Go.",
    "I write tests before I refactor, so that behaviour stays the same.",
    "We used PostgreSQL for the main data and Redis as a cache for hot queries.",
]
ANSWER = "I have five years of experience with Python and Kubernetes, mostly building APIs."
QUESTIONS = {
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
WAV = AudioFormat(Encoding.WAV, 0, "en")
LINEAR16 = AudioFormat(Encoding.LINEAR16, TARGET_RATE, "en")


def speak(text: str) -> bytes:
    wav = subprocess.run(["espeak-ng", "-v", "en", "--stdout", text], capture_output=True,
                         check=True).stdout
    return decode(wav, WAV)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def recall(reference: str, transcript: str) -> float:
    said = set(words(transcript))
    ref = words(reference)
    return sum(w in said for w in ref) / len(ref)


async def rtf(stt: WhisperSpeechToText, seconds: float, runs: int) -> dict[str, float]:
    text_parts, pcm = [], b""
    while duration_seconds(pcm) < seconds:
        sentence = SENTENCES[len(text_parts) % len(SENTENCES)]
        text_parts.append(sentence)
        pcm += speak(sentence) + b"\x00\x00" * (TARGET_RATE // 4)
    reference = " ".join(text_parts)
    audio = wav_bytes(pcm)
    times, found = [], []
    for _ in range(runs):
        start = time.perf_counter()
        piece = await stt.transcribe(audio, WAV)
        times.append(time.perf_counter() - start)
        found.append(recall(reference, piece.text))
    audio_seconds = duration_seconds(pcm)
    median = statistics.median(times)
    return {"audio_s": audio_seconds, "median_s": median, "rtf": median / audio_seconds,
            "words_found": statistics.mean(found)}


async def collect(session: SttSession, pieces: list[tuple[float, TranscriptPiece]]) -> None:
    async for piece in session.results():
        pieces.append((time.perf_counter(), piece))


async def final_latency(stt: WhisperSpeechToText, runs: int) -> dict[str, float]:
    pcm = speak(ANSWER)
    chunk = TARGET_RATE * 2 // 10
    latencies, interims, found = [], [], []
    for _ in range(runs):
        session = await stt.open(LINEAR16)
        pieces: list[tuple[float, TranscriptPiece]] = []
        collector = asyncio.create_task(collect(session, pieces))
        for offset in range(0, len(pcm), chunk):
            await session.send(pcm[offset:offset + chunk])
            await asyncio.sleep(0.1)
        finished = time.perf_counter()
        await session.finish()
        await collector
        await session.aclose()
        final_at, final = pieces[-1]
        assert final.is_final
        latencies.append(final_at - finished)
        interims.append(sum(not p.is_final for _, p in pieces))
        found.append(recall(ANSWER, final.text))
    return {"audio_s": duration_seconds(pcm), "median_s": statistics.median(latencies),
            "max_s": max(latencies), "interims": statistics.mean(interims),
            "words_found": statistics.mean(found)}


async def tts_first_chunk(runs: int) -> dict[str, float]:
    tts = EspeakTextToSpeech()
    out = {}
    for language, text in QUESTIONS.items():
        voice = tts.voice_for(language)
        assert voice is not None
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            first = None
            async for _chunk in tts.synthesize(text, voice):
                if first is None:
                    first = time.perf_counter() - start
            assert first is not None
            samples.append(first)
        out[language] = statistics.median(samples)
    return out


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stream-runs", type=int, default=5)
    parser.add_argument("--tts-runs", type=int, default=5)
    args = parser.parse_args()
    stt = WhisperSpeechToText()
    ok, detail = await stt.health()
    if not ok:
        print(detail)
        return 2
    print(f"model: {detail}; {stt.workers} workers x {stt.cpu_threads} threads")
    start = time.perf_counter()
    await stt.warm_up()
    print(f"model load: {time.perf_counter() - start:.2f} s")
    r = await rtf(stt, args.seconds, args.runs)
    print(f"offline transcription: {r['audio_s']:.1f} s of speech in {r['median_s']:.2f} s "
          f"(median of {args.runs}) → RTF {r['rtf']:.3f} (target ≤ {TARGET_RTF}); "
          f"{r['words_found']:.0%} of reference words found")
    s = await final_latency(stt, args.stream_runs)
    print(f"streamed {s['audio_s']:.1f} s answer at real time: finish → final "
          f"{s['median_s'] * 1000:.0f} ms median, {s['max_s'] * 1000:.0f} ms max "
          f"({args.stream_runs} runs); {s['interims']:.1f} interims per answer; "
          f"{s['words_found']:.0%} of words found")
    t = await tts_first_chunk(args.tts_runs)
    print("espeak-ng time to first chunk (median ms): "
          + ", ".join(f"{lang} {v * 1000:.1f}" for lang, v in t.items()))
    stt.close()
    return 0 if r["rtf"] <= TARGET_RTF else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
