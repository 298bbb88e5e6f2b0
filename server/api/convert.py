"""Domain ↔ proto conversions shared by the servicers."""

from __future__ import annotations

import uuid
from datetime import datetime

from google.protobuf import timestamp_pb2
from interviewplatform.v1 import auth_service_pb2, user_pb2

from server.domain import models

ROLE_TO_PROTO: dict[models.Role, user_pb2.Role.ValueType] = {
    models.Role.SUPER_ADMIN: user_pb2.ROLE_SUPER_ADMIN,
    models.Role.COMPANY_ADMIN: user_pb2.ROLE_COMPANY_ADMIN,
    models.Role.DEPARTMENT_USER: user_pb2.ROLE_DEPARTMENT_USER,
}
STATUS_TO_PROTO: dict[models.EntityStatus, user_pb2.EntityStatus.ValueType] = {
    models.EntityStatus.ACTIVE: user_pb2.ENTITY_STATUS_ACTIVE,
    models.EntityStatus.INACTIVE: user_pb2.ENTITY_STATUS_INACTIVE,
}


def timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value)
    return ts


def id_str(value: uuid.UUID | None) -> str:
    return str(value) if value else ""


def user(u: models.User) -> user_pb2.User:
    return user_pb2.User(
        id=str(u.id), email=u.email, full_name=u.full_name, role=ROLE_TO_PROTO[u.role],
        company_id=id_str(u.company_id), department_id=id_str(u.department_id),
        status=STATUS_TO_PROTO[u.status], create_time=timestamp(u.created_at),
        update_time=timestamp(u.updated_at),
    )


def token_pair(t: models.TokenPair) -> auth_service_pb2.TokenPair:
    return auth_service_pb2.TokenPair(
        access_token=t.access_token, token_type="Bearer",
        access_token_expire_time=timestamp(t.access_expires_at),
        refresh_token=t.refresh_token, refresh_token_expire_time=timestamp(t.refresh_expires_at),
    )
