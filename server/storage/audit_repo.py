"""The append-only audit log."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from server.domain.audit import AuditRecord
from server.domain.errors import InvalidArgument
from server.domain.models import AuditEvent, FieldChange, Principal, Role
from server.domain.paging import Cursor
from server.storage import scope
from server.storage.orm import AuditEventRow


def _event(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        id=row.id, occurred_at=row.occurred_at, actor_id=row.actor_id,
        actor_email=row.actor_email, actor_role=Role(row.actor_role) if row.actor_role else None,
        company_id=row.company_id, action=row.action, resource=row.resource,
        changes=tuple(FieldChange(field=c["field"], before=c["before"], after=c["after"])
                      for c in row.changes),
        request_id=row.request_id, client_address=row.client_address,
    )


class SqlAuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def append(self, record: AuditRecord) -> None:
        await self._s.execute(insert(AuditEventRow).values(
            actor_id=record.actor_id, actor_email=record.actor_email,
            actor_role=record.actor_role.value if record.actor_role else None,
            company_id=record.company_id, action=record.action, resource=record.resource,
            changes=[{"field": c.field, "before": c.before, "after": c.after}
                     for c in record.changes],
            request_id=record.request_id or None,
            client_address=record.client_address or None,
        ))

    async def list(self, scope_of: Principal, *, company_id: uuid.UUID | None,
                   actor_id: uuid.UUID | None, action_prefix: str | None,
                   resource: str | None, start: datetime | None, end: datetime | None,
                   after: Cursor | None, limit: int) -> list[AuditEvent]:
        query = select(AuditEventRow).where(scope.audit_events(scope_of))
        if company_id is not None:
            query = query.where(AuditEventRow.company_id == company_id)
        if actor_id is not None:
            query = query.where(AuditEventRow.actor_id == actor_id)
        if action_prefix:
            query = query.where(AuditEventRow.action.startswith(action_prefix, autoescape=True))
        if resource:
            query = query.where(AuditEventRow.resource == resource)
        if start is not None:
            query = query.where(AuditEventRow.occurred_at >= start)
        if end is not None:
            query = query.where(AuditEventRow.occurred_at < end)
        if after is not None:
            try:
                last_id = int(after.key)
            except ValueError as exc:
                raise InvalidArgument("page_token is not valid",
                                      reason="INVALID_PAGE_TOKEN") from exc
            query = query.where(tuple_(AuditEventRow.occurred_at, AuditEventRow.id)
                                < (after.time, last_id))
        query = query.order_by(AuditEventRow.occurred_at.desc(), AuditEventRow.id.desc())
        return [_event(r) for r in (await self._s.scalars(query.limit(limit))).all()]
