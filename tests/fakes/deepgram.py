"""A local fake of Deepgram's servers, for tests and benchmarks with the real deepgram-sdk client.

    with FakeDeepgram(api_key="test-key", segments=["I have five years", "of Python"]) as fake:
        stt = DeepgramSpeechToText("test-key", base_url=fake.base_url)
        ...
        assert fake.listens[0].controls == ["Finalize", "CloseStream"]

One asyncio server on 127.0.0.1 (port 0) in a daemon thread, so a single base URL serves both
protocols, as api.deepgram.com does (the SDK's environment gets http://… for REST and ws://… for
WebSockets on the same port). Each connection's request head is read first:

- `GET /v1/listen` with `Upgrade: websocket`: Deepgram's live transcription protocol, spoken with
  websockets' sans-I/O `ServerProtocol`. Binary frames are audio; text frames are control
  messages (`{"type": "Finalize" | "CloseStream" | "KeepAlive"}`). Answers are `Results` JSON
  messages shaped like Deepgram's (channel.alternatives[0].transcript/words, is_final,
  speech_final, start, duration, from_finalize, metadata) and a `Metadata` message before the
  server closes after CloseStream.
  Transcript script: `segments` are the final texts, in order. Every `bytes_per_word` bytes of
  audio reveal one more word of the current segment (an interim Results with the words so far);
  when a segment's last word is revealed its final Results follows. Finalize (and CloseStream)
  turn the revealed-but-not-final words into a final Results (`from_finalize: true`). With no
  script, the transcript is derived from the audio: words "word1 word2 …", one per
  `bytes_per_word` bytes, `words_per_segment` per segment.
  `drop_after_bytes=N`: once N audio bytes arrived (and their results were sent), the TCP
  connection is aborted without a close frame (a provider dropping mid-stream).
  A wrong/missing `Authorization: Token <api_key>` is refused with HTTP 401 at the handshake.
- `POST /v1/speak?model=…`: Aura TTS. Body `{"text": …}`; answers a WAV (linear16, 24 kHz,
  a tone lasting `speak_seconds_per_char` per character), written in `speak_chunk_bytes` pieces;
  `speak_status` ≠ 200 answers that status with a Deepgram-style JSON error.

Recorded: `listens` (one ListenRecord per WebSocket: query, headers without Authorization,
authorized, audio bytes/chunks, control message types in order, messages sent, how it ended:
"server-closed" | "client-closed" | "dropped" | "refused"), `speaks` (SpeakRecord: query, text,
headers without Authorization, authorized). `reset()` clears them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import numpy as np
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

SECRET_HEADERS = frozenset({"authorization", "sec-websocket-protocol"})


@dataclass
class ListenRecord:
    query: dict[str, str]
    headers: dict[str, str]
    authorized: bool
    audio_bytes: int = 0
    audio_chunks: int = 0
    controls: list[str] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    ended: str = ""


@dataclass
class SpeakRecord:
    query: dict[str, str]
    text: str
    headers: dict[str, str]
    authorized: bool


def speak_wav(seconds: float, rate: int = 24000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    pcm = (np.sin(2 * np.pi * 220 * t) * 8000).astype("<i2").tobytes()
    header = b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return header + b"data" + struct.pack("<I", len(pcm)) + pcm


class _Transcriber:
    """The scripted/derived transcript of one live connection."""

    def __init__(self, fake: FakeDeepgram, record: ListenRecord) -> None:
        self.fake = fake
        self.record = record
        rate = int(record.query.get("sample_rate", "16000") or 16000)
        self.bytes_per_second = rate * 2 if record.query.get("encoding") == "linear16" else 4000
        self.script = ([text.split() for text in fake.segments]
                       if fake.segments is not None else None)
        self.segment = 0
        self.revealed: list[str] = []
        self.words_seen = 0
        self.segment_start = 0.0
        self.request_id = str(uuid.uuid4())

    def _segment_words(self, index: int) -> list[str] | None:
        if self.script is not None:
            return self.script[index] if index < len(self.script) else None
        first = index * self.fake.words_per_segment
        return [f"word{first + k + 1}" for k in range(self.fake.words_per_segment)]

    def on_audio(self, total_bytes: int) -> list[dict[str, Any]]:
        out = []
        while total_bytes // self.fake.bytes_per_word > self.words_seen:
            self.words_seen += 1
            words = self._segment_words(self.segment)
            if words is None:
                continue                           # the script is exhausted
            self.revealed.append(words[len(self.revealed)])
            out.append(self._results(is_final=False))
            if len(self.revealed) == len(words):
                out.append(self._finalise(from_finalize=False))
        return out

    def finalize(self) -> list[dict[str, Any]]:
        return [self._finalise(from_finalize=True)] if self.revealed else []

    def _finalise(self, *, from_finalize: bool) -> dict[str, Any]:
        message = self._results(is_final=True, from_finalize=from_finalize)
        words = self._segment_words(self.segment) or []
        if len(self.revealed) == len(words):
            self.segment += 1
            self.revealed = []
        else:                                      # Finalize mid-segment: the rest follows
            if self.script is not None:
                self.script[self.segment] = words[len(self.revealed):]
            else:
                self.segment += 1
            self.revealed = []
        self.segment_start = self._now()
        return message

    def _now(self) -> float:
        return round(self.record.audio_bytes / self.bytes_per_second, 3)

    def _results(self, *, is_final: bool, from_finalize: bool = False) -> dict[str, Any]:
        end = self._now()
        step = (end - self.segment_start) / max(1, len(self.revealed))
        words = [{"word": w.lower().strip(".,"), "punctuated_word": w,
                  "start": round(self.segment_start + i * step, 3),
                  "end": round(self.segment_start + (i + 1) * step, 3), "confidence": 0.98}
                 for i, w in enumerate(self.revealed)]
        return {
            "type": "Results", "channel_index": [0, 1], "start": self.segment_start,
            "duration": round(end - self.segment_start, 3), "is_final": is_final,
            "speech_final": is_final, "from_finalize": from_finalize,
            "channel": {"alternatives": [{"transcript": " ".join(self.revealed),
                                          "confidence": 0.98, "words": words}]},
            "metadata": {"request_id": self.request_id,
                         "model_info": {"name": "fake", "version": "1", "arch": "fake"},
                         "model_uuid": "00000000-0000-0000-0000-000000000000"},
        }

    def metadata(self) -> dict[str, Any]:
        return {"type": "Metadata", "transaction_key": "deprecated",
                "request_id": self.request_id, "sha256": "0" * 64,
                "created": "2026-01-01T00:00:00.000Z", "duration": self._now(), "channels": 1,
                "models": ["00000000-0000-0000-0000-000000000000"], "model_info": {}}


class FakeDeepgram:
    def __init__(self, *, api_key: str = "test-key", segments: list[str] | None = None,
                 bytes_per_word: int = 6400, words_per_segment: int = 4,
                 drop_after_bytes: int | None = None, speak_seconds_per_char: float = 0.02,
                 speak_chunk_bytes: int = 4096, speak_status: int = 200) -> None:
        self.api_key = api_key
        self.segments = list(segments) if segments is not None else None
        self.bytes_per_word = bytes_per_word
        self.words_per_segment = words_per_segment
        self.drop_after_bytes = drop_after_bytes
        self.speak_seconds_per_char = speak_seconds_per_char
        self.speak_chunk_bytes = speak_chunk_bytes
        self.speak_status = speak_status
        self.listens: list[ListenRecord] = []
        self.speaks: list[SpeakRecord] = []
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        self.listens.clear()
        self.speaks.clear()

    # ---- lifecycle ------------------------------------------------------------------------
    def start(self) -> FakeDeepgram:
        self._thread = threading.Thread(target=self._serve, name="fake-deepgram", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake Deepgram did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._server is not None:
            server = self._server

            async def shutdown() -> None:
                server.close()
                await server.wait_closed()

            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> FakeDeepgram:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._server = loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    # ---- connections ----------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *lines = head.decode("latin-1").split("\r\n")
            method, target, _ = request_line.split(" ", 2)
            headers = {}
            for line in lines:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            url = urlsplit(target)
            query = dict(parse_qsl(url.query))
            authorized = headers.get("authorization") == f"Token {self.api_key}"
            public = {k: v for k, v in headers.items() if k not in SECRET_HEADERS}
            if url.path == "/v1/listen" and headers.get("upgrade", "").lower() == "websocket":
                await self._listen(reader, writer, head, ListenRecord(query, public, authorized))
            elif method == "POST" and url.path == "/v1/speak":
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                await self._speak(writer, query, body, public, authorized)
            else:
                writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError,
                ValueError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _speak(self, writer: asyncio.StreamWriter, query: dict[str, str], body: bytes,
                     headers: dict[str, str], authorized: bool) -> None:
        text = str(json.loads(body or b"{}").get("text", ""))
        self.speaks.append(SpeakRecord(query, text, headers, authorized))
        status = self.speak_status if authorized else 401
        if status != 200:
            error = json.dumps({"err_code": "INVALID_AUTH" if status == 401 else "ERROR",
                                "err_msg": "Invalid credentials." if status == 401
                                else "fake failure", "request_id": str(uuid.uuid4())}).encode()
            writer.write(f"HTTP/1.1 {status} Error\r\ncontent-type: application/json\r\n"
                         f"content-length: {len(error)}\r\n\r\n".encode() + error)
            await writer.drain()
            return
        rate = int(float(query.get("sample_rate", "24000") or 24000))
        audio = speak_wav(max(0.1, len(text) * self.speak_seconds_per_char), rate)
        writer.write(f"HTTP/1.1 200 OK\r\ncontent-type: audio/wav\r\n"
                     f"content-length: {len(audio)}\r\n\r\n".encode())
        for offset in range(0, len(audio), self.speak_chunk_bytes):
            writer.write(audio[offset:offset + self.speak_chunk_bytes])
            await writer.drain()
            await asyncio.sleep(0)

    async def _listen(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                      head: bytes, record: ListenRecord) -> None:
        self.listens.append(record)
        protocol = ServerProtocol(max_size=None)
        protocol.receive_data(head)
        request = next(e for e in protocol.events_received() if isinstance(e, Request))

        async def flush() -> None:
            for data in protocol.data_to_send():
                if data:
                    writer.write(data)
                elif writer.can_write_eof():
                    writer.write_eof()
            await writer.drain()

        if not record.authorized:
            protocol.send_response(protocol.reject(401, "Invalid credentials.\n"))
            record.ended = "refused"
            await flush()
            return
        protocol.send_response(protocol.accept(request))
        await flush()
        transcriber = _Transcriber(self, record)

        def send(message: dict[str, Any]) -> None:
            if protocol.state is State.OPEN:      # the client may have closed meanwhile
                record.sent.append(message)
                protocol.send_text(json.dumps(message).encode())

        while True:
            data = await reader.read(65536)
            if not data:
                protocol.receive_eof()
                record.ended = record.ended or "client-closed"
                break
            protocol.receive_data(data)
            for event in protocol.events_received():
                if isinstance(event, Frame):
                    self._on_frame(event, record, transcriber, send, protocol)
            closing = record.ended == "server-closed"
            if (self.drop_after_bytes is not None and not closing
                    and record.audio_bytes >= self.drop_after_bytes):
                await flush()
                record.ended = "dropped"
                writer.transport.abort()
                return
            await flush()
            if closing and protocol.state is State.CLOSED:
                break

    @staticmethod
    def _on_frame(event: Frame, record: ListenRecord, transcriber: _Transcriber,
                  send: Callable[[dict[str, Any]], None], protocol: ServerProtocol) -> None:
        if record.ended == "server-closed":
            return                                 # after CloseStream nothing more is heard
        if event.opcode is Opcode.BINARY:
            record.audio_bytes += len(event.data)
            record.audio_chunks += 1
            for message in transcriber.on_audio(record.audio_bytes):
                send(message)
        elif event.opcode is Opcode.TEXT:
            kind = str(json.loads(event.data).get("type", ""))
            record.controls.append(kind)
            if kind in ("Finalize", "CloseStream"):
                for message in transcriber.finalize():
                    send(message)
            if kind == "CloseStream":
                send(transcriber.metadata())
                protocol.send_close(1000, "")
                record.ended = "server-closed"
        elif event.opcode is Opcode.CLOSE:
            record.ended = record.ended or "client-closed"
