"""Structured logs: identifiers from the context on every line, as JSON or text."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from pipeline.logs import log_context, setup_logging


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    yield buffer
    setup_logging(logging.WARNING)  # leave the next test a plain stderr handler


def test_json_lines_carry_the_context(stream: io.StringIO) -> None:
    setup_logging(logging.INFO, json_format=True, stream=stream)
    log = logging.getLogger("pipeline.test")
    with log_context(feed="Pacific Security Desk", feed_url="https://example.org/rss"):
        with log_context(article="https://example.org/a", topic="usfj-reorganisation"):
            log.info("matched %s", "it")
        log.warning("feed-level line")
    log.info("no context")
    first, second, third = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (
        first["message"] == "matched it" and first["level"] == "info" and first["logger"] == "pipeline.test"
    )
    assert first["feed"] == "Pacific Security Desk" and first["topic"] == "usfj-reorganisation"
    assert first["article"] == "https://example.org/a"
    assert second["feed"] == "Pacific Security Desk" and "article" not in second
    assert "feed" not in third


def test_text_lines_append_the_context(stream: io.StringIO) -> None:
    setup_logging(logging.INFO, stream=stream)
    with log_context(feed="X"):
        logging.getLogger("pipeline.test").error("boom")
    assert stream.getvalue().rstrip().endswith("pipeline.test: boom [feed=X]")


def test_exceptions_are_serialised(stream: io.StringIO) -> None:
    setup_logging(logging.INFO, json_format=True, stream=stream)
    try:
        raise ValueError("bad page")
    except ValueError:
        logging.getLogger("pipeline.test").exception("entry failed")
    entry = json.loads(stream.getvalue())
    assert "ValueError: bad page" in entry["exception"]
