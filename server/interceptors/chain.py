"""The interceptor chain, outermost first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from server.domain.ports import TokenService

Handler = Callable[[Any, Any], Any]


def is_stream(result: object) -> bool:
    return hasattr(result, "__aiter__")


def build_chain(tokens: TokenService) -> list[Any]:
    from server.interceptors.auth import AuthInterceptor
    from server.interceptors.errors import ErrorMappingInterceptor
    from server.interceptors.logging import RequestLoggingInterceptor
    from server.interceptors.validation import ValidationInterceptor

    return [
        RequestLoggingInterceptor(),
        ErrorMappingInterceptor(),
        AuthInterceptor(tokens),
        ValidationInterceptor(),
    ]
