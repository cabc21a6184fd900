"""Logging set-up: plain text or one JSON object per line, with the feed, article and topic
being worked on attached to every record through a context, not repeated in each call."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TextIO

CONTEXT_FIELDS = ("feed", "feed_url", "article", "topic", "alert", "channel")
_context: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar(
    "newswatch_log_context", default=()
)

# Library chatter (every HTTP request, every extraction heuristic) buries the pipeline's own lines.
NOISY_LOGGERS = (
    "httpx",
    "httpcore",
    "trafilatura",
    "htmldate",
    "courlan",
    "apscheduler.executors",
    "mail.log",
)


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Attach identifiers (feed=..., article=..., topic=...) to every record logged inside the block."""
    merged = dict(_context.get()) | {key: str(value) for key, value in fields.items() if value is not None}
    token = _context.set(tuple(merged.items()))
    try:
        yield
    finally:
        _context.reset(token)


def _install_record_factory() -> None:
    """Stamp the current context on every record at creation, so every handler sees it
    (ours, an embedding program's, pytest's)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "newswatch_context", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        for key, value in _context.get():
            setattr(record, key, value)
        return record

    factory.newswatch_context = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


_install_record_factory()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in CONTEXT_FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = " ".join(f"{key}={getattr(record, key)}" for key in CONTEXT_FIELDS if hasattr(record, key))
        return f"{line} [{context}]" if context else line


class _NewswatchHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler we installed, so set-up can replace it without touching anyone else's."""


def setup_logging(level: int = logging.INFO, json_format: bool = False, stream: TextIO | None = None) -> None:
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _NewswatchHandler)]:
        root.removeHandler(handler)
    handler = _NewswatchHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if json_format else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
