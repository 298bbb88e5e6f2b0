"""Reading the audit log (writing happens inside every mutating use-case)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from server.domain import access, paging
from server.domain.models import AuditEvent, Caller, Page
from server.domain.ports import UnitOfWork, UowFactory
from server.domain.support import keyset_page


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

        async def fetch(uow: UnitOfWork, after: paging.Cursor | None,
                        limit: int) -> list[AuditEvent]:
            return await uow.audit.list(p, company_id=company_id, actor_id=actor_id,
                                        action_prefix=action_prefix, resource=resource,
                                        start=start, end=end, after=after, limit=limit)

        return await keyset_page(self._uow, filters, size, token, fetch=fetch,
                                 cursor=lambda e: paging.Cursor(e.occurred_at, str(e.id)))
