"""Typed exceptions for failed calls, decoded from the google.rpc.Status trailer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple, cast

import grpc
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2, status_pb2

STATUS_DETAILS_KEY = "grpc-status-details-bin"


class FieldViolation(NamedTuple):
    """One invalid request field, from google.rpc.BadRequest."""

    field: str
    description: str
    reason: str


class PlatformError(Exception):
    """A call that failed; the base class of every error the client raises."""

    def __init__(self, code: grpc.StatusCode, message: str, *, reason: str | None = None,
                 metadata: dict[str, str] | None = None,
                 field_violations: list[FieldViolation] | None = None,
                 retry_after: float | None = None,
                 status: status_pb2.Status | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason
        self.metadata: dict[str, str] = metadata or {}
        self.field_violations: list[FieldViolation] = field_violations or []
        self.retry_after = retry_after
        # The whole decoded google.rpc.Status, for details this module does not interpret.
        self.status = status

    def __str__(self) -> str:
        reason = f" [{self.reason}]" if self.reason else ""
        return f"{self.code.name}{reason}: {self.message}"


class InvalidArgument(PlatformError):
    """The request was malformed; see field_violations."""


class Unauthenticated(PlatformError):
    """No valid credentials: missing, bad or expired token, wrong password."""


class PermissionDenied(PlatformError):
    """Authenticated, but not allowed to do this."""


class NotFound(PlatformError):
    """The named resource does not exist (or is not visible to the caller)."""


class AlreadyExists(PlatformError):
    """The resource to create exists already."""


class FailedPrecondition(PlatformError):
    """The system is not in a state that allows the operation."""


class Aborted(PlatformError):
    """A concurrency conflict; retrying the whole operation may succeed."""


class ResourceExhausted(PlatformError):
    """Rate limited or over quota; see retry_after."""


class Unavailable(PlatformError):
    """The platform or one of its dependencies is down; retry later."""


class InternalError(PlatformError):
    """A server-side bug or unexpected failure."""

# The one table from status code to exception class; codes not listed raise PlatformError.
ERROR_CLASSES: dict[grpc.StatusCode, type[PlatformError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.OUT_OF_RANGE: InvalidArgument,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.ABORTED: Aborted,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.INTERNAL: InternalError,
    grpc.StatusCode.UNKNOWN: InternalError,
    grpc.StatusCode.DATA_LOSS: InternalError,
}


def _decode_status(exc: grpc.RpcError) -> status_pb2.Status | None:
    """Parse the trailer directly: rpc_status.from_call does not handle aio errors."""
    # aio errors carry grpc.aio.Metadata, sync ones a tuple of (key, value) namedtuples.
    trailer = cast(Iterable[tuple[str, str | bytes]], exc.trailing_metadata() or ())
    for key, value in trailer:
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            try:
                return status_pb2.Status.FromString(value)
            except DecodeError:
                return None
    return None


def error_from_rpc(exc: grpc.RpcError) -> PlatformError:
    """Map a failed call (grpc.aio.AioRpcError or a sync grpc.RpcError) to a typed error."""
    code = exc.code()
    status = _decode_status(exc)
    message = (status.message if status is not None else "") or exc.details() or ""
    reason: str | None = None
    metadata: dict[str, str] = {}
    violations: list[FieldViolation] = []
    retry_after: float | None = None
    for detail in status.details if status is not None else ():
        info = error_details_pb2.ErrorInfo()
        bad = error_details_pb2.BadRequest()
        retry = error_details_pb2.RetryInfo()
        if detail.Unpack(info):
            reason, metadata = info.reason or None, dict(info.metadata)
        elif detail.Unpack(bad):
            violations.extend(FieldViolation(v.field, v.description, v.reason)
                              for v in bad.field_violations)
        elif detail.Unpack(retry):
            retry_after = retry.retry_delay.ToTimedelta().total_seconds()
    cls = ERROR_CLASSES.get(code, PlatformError)
    return cls(code, message, reason=reason, metadata=metadata, field_violations=violations,
               retry_after=retry_after, status=status)
