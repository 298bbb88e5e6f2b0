"""Building audit records: who did what to which resource, and what changed (never secrets)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from uuid import UUID

from server.domain.models import Caller, FieldChange, Role, User

SECRET_FIELDS = frozenset({"password", "password_hash", "token", "token_hash", "refresh_token",
                           "reset_token", "secret"})


@dataclass(frozen=True, slots=True)
class AuditRecord:
    action: str
    resource: str
    company_id: UUID | None
    actor_id: UUID | None
    actor_email: str | None
    actor_role: Role | None
    request_id: str
    client_address: str
    changes: tuple[FieldChange, ...] = ()


def record(caller: Caller, action: str, resource: str, company_id: UUID | None,
           changes: tuple[FieldChange, ...] = (), *, actor: User | None = None) -> AuditRecord:
    """An audit record for this call; `actor` names the user when the caller is not signed in
    yet (a successful sign-in)."""
    p = caller.principal
    return AuditRecord(
        action=action, resource=resource, company_id=company_id,
        actor_id=actor.id if actor else (p.user_id if p else None),
        actor_email=actor.email if actor else (p.email if p else None),
        actor_role=actor.role if actor else (p.role if p else None),
        request_id=caller.request_id, client_address=caller.client_address, changes=changes,
    )


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def changes(before: dict[str, object] | None, after: dict[str, object]) -> tuple[FieldChange, ...]:
    """Fields whose value differs (all of `after` for a new resource), secrets left out."""
    found = []
    for name, value in after.items():
        if name in SECRET_FIELDS:
            continue
        old = None if before is None else before.get(name)
        if before is None or old != value:
            found.append(FieldChange(field=name, before=_text(old), after=_text(value)))
    return tuple(found)
