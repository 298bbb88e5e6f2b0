"""Deepgram through deepgram-sdk 7.x: live speech-to-text over a WebSocket, Aura-2 text-to-speech.

Client: one `AsyncDeepgramClient` per provider. `base_url` (settings.deepgram_base_url, e.g. a
local fake in tests) becomes the SDK environment: REST on http(s)://host, WebSockets on
ws(s)://host — the same host and port, as on api.deepgram.com.

STT (`DeepgramSpeechToText`, model settings.deepgram_stt_model, default nova-3, which transcribes
all 12 interview languages): `open()` connects `listen.v1.connect(model, language,
interim_results=true, punctuate, encoding=linear16 + sample_rate for LINEAR16; containers are
sent as they are and detected by Deepgram)` and starts a reader task that turns each `Results`
message into a TranscriptPiece (is_final as Deepgram says; start/end from start/duration). A
keep-alive task sends KeepAlive when no audio went out for `keepalive_seconds` (Deepgram closes
idle streams after ~10 s). `finish()` sends Finalize then CloseStream: Deepgram flushes the last
results, sends Metadata and closes; `results()` then ends. If the connection drops (closed
abnormally, or closed by the server before we asked), `results()` yields the pieces received so
far, then — if an interim hypothesis was never confirmed — a final piece with partial=True holding
it, then raises SpeechError(DROPPED). `send()` after a drop raises DROPPED too. No final within
`finish_timeout` after finish → partial piece + SpeechError(TIMEOUT). A slow consumer holds at
most one unread interim (newer ones replace it); final pieces are all kept.
`transcribe()` (one-shot) streams the whole recording through the same live path.

TTS (`DeepgramTextToSpeech`): Aura-2 covers en, es, de, fr, it, ja (and nl) per Deepgram's
"Voices and Languages" page; `voice_for` returns None for the other interview languages (pt, hi,
zh, ko, ar, ru) so the caller falls back to espeak-ng (factory.LayeredTextToSpeech).
`speak.v1.audio.generate(text, model=<voice>, encoding=linear16, container=wav,
sample_rate=24000)` streams the WAV back in chunks.

Secrets: the SDK's ApiError carries the request headers (with `Authorization: Token <key>`), so
no SDK exception text is ever copied into a SpeechError or a log line — only status codes and
exception class names.

The SDK imports websockets' deprecated legacy client (DeprecationWarnings at import); the import
here is wrapped so that those known warnings do not escape.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import warnings
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx

from server.domain.speech import AudioFormat, Encoding, SpeechError, TranscriptPiece, Voice
from server.providers.speech.pieces import PieceQueue

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import deepgram.listen.v1.client
    import deepgram.listen.v1.raw_client
    import deepgram.speak.v1.audio.client  # noqa: F401  (lazy SDK modules, imported here)
    from deepgram import AsyncDeepgramClient, DeepgramClientEnvironment
    from deepgram.core.api_error import ApiError
    from deepgram.listen.v1.socket_client import AsyncV1SocketClient
    from deepgram.listen.v1.types.listen_v1error import ListenV1Error
    from deepgram.listen.v1.types.listen_v1metadata import ListenV1Metadata
    from deepgram.listen.v1.types.listen_v1results import ListenV1Results
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, WebSocketException

log = logging.getLogger(__name__)

STT_LANGUAGES = ("en", "es", "fr", "de", "pt", "hi", "zh", "ja", "ko", "ar", "ru", "it")
AURA_VOICES: dict[str, str] = {
    "en": "aura-2-thalia-en", "es": "aura-2-celeste-es", "de": "aura-2-viktoria-de",
    "fr": "aura-2-agathe-fr", "it": "aura-2-livia-it", "ja": "aura-2-izanami-ja",
}
AURA_SAMPLE_RATE = 24000


def environment(base_url: str | None) -> DeepgramClientEnvironment:
    """The SDK environment for a base URL (None: api.deepgram.com)."""
    if not base_url:
        return DeepgramClientEnvironment.PRODUCTION
    http = base_url.rstrip("/")
    parts = urlsplit(http)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("DEEPGRAM_BASE_URL must be an http(s) URL")
    ws = ("wss" if parts.scheme == "https" else "ws") + http[len(parts.scheme):]
    return DeepgramClientEnvironment(base=http, production=ws, agent=ws, agent_rest=http)


def _client(api_key: str, base_url: str | None,
            timeout: float) -> tuple[AsyncDeepgramClient, httpx.AsyncClient]:
    """The SDK client over an httpx client we own (so `aclose` can release its connections)."""
    http = httpx.AsyncClient(timeout=timeout, follow_redirects=True)
    return AsyncDeepgramClient(api_key=api_key, environment=environment(base_url),
                               httpx_client=http), http


def _refusal(exc: BaseException) -> SpeechError:
    """A connection/HTTP failure as a SpeechError that never carries the SDK's text."""
    if isinstance(exc, ApiError):
        status = exc.status_code
        if status in (401, 403):
            return SpeechError("UNAVAILABLE", f"Deepgram refused the credentials (HTTP {status})")
        if status == 400:
            return SpeechError("UNAVAILABLE", "Deepgram rejected the request (HTTP 400)")
        return SpeechError("UNAVAILABLE", f"Deepgram answered HTTP {status}")
    if isinstance(exc, TimeoutError):
        return SpeechError("TIMEOUT", "Deepgram did not answer in time")
    return SpeechError("UNAVAILABLE", f"cannot reach Deepgram ({type(exc).__name__})")


class DeepgramSpeechToText:
    name = "deepgram"

    def __init__(self, api_key: str, *, base_url: str | None = None, model: str = "nova-3",
                 connect_timeout: float = 10.0, keepalive_seconds: float = 5.0,
                 finish_timeout: float = 30.0, chunk_bytes: int = 8192) -> None:
        self._client, self._http = _client(api_key, base_url, connect_timeout)
        self.base_url = base_url
        self.model = model
        self.connect_timeout = connect_timeout
        self.keepalive_seconds = keepalive_seconds
        self.finish_timeout = finish_timeout
        self.chunk_bytes = chunk_bytes

    def languages(self) -> tuple[str, ...]:
        return STT_LANGUAGES

    async def aclose(self) -> None:
        await self._http.aclose()

    async def health(self) -> tuple[bool, str]:
        host = urlsplit(self.base_url).netloc if self.base_url else "api.deepgram.com"
        return True, f"deepgram {self.model} at {host}"

    async def open(self, fmt: AudioFormat) -> DeepgramSession:
        if fmt.language not in STT_LANGUAGES:
            raise SpeechError("UNSUPPORTED_LANGUAGE", f"no Deepgram model for '{fmt.language}'")
        session = DeepgramSession(self, fmt)
        await session.start()
        return session

    async def transcribe(self, audio: bytes, fmt: AudioFormat) -> TranscriptPiece:
        if not audio:
            raise SpeechError("BAD_AUDIO", "no audio")
        session = await self.open(fmt)
        try:
            for offset in range(0, len(audio), self.chunk_bytes):
                await session.send(audio[offset:offset + self.chunk_bytes])
            await session.finish()
            finals = [piece async for piece in session.results() if piece.is_final]
        finally:
            await session.aclose()
        text = " ".join(p.text for p in finals if p.text).strip()
        end = max((p.end_seconds for p in finals), default=0.0)
        return TranscriptPiece(text=text, is_final=True, start_seconds=0.0, end_seconds=end)


class DeepgramSession:
    """One live Deepgram stream (see the module docstring)."""

    def __init__(self, provider: DeepgramSpeechToText, fmt: AudioFormat) -> None:
        self._provider = provider
        self._fmt = fmt
        self._stack = contextlib.AsyncExitStack()
        self._socket: AsyncV1SocketClient | None = None
        self._queue = PieceQueue()
        self._tasks: list[asyncio.Task[None]] = []
        self._unconfirmed: TranscriptPiece | None = None   # the latest interim not yet final
        self._finishing = False
        self._ended = False
        self._failure: SpeechError | None = None
        self._last_send = time.monotonic()

    async def start(self) -> None:
        options: dict[str, Any] = {"model": self._provider.model, "language": self._fmt.language,
                                   "interim_results": "true", "punctuate": "true"}
        if self._fmt.encoding is Encoding.LINEAR16:
            options.update(encoding="linear16", sample_rate=self._fmt.sample_rate or 16000,
                           channels=1)
        try:
            async with asyncio.timeout(self._provider.connect_timeout):
                self._socket = await self._stack.enter_async_context(
                    self._provider._client.listen.v1.connect(**options))
        except (ApiError, OSError, TimeoutError, WebSocketException) as exc:
            await self._stack.aclose()
            raise _refusal(exc) from None
        self._tasks.append(asyncio.create_task(self._read()))
        self._tasks.append(asyncio.create_task(self._keep_alive()))

    # ---- receiving ------------------------------------------------------------------------
    async def _read(self) -> None:
        assert self._socket is not None
        try:
            async for message in self._socket:
                if isinstance(message, ListenV1Results):
                    self._on_results(message)
                elif isinstance(message, ListenV1Error):
                    self._fail(SpeechError("UNAVAILABLE", "Deepgram reported an error"))
                    return
                elif isinstance(message, ListenV1Metadata):
                    continue
        except ConnectionClosed:
            self._fail(SpeechError("DROPPED", "the Deepgram connection was lost"))
            return
        except (OSError, InvalidHandshake):
            self._fail(SpeechError("DROPPED", "the Deepgram connection failed"))
            return
        if self._finishing:
            self._end()
        else:
            self._fail(SpeechError("DROPPED", "Deepgram closed the stream early"))

    def _on_results(self, message: ListenV1Results) -> None:
        alternatives = message.channel.alternatives
        text = (alternatives[0].transcript or "").strip() if alternatives else ""
        start = float(message.start or 0.0)
        piece = TranscriptPiece(text=text, is_final=bool(message.is_final), start_seconds=start,
                                end_seconds=start + float(message.duration or 0.0))
        if piece.is_final:
            self._unconfirmed = None
            if text:
                self._queue.push(piece)
        elif text:
            self._unconfirmed = piece
            self._queue.push(piece)

    def _fail(self, error: SpeechError) -> None:
        if self._ended:
            return
        self._ended = True
        self._failure = error
        if self._unconfirmed is not None:
            hypothesis = self._unconfirmed
            self._queue.push(TranscriptPiece(text=hypothesis.text, is_final=True,
                                       start_seconds=hypothesis.start_seconds,
                                       end_seconds=hypothesis.end_seconds, partial=True))
            self._unconfirmed = None
        self._queue.push(error)

    def _end(self) -> None:
        if not self._ended:
            self._ended = True
            self._queue.push(None)

    def results(self) -> AsyncIterator[TranscriptPiece]:
        return self._queue.drain()

    # ---- sending --------------------------------------------------------------------------
    async def send(self, chunk: bytes) -> None:
        if self._failure is not None:
            raise SpeechError(self._failure.reason, str(self._failure))
        if self._finishing or self._ended or self._socket is None:
            raise SpeechError("BAD_AUDIO", "audio sent after the end of the stream")
        try:
            await self._socket.send_media(chunk)
        except (ConnectionClosed, OSError):
            self._fail(SpeechError("DROPPED", "the Deepgram connection was lost"))
            raise SpeechError("DROPPED", "the Deepgram connection was lost") from None
        self._last_send = time.monotonic()

    async def _keep_alive(self) -> None:
        interval = self._provider.keepalive_seconds
        with contextlib.suppress(ConnectionClosed, OSError):
            while not self._ended and not self._finishing:
                await asyncio.sleep(interval / 2)
                if (self._socket is not None and not self._finishing and not self._ended
                        and time.monotonic() - self._last_send >= interval):
                    await self._socket.send_keep_alive()
                    self._last_send = time.monotonic()

    async def finish(self) -> None:
        if self._finishing or self._ended or self._socket is None:
            return
        self._finishing = True
        try:
            await self._socket.send_finalize()
            await self._socket.send_close_stream()
        except (ConnectionClosed, OSError):
            self._fail(SpeechError("DROPPED", "the Deepgram connection was lost"))
            return
        self._tasks.append(asyncio.create_task(self._watchdog()))

    async def _watchdog(self) -> None:
        await asyncio.sleep(self._provider.finish_timeout)
        if not self._ended:
            self._fail(SpeechError("TIMEOUT", "Deepgram did not finish the transcript in time"))
            for task in self._tasks[:1]:
                task.cancel()

    async def aclose(self) -> None:
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current and not task.done():
                task.cancel()
        for task in self._tasks:
            if task is not current:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await self._stack.aclose()
        if not self._ended:
            self._ended = True
            self._queue.push(None)


class DeepgramTextToSpeech:
    name = "deepgram"

    def __init__(self, api_key: str, *, base_url: str | None = None, timeout: float = 30.0,
                 chunk_bytes: int = 16384) -> None:
        self._client, self._http = _client(api_key, base_url, timeout)
        self.base_url = base_url
        self.chunk_bytes = chunk_bytes

    def languages(self) -> tuple[str, ...]:
        return tuple(AURA_VOICES)

    async def aclose(self) -> None:
        """Release pooled HTTP connections (on server shutdown)."""
        await self._http.aclose()

    def voice_for(self, language: str) -> Voice | None:
        model = AURA_VOICES.get(language)
        if model is None:
            return None
        return Voice(name=model, language=language, encoding=Encoding.WAV,
                     sample_rate=AURA_SAMPLE_RATE)

    async def health(self) -> tuple[bool, str]:
        host = urlsplit(self.base_url).netloc if self.base_url else "api.deepgram.com"
        return True, f"deepgram aura-2 at {host} ({', '.join(AURA_VOICES)})"

    async def synthesize(self, text: str, voice: Voice) -> AsyncIterator[bytes]:
        if voice.name not in AURA_VOICES.values():
            raise SpeechError("UNSUPPORTED_LANGUAGE", f"not an Aura voice: {voice.name}")
        try:
            stream = self._client.speak.v1.audio.generate(
                text=text, model=voice.name, encoding="linear16", container="wav",
                sample_rate=voice.sample_rate,
                request_options={"chunk_size": self.chunk_bytes})
            async for chunk in stream:
                if chunk:
                    yield chunk
        except SpeechError:
            raise
        except (ApiError, OSError, TimeoutError) as exc:
            raise _refusal(exc) from None
        except Exception as exc:   # httpx errors and the like: class name only (see above)
            if type(exc).__module__.startswith(("httpx", "httpcore", "aiohttp")):
                raise _refusal(exc) from None
            raise
