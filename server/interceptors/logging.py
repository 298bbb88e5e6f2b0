"""Request id and one structured access-log line per call."""

from __future__ import annotations

import itertools
import logging
import time
import uuid
from typing import Any

import grpc
import structlog
from grpc import aio

from server.context import principal_var, request_id_var

log = structlog.get_logger("server.access")
REQUEST_ID_HEADER = "x-request-id"
MAX_REQUEST_ID = 128


# Ids made here are a random per-process prefix and a counter: unique, and much cheaper per
# call than a fresh uuid4 (Envoy sends its own x-request-id on every proxied call anyway).
_PREFIX = uuid.uuid4().hex[:12]
_counter = itertools.count(1)


def request_id(context: aio.ServicerContext[Any, Any]) -> str:
    """The caller's (or Envoy's) x-request-id when sane, else a new one."""
    for key, value in context.invocation_metadata() or ():
        if key == REQUEST_ID_HEADER and isinstance(value, str) and 0 < len(value) <= MAX_REQUEST_ID:
            return value
    return f"{_PREFIX}-{next(_counter):x}"


def _code_name(code: object) -> str:
    if code is None:
        return "OK"
    if isinstance(code, grpc.StatusCode):
        return code.name
    return str(code)


def log_call(context: aio.ServicerContext[Any, Any], method_name: str, started: float) -> None:
    if not log.is_enabled_for(logging.INFO):
        return
    principal = principal_var.get()
    log.info(
        "rpc",
        request_id=request_id_var.get(),
        method=method_name,
        code=_code_name(context.code()),
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        peer=context.peer(),
        user_id=str(principal.user_id) if principal else None,
    )
