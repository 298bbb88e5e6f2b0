"""Typed async Python client for the interview platform's gRPC API."""

from interview_platform_client.client import DEFAULT_TIMEOUT_SECONDS, InterviewPlatformClient
from interview_platform_client.errors import (
    ERROR_CLASSES,
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InternalError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    PlatformError,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    error_from_rpc,
)

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "ERROR_CLASSES",
    "Aborted",
    "AlreadyExists",
    "FailedPrecondition",
    "FieldViolation",
    "InternalError",
    "InterviewPlatformClient",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "PlatformError",
    "ResourceExhausted",
    "Unauthenticated",
    "Unavailable",
    "error_from_rpc",
]
