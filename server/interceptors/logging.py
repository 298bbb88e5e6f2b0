"""Outermost interceptor: request id and one structured log line per call."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import structlog
from grpc import aio
from grpc_interceptor import AsyncServerInterceptor

from server.context import principal_var, request_id_var
from server.interceptors.chain import Handler, is_stream

log = structlog.get_logger("server.access")
REQUEST_ID_HEADER = "x-request-id"
MAX_REQUEST_ID = 128


def _request_id(context: aio.ServicerContext[Any, Any]) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == REQUEST_ID_HEADER and isinstance(value, str) and 0 < len(value) <= MAX_REQUEST_ID:
            return value
    return uuid.uuid4().hex


class RequestLoggingInterceptor(AsyncServerInterceptor):
    async def intercept(self, method: Handler, request_or_iterator: Any,
                        context: aio.ServicerContext[Any, Any], method_name: str) -> Any:
        request_id_var.set(_request_id(context))
        principal_var.set(None)
        started = time.perf_counter()
        result = method(request_or_iterator, context)
        if is_stream(result):
            return self._stream(result, context, method_name, started)
        try:
            return await result
        finally:
            self._log(context, method_name, started)

    async def _stream(self, stream: AsyncIterator[Any], context: aio.ServicerContext[Any, Any],
                      method_name: str, started: float) -> AsyncIterator[Any]:
        try:
            async for item in stream:
                yield item
        finally:
            self._log(context, method_name, started)

    @staticmethod
    def _log(context: aio.ServicerContext[Any, Any], method_name: str, started: float) -> None:
        code = context.code()
        if code is None:
            code_name = "OK"
        elif isinstance(code, grpc.StatusCode):
            code_name = code.name
        else:
            code_name = grpc.StatusCode(code).name if not isinstance(code, int) else str(code)
        principal = principal_var.get()
        log.info(
            "rpc",
            request_id=request_id_var.get(),
            method=method_name,
            code=code_name,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            peer=context.peer(),
            user_id=str(principal.user_id) if principal else None,
        )
