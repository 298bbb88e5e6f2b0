"""Background work on the procrastinate job queue (PostgreSQL-backed)."""
