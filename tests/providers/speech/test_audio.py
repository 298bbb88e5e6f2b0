"""Decoding and resampling (PyAV) on real espeak-ng audio and on files PyAV encodes."""

from __future__ import annotations

import io
import subprocess

import av
import numpy as np
import pytest

from server.domain.speech import AudioFormat, Encoding, SpeechError
from server.providers.speech.audio import (
    TARGET_RATE,
    Linear16Resampler,
    decode,
    duration_seconds,
    pcm_to_float,
    resample_linear16,
    wav_bytes,
)


def espeak_wav(text: str, voice: str = "en") -> bytes:
    return subprocess.run(["espeak-ng", "-v", voice, "--stdout", text], capture_output=True,
                          check=True).stdout


def encode(pcm: bytes, container: str, codec: str, rate: int = 48000) -> bytes:
    """16 kHz s16le → a container file, with PyAV."""
    out = io.BytesIO()
    with av.open(out, mode="w", format=container) as target:
        stream = target.add_stream(codec, rate=rate)
        stream.layout = "mono"
        samples = np.frombuffer(pcm, dtype="<i2").reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = TARGET_RATE
        resampler = av.AudioResampler(format=stream.format.name, layout="mono", rate=rate)
        for resampled in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(resampled):
                target.mux(packet)
        for packet in stream.encode(None):
            target.mux(packet)
    return out.getvalue()


def tone(seconds: float, rate: int, hz: float = 440.0) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * hz * t) * 12000).astype("<i2").tobytes()


def test_espeak_wav_decodes_to_16k_mono_with_its_duration() -> None:
    wav = espeak_wav("Hello, this is a short test sentence.")
    # espeak-ng writes 22050 Hz: the 16 kHz result has the same duration.
    source_seconds = (len(wav) - 44) / (2 * 22050)
    pcm = decode(wav, AudioFormat(Encoding.WAV, 0, "en"))
    assert abs(duration_seconds(pcm) - source_seconds) < 0.02
    assert np.abs(pcm_to_float(pcm)).max() > 0.05            # real speech, not silence


@pytest.mark.parametrize(("container", "codec", "encoding"), [
    ("ogg", "libopus", Encoding.OGG_OPUS),
    ("webm", "libopus", Encoding.WEBM_OPUS),
    ("mp3", "libmp3lame", Encoding.MP3),
    ("wav", "pcm_s16le", Encoding.WAV),
])
def test_container_round_trip_keeps_duration_and_signal(container: str, codec: str,
                                                        encoding: Encoding) -> None:
    original = tone(2.0, TARGET_RATE)
    data = encode(original, container, codec)
    pcm = decode(data, AudioFormat(encoding, 0, "en"))
    assert abs(duration_seconds(pcm) - 2.0) < 0.1
    # The 440 Hz tone survives the codec: its spectrum peaks at 440 Hz.
    samples = pcm_to_float(pcm)
    spectrum = np.abs(np.fft.rfft(samples))
    peak_hz = np.argmax(spectrum) * TARGET_RATE / len(samples)
    assert abs(peak_hz - 440) < 5


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000])
def test_linear16_resampling_round_trip(rate: int) -> None:
    pcm = resample_linear16(tone(1.5, rate), rate)
    assert abs(duration_seconds(pcm) - 1.5) < 0.01
    back = resample_linear16(pcm, TARGET_RATE)
    assert back == pcm                                        # 16 kHz is the identity


def test_streaming_resampler_matches_whole_buffer_with_odd_chunks() -> None:
    raw = tone(1.0, 44100, hz=300)
    stream = Linear16Resampler(44100)
    pieces = [stream.feed(raw[i:i + 777]) for i in range(0, len(raw), 777)]  # odd sizes
    streamed = b"".join(pieces) + stream.flush()
    whole = resample_linear16(raw, 44100)
    assert abs(len(streamed) - len(whole)) <= 64
    assert abs(duration_seconds(streamed) - 1.0) < 0.01


def test_wav_bytes_is_decodable() -> None:
    pcm = tone(0.5, TARGET_RATE)
    assert decode(wav_bytes(pcm), AudioFormat(Encoding.WAV, 0, "en")) == pcm


@pytest.mark.parametrize("data", [b"", b"\x00" * 10, b"not audio at all " * 200,
                                  b"OggS" + b"\x07" * 3000, b"RIFF\x00\x00\x00\x00WAVEjunk"])
def test_corrupt_input_is_bad_audio(data: bytes) -> None:
    with pytest.raises(SpeechError) as info:
        decode(data, AudioFormat(Encoding.OGG_OPUS, 0, "en"))
    assert info.value.reason == "BAD_AUDIO"


def test_truncated_file_decodes_its_prefix_when_partial() -> None:
    data = encode(tone(3.0, TARGET_RATE), "ogg", "libopus")
    head = data[: len(data) // 2]
    prefix = decode(head, AudioFormat(Encoding.OGG_OPUS, 0, "en"), partial=True)
    assert 0.5 < duration_seconds(prefix) < 2.5


def test_bad_linear16_rate_is_bad_audio() -> None:
    with pytest.raises(SpeechError) as info:
        decode(b"\x00\x00" * 100, AudioFormat(Encoding.LINEAR16, -5, "en"))
    assert info.value.reason == "BAD_AUDIO"
