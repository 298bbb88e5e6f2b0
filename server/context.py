"""Per-call context shared by interceptors and handlers."""

from __future__ import annotations

from contextvars import ContextVar

from server.domain.models import Principal

principal_var: ContextVar[Principal | None] = ContextVar("principal", default=None)
request_id_var: ContextVar[str] = ContextVar("request_id", default="")


def current_principal() -> Principal:
    """The authenticated caller; the auth interceptor guarantees it on non-public methods."""
    principal = principal_var.get()
    if principal is None:
        from server.domain.errors import Unauthenticated

        raise Unauthenticated("authentication required")
    return principal
