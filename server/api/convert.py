"""Domain <-> proto conversions shared by the servicers."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from google.protobuf import field_mask_pb2, timestamp_pb2
from google.protobuf.message import Message
from interviewplatform.v1 import audit_service_pb2, auth_service_pb2, company_pb2, user_pb2

from server.domain import models
from server.domain.errors import InvalidArgument

ROLE_TO_PROTO: dict[models.Role, user_pb2.Role.ValueType] = {
    models.Role.SUPER_ADMIN: user_pb2.ROLE_SUPER_ADMIN,
    models.Role.COMPANY_ADMIN: user_pb2.ROLE_COMPANY_ADMIN,
    models.Role.DEPARTMENT_USER: user_pb2.ROLE_DEPARTMENT_USER,
}
ROLE_FROM_PROTO = {v: k for k, v in ROLE_TO_PROTO.items()}
STATUS_TO_PROTO: dict[models.EntityStatus, user_pb2.EntityStatus.ValueType] = {
    models.EntityStatus.ACTIVE: user_pb2.ENTITY_STATUS_ACTIVE,
    models.EntityStatus.INACTIVE: user_pb2.ENTITY_STATUS_INACTIVE,
}
STATUS_FROM_PROTO = {v: k for k, v in STATUS_TO_PROTO.items()}


def timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value)
    return ts


def opt_time(ts: timestamp_pb2.Timestamp, present: bool) -> datetime | None:
    return ts.ToDatetime(tzinfo=UTC) if present else None


def id_str(value: uuid.UUID | None) -> str:
    return str(value) if value else ""


def opt_uuid(value: str) -> uuid.UUID | None:
    """An optional identifier (protovalidate already checked its form when set)."""
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidArgument("not a valid identifier", reason="INVALID_ID") from exc


def req_uuid(value: str, name: str = "id") -> uuid.UUID:
    found = opt_uuid(value)
    if found is None:
        raise InvalidArgument(f"{name} is required", reason="INVALID_ID",
                              metadata={"field": name})
    return found


def status_filter(value: user_pb2.EntityStatus.ValueType) -> models.EntityStatus | None:
    return STATUS_FROM_PROTO.get(value)


def fingerprint(request: Message) -> bytes:
    """What identifies a create request for idempotency: everything but the request_id and
    secrets (a fast hash of a request holding a password would let anyone who reads the table
    guess that password far faster than its argon2 hash allows)."""
    copy = type(request)()
    copy.CopyFrom(request)
    for name in ("request_id", "password"):
        if name in copy.DESCRIPTOR.fields_by_name:
            copy.ClearField(name)
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).digest()


def masked(message: Message, mask: field_mask_pb2.FieldMask) -> dict[str, object]:
    """The masked top-level fields of `message` with their new values."""
    values: dict[str, object] = {}
    fields = message.DESCRIPTOR.fields_by_name
    for path in mask.paths:
        if path not in fields or "." in path:
            raise InvalidArgument(f"unknown field in update_mask: {path}",
                                  reason="INVALID_UPDATE_MASK")
        values[path] = getattr(message, path)
    return values


def user(u: models.User) -> user_pb2.User:
    return user_pb2.User(
        id=str(u.id), email=u.email, full_name=u.full_name, role=ROLE_TO_PROTO[u.role],
        company_id=id_str(u.company_id), department_id=id_str(u.department_id),
        status=STATUS_TO_PROTO[u.status], create_time=timestamp(u.created_at),
        update_time=timestamp(u.updated_at), phone=u.phone or "", etag=str(u.version),
    )


def company(c: models.Company) -> company_pb2.Company:
    return company_pb2.Company(
        id=str(c.id), name=c.name, email=c.email or "", phone=c.phone or "",
        address=c.address or "", status=STATUS_TO_PROTO[c.status], etag=str(c.version),
        create_time=timestamp(c.created_at), update_time=timestamp(c.updated_at),
    )


def department(d: models.Department) -> company_pb2.Department:
    return company_pb2.Department(
        id=str(d.id), company_id=str(d.company_id), name=d.name,
        description=d.description or "", status=STATUS_TO_PROTO[d.status],
        etag=str(d.version), create_time=timestamp(d.created_at),
        update_time=timestamp(d.updated_at),
    )


def audit_event(e: models.AuditEvent) -> audit_service_pb2.AuditEvent:
    return audit_service_pb2.AuditEvent(
        id=str(e.id), time=timestamp(e.occurred_at), actor_id=id_str(e.actor_id),
        actor_email=e.actor_email or "",
        actor_role=ROLE_TO_PROTO[e.actor_role] if e.actor_role else user_pb2.ROLE_UNSPECIFIED,
        company_id=id_str(e.company_id), action=e.action, resource=e.resource,
        changes=[audit_service_pb2.FieldChange(field=c.field, before=c.before, after=c.after)
                 for c in e.changes],
        request_id=e.request_id or "", client_address=e.client_address or "",
    )


def token_pair(t: models.TokenPair) -> auth_service_pb2.TokenPair:
    return auth_service_pb2.TokenPair(
        access_token=t.access_token, token_type="Bearer",
        access_token_expire_time=timestamp(t.access_expires_at),
        refresh_token=t.refresh_token, refresh_token_expire_time=timestamp(t.refresh_expires_at),
    )
