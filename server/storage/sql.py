"""Small SQL helpers shared by the repositories."""

from __future__ import annotations

from enum import Enum


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
