"""Housekeeping on a schedule: drop what can no longer be used, so that tables holding
per-login rows do not grow forever."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncEngine

# Each statement removes rows that no code path can use any more.
PURGES: dict[str, str] = {
    # Past expiry (plus a day, for clock skew and for reuse detection of just-expired tokens).
    "refresh_tokens": "DELETE FROM refresh_tokens WHERE expires_at < now() - interval '1 day'",
    "password_reset_tokens":
        "DELETE FROM password_reset_tokens WHERE expires_at < now() - interval '1 day'",
    # No failure for a day: the counting window is long over and no lock can still apply.
    "login_attempts": "DELETE FROM login_attempts WHERE last_failure_at < now() - interval '1 day'"
                      " AND (locked_until IS NULL OR locked_until < now())",
    # Clients retry a create within minutes; a week covers any sane retry policy.
    "idempotency_keys": "DELETE FROM idempotency_keys WHERE created_at < now() - interval '7 days'",
}

DECISIONS_PURGE = ("DELETE FROM ai_decisions"
                   " WHERE created_at < now() - make_interval(days => :days)")


@dataclass
class Maintenance:
    engine: AsyncEngine
    # AI decision records are kept this long (AI_DECISION_RETENTION_DAYS), then purged.
    decision_retention_days: int = 365

    async def purge(self) -> dict[str, int]:
        """Run every purge in its own short transaction; returns rows removed per table."""
        removed: dict[str, int] = {}
        statements: list[tuple[str, TextClause, dict[str, int]]] = [
            (table, text(sql), {}) for table, sql in PURGES.items()]
        statements.append(("ai_decisions", text(DECISIONS_PURGE),
                           {"days": self.decision_retention_days}))
        for table, statement, params in statements:
            async with self.engine.begin() as conn:
                result = await conn.execute(statement, params)
                removed[table] = int(getattr(result, "rowcount", 0) or 0)
        return removed
