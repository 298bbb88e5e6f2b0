"""Small SQL helpers shared by the repositories."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from enum import Enum

from sqlalchemy.exc import IntegrityError

from server.domain.errors import DomainError


def like_prefix(prefix: str) -> str:
    """A LIKE pattern matching values that start with `prefix` (lower-cased, escaped)."""
    escaped = prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def plain_values(values: dict[str, object]) -> dict[str, object]:
    """Domain values as column values: enums by value, empty strings as NULL."""
    out: dict[str, object] = {}
    for key, value in values.items():
        plain = value.value if isinstance(value, Enum) else value
        out[key] = None if plain == "" else plain
    return out


@contextmanager
def unique_violations(errors: Mapping[str, DomainError]) -> Iterator[None]:
    """Turn a unique-index violation into the domain error named for that index. Checks made
    before an insert can race with a concurrent insert; the index has the last word."""
    try:
        yield
    except IntegrityError as exc:
        text = str(exc.orig)
        for constraint, error in errors.items():
            if constraint in text:
                raise error from exc
        raise
