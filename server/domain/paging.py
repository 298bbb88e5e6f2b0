"""Keyset page tokens: the sort key of the last row, bound to the filters it was made with."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from server.domain.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class Cursor:
    """Position after which the next page starts: (created_at, id) or (occurred_at, id)."""

    time: datetime
    key: str


def page_size(requested: int) -> int:
    if requested <= 0:
        return DEFAULT_PAGE_SIZE
    return min(requested, MAX_PAGE_SIZE)


def _fingerprint(filters: dict[str, object]) -> str:
    canonical = json.dumps({k: str(v) for k, v in sorted(filters.items()) if v not in (None, "")},
                           sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode(cursor: Cursor, filters: dict[str, object]) -> str:
    raw = json.dumps({"t": cursor.time.isoformat(), "k": cursor.key, "f": _fingerprint(filters)})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(token: str, filters: dict[str, object]) -> Cursor | None:
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        cursor = Cursor(time=datetime.fromisoformat(data["t"]), key=str(data["k"]))
        fingerprint = data["f"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidArgument("page_token is not valid", reason="INVALID_PAGE_TOKEN") from exc
    if fingerprint != _fingerprint(filters):
        raise InvalidArgument("page_token was made for other filters",
                              reason="INVALID_PAGE_TOKEN")
    return cursor


def uuid_key(cursor: Cursor | None) -> tuple[datetime, UUID] | None:
    if cursor is None:
        return None
    try:
        return cursor.time, UUID(cursor.key)
    except ValueError as exc:
        raise InvalidArgument("page_token is not valid", reason="INVALID_PAGE_TOKEN") from exc
