"""A local fake of the Gemini REST API, for tests and benchmarks with the real google-genai client.

    with FakeGemini(latency=0.0, default_score=72) as fake:
        provider = GeminiProvider(api_key="test-key", model="gemini-2.5-flash",
                                  base_url=fake.base_url, timeout_seconds=5,
                                  max_concurrency=8, max_attempts=3, initial_delay=0.05)
        fake.error(429)               # scripted steps are served first, in order ...
        fake.ok({"score": 90, ...})   # ... then every request gets a DEFAULT answer
        result = await provider.evaluate_answer(item)
        assert fake.calls == 2
        assert "BEGIN ANSWER" in fake.requests[0].prompt

It is a stdlib `ThreadingHTTPServer` on 127.0.0.1 (port 0) in a daemon thread; every request is
served on its own thread, so concurrent calls overlap (`latency` and `delay` sleep per request).
It answers `POST /<version>/models/<model>:generateContent` (google-genai 3.3 sends `/v1/...`
when given a base_url; `/v1beta/...` works too) with the REST shape of a GenerateContentResponse,
and errors as Google API errors (`{"error": {"code", "message", "status"}}`).

Steps (FIFO; each consumed by one request):
  ok(payload)            answer with this JSON payload (dict/list) or raw text (str)
  error(code)            a Google API error, e.g. 429 (RESOURCE_EXHAUSTED) or 500 (INTERNAL)
  delay(seconds, payload=None)  sleep, then answer (payload or the default answer)
  malformed(text)        a candidate whose text is not JSON ("not json{")
  schema_violation()     JSON that fits no response schema of ours

DEFAULT mode (no step left): an answer built from the request's response schema
(`generationConfig.responseSchema`, or `responseJsonSchema`): every property filled, strings as
"fake <field> <n>" (unique within an answer), enums take their values in turn, numbers with a
0-100 range get `default_score` (so evaluations score exactly that), other numbers their minimum
(or 1), arrays `default_items` items (bounded by minItems/maxItems), nullable values are filled.
`responder`, when set, is called with each request's JSON body first; a non-None result is the
answer payload.

Recorded: `requests` (path, model, headers without the API key, JSON body, prompt and system
text, response schema), `calls`, `in_flight` and `max_in_flight`. `reset()` clears script,
records and counters.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

SECRET_HEADERS = frozenset({"x-goog-api-key", "authorization"})
STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                404: "NOT_FOUND", 408: "DEADLINE_EXCEEDED", 429: "RESOURCE_EXHAUSTED",
                500: "INTERNAL", 502: "UNAVAILABLE", 503: "UNAVAILABLE",
                504: "DEADLINE_EXCEEDED"}


@dataclass(frozen=True, slots=True)
class Step:
    kind: str                       # "ok" | "error" | "malformed"
    payload: Any = None             # "ok": dict/list (as JSON) or str (raw text); None = default
    code: int = 200
    delay: float = 0.0


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    path: str
    model: str
    headers: dict[str, str]
    body: dict[str, Any]
    started: float = field(compare=False, default=0.0)

    @property
    def prompt(self) -> str:
        """The text of every user turn, joined."""
        return "\n".join(p.get("text", "") for c in self.body.get("contents", [])
                         for p in c.get("parts", []))

    @property
    def system(self) -> str:
        parts = (self.body.get("systemInstruction") or {}).get("parts", [])
        return "\n".join(p.get("text", "") for p in parts)

    @property
    def generation_config(self) -> dict[str, Any]:
        config: dict[str, Any] = self.body.get("generationConfig") or {}
        return config

    @property
    def response_schema(self) -> dict[str, Any] | None:
        config = self.generation_config
        schema = config.get("responseSchema") or config.get("responseJsonSchema")
        return schema if isinstance(schema, dict) else None


class FakeGemini:
    """The fake server; see the module docstring. Use as a context manager or start()/stop()."""

    def __init__(self, *, latency: float = 0.0, default_score: float = 72.0,
                 default_items: int = 2, model_version: str = "fake-gemini-001") -> None:
        self.latency = latency
        self.default_score = default_score
        self.default_items = default_items
        self.model_version = model_version
        self.responder: Callable[[dict[str, Any]], Any] | None = None
        self.requests: list[RecordedRequest] = []
        self.calls = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._script: deque[Step] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> FakeGemini:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="fake-gemini", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes requests sleeping in a delay
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeGemini:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake Gemini server is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self.requests.clear()
            self.calls = self.in_flight = self.max_in_flight = 0
        self.responder = None

    # --- script -------------------------------------------------------------------------------

    def ok(self, payload: Any) -> None:
        self._push(Step("ok", payload))

    def error(self, code: int, times: int = 1) -> None:
        for _ in range(times):
            self._push(Step("error", code=code))

    def delay(self, seconds: float, payload: Any = None) -> None:
        self._push(Step("ok", payload, delay=seconds))

    def malformed(self, text: str = "not json{", times: int = 1) -> None:
        for _ in range(times):
            self._push(Step("malformed", text))

    def schema_violation(self, times: int = 1) -> None:
        for _ in range(times):
            self._push(Step("ok", {"unexpected": True, "score": "high"}))

    def _push(self, step: Step) -> None:
        with self._lock:
            self._script.append(step)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._script)

    # --- serving ------------------------------------------------------------------------------

    def _begin(self, recorded: RecordedRequest) -> Step | None:
        with self._lock:
            self.requests.append(recorded)
            self.calls += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return self._script.popleft() if self._script else None

    def _end(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def respond(self, recorded: RecordedRequest) -> tuple[int, dict[str, Any]]:
        """Status and JSON body for one request (runs on the request's thread)."""
        step = self._begin(recorded)
        try:
            self._sleep(self.latency + (step.delay if step else 0.0))
            if step is not None and step.kind == "error":
                return step.code, _api_error(step.code)
            if step is not None and step.kind == "malformed":
                return 200, self._envelope(str(step.payload))
            payload = step.payload if step is not None else None
            if payload is None:
                payload = self._default(recorded)
            text = payload if isinstance(payload, str) else json.dumps(payload)
            return 200, self._envelope(text)
        finally:
            self._end()

    def _default(self, recorded: RecordedRequest) -> Any:
        if self.responder is not None:
            answer = self.responder(recorded.body)
            if answer is not None:
                return answer
        schema = recorded.response_schema
        if schema is None:
            return {"text": "fake answer"}
        return _Builder(self.default_score, self.default_items, schema).build(schema, "value")

    def _envelope(self, text: str) -> dict[str, Any]:
        return {
            "candidates": [{"content": {"role": "model", "parts": [{"text": text}]},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 120, "candidatesTokenCount": 40,
                              "totalTokenCount": 160},
            "modelVersion": self.model_version,
        }


def _api_error(code: int) -> dict[str, Any]:
    status = STATUS_NAMES.get(code, "UNKNOWN")
    return {"error": {"code": code, "message": f"fake error {code}", "status": status}}


class _Builder:
    """A plausible value for a Gemini (OpenAPI subset) or JSON schema."""

    def __init__(self, score: float, items: int, root: dict[str, Any]) -> None:
        self.score = score
        self.items = items
        self.defs: dict[str, Any] = root.get("$defs") or root.get("defs") or {}
        self.counter = 0

    def build(self, schema: dict[str, Any], name: str, index: int = 0) -> Any:
        schema = self._resolve(schema)
        kind = self._kind(schema)
        if schema.get("enum"):
            values = [v for v in schema["enum"] if v is not None]
            return values[index % len(values)] if values else None
        builders: dict[str, Callable[[dict[str, Any], str, int], Any]] = {
            "object": self._object, "array": self._array, "string": self._string,
            "number": self._number, "integer": self._number, "boolean": self._boolean,
        }
        builder = builders.get(kind) or self._string
        return builder(schema, name, index)

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return self._resolve(self.defs[ref.rsplit("/", 1)[-1]])
        for key in ("anyOf", "any_of", "oneOf"):
            options = [s for s in schema.get(key) or [] if self._kind(self._resolve(s)) != "null"]
            if options:
                return self._resolve(options[0])
        return schema

    @staticmethod
    def _kind(schema: dict[str, Any]) -> str:
        kind = schema.get("type", "")
        if isinstance(kind, list):
            kind = next((k for k in kind if str(k).lower() != "null"), "null")
        if not kind and "properties" in schema:
            kind = "object"
        return str(kind).lower()

    def _object(self, schema: dict[str, Any], _name: str, _index: int) -> dict[str, Any]:
        props: dict[str, Any] = schema.get("properties") or {}
        order = schema.get("propertyOrdering") or schema.get("property_ordering") or list(props)
        return {key: self.build(props[key], key) for key in order if key in props}

    def _array(self, schema: dict[str, Any], name: str, _index: int) -> list[Any]:
        low = int(_first(schema, "minItems", "min_items", default=0))
        high = int(_first(schema, "maxItems", "max_items", default=max(low, self.items)))
        count = min(max(low, self.items), high)
        item = schema.get("items") or {"type": "STRING"}
        return [self.build(item, name, i) for i in range(count)]

    def _string(self, _schema: dict[str, Any], name: str, _index: int) -> str:
        self.counter += 1
        return f"fake {name} {self.counter}"

    @staticmethod
    def _boolean(_schema: dict[str, Any], _name: str, _index: int) -> bool:
        return False

    def _number(self, schema: dict[str, Any], _name: str, _index: int) -> float | int:
        low = float(_first(schema, "minimum", default=0))
        high = float(_first(schema, "maximum", default=low + 1))
        value = self.score if low <= self.score <= high else low if "minimum" in schema else 1
        return round(value) if self._kind(schema) == "integer" else value


def _first(schema: dict[str, Any], *keys: str, default: Any) -> Any:
    return next((schema[k] for k in keys if schema.get(k) is not None), default)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The stdlib default backlog (5) drops SYNs of a burst of connections: the client's
    # retransmit then costs a second. Benchmarks open dozens at once.
    request_queue_size = 256


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGemini
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        path = self.path.split("?", 1)[0]
        if not path.endswith(":generateContent") or "/models/" not in path:
            self._send(404, _api_error(404))
            return
        model = path.rsplit("/models/", 1)[1].removesuffix(":generateContent")
        headers = {k.lower(): v for k, v in self.headers.items()
                   if k.lower() not in SECRET_HEADERS}
        body = json.loads(raw or b"{}")
        recorded = RecordedRequest(path, model, headers, body, time.monotonic())
        status, answer = self.fake.respond(recorded)
        self._send(status, answer)

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout); nothing to answer

    def log_message(self, format: str, *args: Any) -> None:
        return
