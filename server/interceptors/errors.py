"""Converts exceptions to statuses: domain errors to google.rpc.Status with ErrorInfo through
the one table in server/api/errors.py; anything unknown to INTERNAL with a generic message,
its traceback going to the log only."""

from __future__ import annotations

from typing import Any, NoReturn

import grpc
import structlog
from google.rpc import status_pb2
from grpc import aio

from server.api.errors import internal_status, to_rpc_status
from server.context import request_id_var
from server.domain.errors import DomainError

log = structlog.get_logger("server.errors")
STATUS_DETAILS_KEY = "grpc-status-details-bin"


async def abort_with(context: aio.ServicerContext[Any, Any], code: grpc.StatusCode,
                     status: status_pb2.Status) -> NoReturn:
    await context.abort(code, status.message,
                        trailing_metadata=((STATUS_DETAILS_KEY, status.SerializeToString()),))
    raise AssertionError("unreachable")  # context.abort always raises


async def convert(exc: BaseException, context: aio.ServicerContext[Any, Any],
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
