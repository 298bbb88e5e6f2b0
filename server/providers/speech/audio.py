"""Audio plumbing shared by the speech providers: everything becomes 16 kHz mono s16le PCM.

Whisper wants 16 kHz mono float samples; Deepgram takes LINEAR16 or a container as is. This
module turns what a client sends (WAV, OGG/Opus, WebM/Opus, MP3, or raw LINEAR16 at any sample
rate) into 16 kHz mono signed 16-bit little-endian PCM with PyAV (FFmpeg's decoders and
resampler), and reports durations. Anything PyAV cannot decode raises SpeechError(BAD_AUDIO).

- `decode(data, fmt)`: a whole recording → PCM (strict: a broken file is BAD_AUDIO).
- `decode(data, fmt, partial=True)`: the decodable prefix of a recording still being received
  (a streamed container whose tail is not there yet); used for interim transcripts.
- `Linear16Resampler`: a streaming resampler for LINEAR16 chunks (keeps the filter state and an
  odd trailing byte between chunks), identity when the rate is already 16 kHz.
- `pcm_to_float(pcm)`: the float32 array faster-whisper takes. `wav_bytes(pcm, rate)` wraps PCM in
  a WAV header (tests, the Deepgram fake). `duration_seconds(pcm, rate)`.
"""

from __future__ import annotations

import io
import struct
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from server.domain.speech import AudioFormat, Encoding, SpeechError

TARGET_RATE = 16_000
SAMPLE_BYTES = 2
# Container formats a client may send, by encoding (PyAV probes the bytes; this is a hint only).
_CONTAINER_HINT = {Encoding.WAV: "wav", Encoding.OGG_OPUS: "ogg", Encoding.WEBM_OPUS: "webm",
                   Encoding.MP3: "mp3"}


def duration_seconds(pcm: bytes | int, rate: int = TARGET_RATE) -> float:
    """Seconds of mono s16le audio (bytes, or a byte count) at `rate`."""
    size = pcm if isinstance(pcm, int) else len(pcm)
    return size / (SAMPLE_BYTES * rate) if rate > 0 else 0.0


def pcm_to_float(pcm: bytes) -> NDArray[np.float32]:
    """s16le → float32 in [-1, 1] (what faster-whisper's transcribe takes)."""
    usable = len(pcm) - len(pcm) % SAMPLE_BYTES
    return np.frombuffer(pcm[:usable], dtype="<i2").astype(np.float32) / 32768.0


def wav_bytes(pcm: bytes, rate: int = TARGET_RATE) -> bytes:
    """A canonical 44-byte-header WAV around mono s16le PCM."""
    header = b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * SAMPLE_BYTES,
                                    SAMPLE_BYTES, 16)
    return header + b"data" + struct.pack("<I", len(pcm)) + pcm


if TYPE_CHECKING:
    import av


def _av() -> ModuleType:
    """PyAV, imported on first use: it costs ~18 MB, and only spoken answers need it."""
    import av

    return av


class Linear16Resampler:
    """Streams LINEAR16 chunks at `rate` into 16 kHz chunks. Identity at 16 kHz."""

    def __init__(self, rate: int) -> None:
        if rate <= 0 or rate > 384_000:
            raise SpeechError("BAD_AUDIO", f"unsupported LINEAR16 sample rate {rate}")
        self.rate = rate
        self._carry = b""
        self._resampler = (None if rate == TARGET_RATE else
                           _av().AudioResampler(format="s16", layout="mono", rate=TARGET_RATE))

    def feed(self, chunk: bytes) -> bytes:
        data = self._carry + chunk
        usable = len(data) - len(data) % SAMPLE_BYTES
        self._carry = data[usable:]
        if usable == 0:
            return b""
        if self._resampler is None:
            return data[:usable]
        samples = np.frombuffer(data[:usable], dtype="<i2").reshape(1, -1)
        frame = _av().AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = self.rate
        return _frames_bytes(self._resampler.resample(frame))

    def flush(self) -> bytes:
        """The resampler's buffered tail (call once, at the end)."""
        if self._resampler is None:
            return b""
        return _frames_bytes(self._resampler.resample(None))


def resample_linear16(pcm: bytes, rate: int) -> bytes:
    """A whole LINEAR16 buffer at `rate` → 16 kHz."""
    resampler = Linear16Resampler(rate)
    return resampler.feed(pcm) + resampler.flush()


def decode(data: bytes, fmt: AudioFormat, *, partial: bool = False) -> bytes:
    """Audio as the client sent it → 16 kHz mono s16le. LINEAR16 uses fmt.sample_rate; the
    containers are probed by PyAV. partial=True returns what decodes before the first error."""
    if fmt.encoding is Encoding.LINEAR16:
        return resample_linear16(data, fmt.sample_rate or TARGET_RATE)
    return decode_container(data, partial=partial)


def decode_container(data: bytes, *, partial: bool = False) -> bytes:
    if not data:
        if partial:
            return b""
        raise SpeechError("BAD_AUDIO", "no audio")
    av = _av()
    out: list[bytes] = []
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise SpeechError("BAD_AUDIO", "no audio stream in the file")
            resampler = av.AudioResampler(format="s16", layout="mono", rate=TARGET_RATE)
            try:
                for frame in container.decode(audio=0):
                    frame.pts = None
                    out.append(_frames_bytes(resampler.resample(frame)))
            except (av.error.FFmpegError, ValueError) as exc:
                if not partial:
                    raise SpeechError(
                        "BAD_AUDIO", f"undecodable audio: {type(exc).__name__}") from None
            out.append(_frames_bytes(resampler.resample(None)))
    except SpeechError:
        if partial:
            return b"".join(out)
        raise
    except (av.error.FFmpegError, ValueError, OSError, EOFError) as exc:
        if partial:
            return b"".join(out)
        raise SpeechError("BAD_AUDIO", f"undecodable audio: {type(exc).__name__}") from None
    pcm = b"".join(out)
    if not pcm and not partial:
        raise SpeechError("BAD_AUDIO", "the file holds no audio samples")
    return pcm


def _frames_bytes(frames: list[av.AudioFrame]) -> bytes:
    return b"".join(bytes(frame.to_ndarray().astype("<i2").tobytes()) for frame in frames)


def container_hint(encoding: Encoding) -> str | None:
    """The FFmpeg format name for a container encoding (for encoders in tests and tools)."""
    return _CONTAINER_HINT.get(encoding)
