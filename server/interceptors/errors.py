"""Converts domain errors to google.rpc.Status with ErrorInfo; anything unknown becomes
INTERNAL with a generic message, and its traceback goes to the log only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, NoReturn

import grpc
import structlog
from google.rpc import status_pb2
from grpc import aio
from grpc_interceptor import AsyncServerInterceptor

from server.api.errors import internal_status, to_rpc_status
from server.context import request_id_var
from server.domain.errors import DomainError
from server.interceptors.chain import Handler, is_stream

log = structlog.get_logger("server.errors")
STATUS_DETAILS_KEY = "grpc-status-details-bin"


async def abort_with(context: aio.ServicerContext[Any, Any], code: grpc.StatusCode,
                     status: status_pb2.Status) -> NoReturn:
    await context.abort(code, status.message,
                        trailing_metadata=((STATUS_DETAILS_KEY, status.SerializeToString()),))
    raise AssertionError("unreachable")  # context.abort always raises


class ErrorMappingInterceptor(AsyncServerInterceptor):
    async def intercept(self, method: Handler, request_or_iterator: Any,
                        context: aio.ServicerContext[Any, Any], method_name: str) -> Any:
        try:
            result = method(request_or_iterator, context)
            if is_stream(result):
                return self._stream(result, context, method_name)
            return await result
        except Exception as exc:
            await self._convert(exc, context, method_name)

    async def _stream(self, stream: AsyncIterator[Any], context: aio.ServicerContext[Any, Any],
                      method_name: str) -> AsyncIterator[Any]:
        try:
            async for item in stream:
                yield item
        except Exception as exc:
            await self._convert(exc, context, method_name)

    @staticmethod
    async def _convert(exc: Exception, context: aio.ServicerContext[Any, Any],
                       method_name: str) -> NoReturn:
        if isinstance(exc, aio.AbortError):
            raise exc  # already a status, set by context.abort()
        if isinstance(exc, DomainError):
            code, status = to_rpc_status(exc)
            await abort_with(context, code, status)
        log.error("unhandled exception", method=method_name, request_id=request_id_var.get(),
                  exc_info=exc)
        code, status = internal_status()
        await abort_with(context, code, status)
