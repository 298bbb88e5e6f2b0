"""The interceptor chain: request id + access log → error mapping → JWT authentication →
protovalidate, outermost first.

The four steps run inside one grpc.aio interceptor rather than four stacked ones: each stacked
layer costs a handler wrapper and a coroutine per call (measured in bench/README.md), and the
order of the steps is the same either way.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeAlias

import grpc
from grpc import aio
from grpc_interceptor import AsyncServerInterceptor

from server.context import call_var, principal_var, request_id_var
from server.domain.ports import SessionChecker, TokenService
from server.interceptors.auth import PUBLIC_METHODS, Authenticator
from server.interceptors.errors import convert
from server.interceptors.logging import log_call, request_id
from server.interceptors.validation import RequestValidator

Handler = Callable[[Any, Any], Any]
Ctx = aio.ServicerContext[Any, Any]
MethodHandler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"


class PlatformInterceptor(AsyncServerInterceptor):
    def __init__(self, authenticator: Authenticator, validator: RequestValidator) -> None:
        self._auth = authenticator
        self._validator = validator
        self._wrapped: dict[str, MethodHandler] = {}

    async def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[MethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> MethodHandler:
        """grpc-interceptor wraps the method handler anew on every call; the registered
        handlers never change, so wrap each method once and reuse it."""
        method: str = handler_call_details.method
        wrapped = self._wrapped.get(method)
        if wrapped is None:
            wrapped = await super().intercept_service(  # type: ignore[no-untyped-call]
                continuation, handler_call_details)
            if wrapped is None:
                return None  # type: ignore[return-value]  # unknown method: UNIMPLEMENTED
            self._wrapped[method] = wrapped
        return wrapped

    async def intercept(self, method: Handler, request_or_iterator: Any, context: Ctx,
                        method_name: str) -> Any:
        started = time.perf_counter()
        request_id_var.set(request_id(context))
        principal_var.set(None)
        call_var.set(context)
        streaming = False
        try:
            session_check = self._auth.authenticate(method_name, context)
            if session_check is not None:
                await session_check
            result = method(self._validator.apply(request_or_iterator), context)
            if hasattr(result, "__aiter__"):
                streaming = True
                return self._stream(result, context, method_name, started)
            return await result
        except Exception as exc:  # the one place that converts
            await convert(exc, context, method_name)
        finally:
            if not streaming:
                log_call(context, method_name, started)

    @staticmethod
    async def _stream(stream: AsyncIterator[Any], context: Ctx, method_name: str,
                      started: float) -> AsyncIterator[Any]:
        try:
            async for item in stream:
                yield item
        except Exception as exc:
            await convert(exc, context, method_name)
        finally:
            log_call(context, method_name, started)


def build_chain(tokens: TokenService, public_methods: frozenset[str] = PUBLIC_METHODS,
                sessions: SessionChecker | None = None) -> list[Any]:
    return [PlatformInterceptor(Authenticator(tokens, public_methods, sessions),
                                RequestValidator())]
