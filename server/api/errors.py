"""The one table that maps domain errors to gRPC status codes, and its google.rpc.Status form."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2

from server.domain import errors

ERROR_DOMAIN = "interviewplatform.v1"

# Most specific class first; the first match wins.
STATUS_TABLE: tuple[tuple[type[errors.DomainError], grpc.StatusCode], ...] = (
    (errors.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (errors.PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (errors.NotFound, grpc.StatusCode.NOT_FOUND),
    (errors.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (errors.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.Aborted, grpc.StatusCode.ABORTED),
    (errors.ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.Unavailable, grpc.StatusCode.UNAVAILABLE),
)


class FieldViolation:
    """One invalid field, as reported in google.rpc.BadRequest."""

    __slots__ = ("description", "field", "reason")

    def __init__(self, field: str, description: str, reason: str) -> None:
        self.field = field
        self.description = description
        self.reason = reason


class ValidationFailed(errors.InvalidArgument):
    reason = "VALIDATION_FAILED"

    def __init__(self, violations: list[FieldViolation]) -> None:
        fields = ", ".join(v.field for v in violations) or "request"
        super().__init__(f"invalid request: {fields}")
        self.violations = violations


def status_code_for(error: errors.DomainError) -> grpc.StatusCode:
    for cls, code in STATUS_TABLE:
        if isinstance(error, cls):
            return code
    return grpc.StatusCode.FAILED_PRECONDITION


def _pack(message: Message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def to_rpc_status(error: errors.DomainError, *,
                  extra_details: list[Message] | None = None) -> tuple[grpc.StatusCode,
                                                                       status_pb2.Status]:
    code = status_code_for(error)
    details: list[Message] = [
        error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN,
                                    metadata=error.metadata)
    ]
    if isinstance(error, ValidationFailed):
        details.append(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description,
                                                        reason=v.reason)
            for v in error.violations
        ]))
    if isinstance(error, errors.ResourceExhausted):
        delay = duration_pb2.Duration()
        delay.FromMilliseconds(int(error.retry_after_seconds * 1000))
        details.append(error_details_pb2.RetryInfo(retry_delay=delay))
    details.extend(extra_details or [])
    status = status_pb2.Status(code=_grpc_to_rpc_code(code), message=error.message,
                               details=[_pack(d) for d in details])
    return code, status


def internal_status() -> tuple[grpc.StatusCode, status_pb2.Status]:
    info = error_details_pb2.ErrorInfo(reason="INTERNAL", domain=ERROR_DOMAIN)
    return grpc.StatusCode.INTERNAL, status_pb2.Status(
        code=code_pb2.INTERNAL, message="internal error", details=[_pack(info)]
    )


def _grpc_to_rpc_code(code: grpc.StatusCode) -> int:
    value: int = code.value[0]
    return value
