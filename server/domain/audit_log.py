"""Reading the audit log (writing happens inside every mutating use-case)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from server.domain import access, paging
from server.domain.models import AuditEvent, Caller, Page
from server.domain.ports import UowFactory
from server.domain.support import page_of


class AuditLogUseCases:
    def __init__(self, uow: UowFactory) -> None:
        self._uow = uow

    async def list_events(self, caller: Caller, *, company_id: UUID | None,
                          actor_id: UUID | None, action_prefix: str | None,
                          resource: str | None, start: datetime | None, end: datetime | None,
                          size: int, token: str) -> Page[AuditEvent]:
        p = access.require_principal(caller)
        access.require_audit_reader(p)
        filters: dict[str, object] = {"company_id": company_id, "actor_id": actor_id,
                                      "action_prefix": action_prefix, "resource": resource,
                                      "start": start, "end": end}
        after = paging.decode(token, filters)
        limit = paging.page_size(size)
        async with self._uow() as uow:
            rows = await uow.audit.list(p, company_id=company_id, actor_id=actor_id,
                                        action_prefix=action_prefix, resource=resource,
                                        start=start, end=end, after=after, limit=limit + 1)
        return page_of(rows, limit, filters, lambda e: paging.Cursor(e.occurred_at, str(e.id)))
