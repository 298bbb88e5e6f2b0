"""Pieces every use-case module shares: etags, update masks, idempotent creates, pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TypeVar
from uuid import UUID

from server.domain import access, paging
from server.domain.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound
from server.domain.models import Caller, Page
from server.domain.ports import UnitOfWork, UowFactory

T = TypeVar("T")


def check_etag(etag: str, version: int) -> None:
    if etag and etag != str(version):
        raise Aborted("the resource changed since it was read; read it again",
                      reason="ETAG_MISMATCH", metadata={"current_etag": str(version)})


def check_mask(values: dict[str, object], allowed: frozenset[str]) -> None:
    if not values:
        raise InvalidArgument("update_mask names no field", reason="INVALID_UPDATE_MASK")
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise InvalidArgument(f"these fields cannot be updated: {', '.join(unknown)}",
                              reason="INVALID_UPDATE_MASK",
                              metadata={"allowed": ",".join(sorted(allowed))})


def fields_of(obj: object, names: frozenset[str]) -> dict[str, object]:
    data = asdict(obj)  # type: ignore[call-overload]
    return {k: data[k] for k in names}


async def idempotent(uow_factory: UowFactory, caller: Caller, *, operation: str,
                     request_id: UUID | None, fingerprint: bytes,
                     create: Callable[[UnitOfWork], Awaitable[T]],
                     load: Callable[[UnitOfWork, UUID], Awaitable[T | None]],
                     ident: Callable[[T], UUID]) -> T:
    """Run `create` once per (caller, operation, request_id); a retry returns what the first
    call created. The key is stored in the same transaction as the resource."""
    p = access.require_principal(caller)
    if request_id is None:
        async with uow_factory() as uow:
            return await create(uow)
    for _ in range(2):
        try:
            async with uow_factory() as uow:
                found = await uow.idempotency.get(p.user_id, operation, request_id)
                if found is not None:
                    stored_hash, resource_id = found
                    if stored_hash != fingerprint:
                        raise FailedPrecondition(
                            "request_id was already used for a different request",
                            reason="REQUEST_ID_REUSED")
                    existing = await load(uow, resource_id)
                    if existing is None:
                        raise NotFound("the resource created by this request_id is gone")
                    return existing
                created = await create(uow)
                await uow.idempotency.put(p.user_id, operation, request_id, fingerprint,
                                          ident(created))
                return created
        except Aborted as exc:
            if exc.reason != "CONCURRENT_REQUEST":
                raise
            continue  # a concurrent twin committed first: read its result
    raise Aborted("concurrent requests with the same request_id", reason="CONCURRENT_REQUEST")


def page_of(rows: list[T], limit: int, filters: dict[str, object],
          cursor: Callable[[T], paging.Cursor]) -> Page[T]:
    if len(rows) > limit:
        items = rows[:limit]
        return Page(items=items, next_page_token=paging.encode(cursor(items[-1]), filters))
    return Page(items=rows)


async def keyset_page(uow_factory: UowFactory, filters: dict[str, object], size: int,
                      token: str, *,
                      fetch: Callable[[UnitOfWork, paging.Cursor | None, int], Awaitable[list[T]]],
                      cursor: Callable[[T], paging.Cursor]) -> Page[T]:
    """One keyset page: decode the token (bound to `filters`), fetch one row more than the
    page size in one transaction, and make the next token from the last row shown."""
    after = paging.decode(token, filters)
    limit = paging.page_size(size)
    async with uow_factory() as uow:
        rows = await fetch(uow, after, limit + 1)
    return page_of(rows, limit, filters, cursor)
