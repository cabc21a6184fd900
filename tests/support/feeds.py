"""Feed documents and pipelines for tests: small RSS built by hand, and a Pipeline on a test config."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any

from pipeline.clock import SYSTEM_CLOCK, Clock
from pipeline.config import load_config
from pipeline.cycle import Pipeline
from tests.support.configs import write_test_config


@dataclass
class Item:
    title: str
    link: str | None
    summary: str = ""
    published: datetime | None = None
    guid: str | None = None


def rss(items: list[Item], title: str = "Test feed") -> bytes:
    parts = [
        f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{escape(title)}</title>'
    ]
    for item in items:
        parts.append("<item>")
        if item.title:
            parts.append(f"<title>{escape(item.title)}</title>")
        if item.link:
            parts.append(f"<link>{escape(item.link)}</link>")
        if item.guid:
            parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
        if item.summary:
            parts.append(f"<description>{escape(item.summary)}</description>")
        if item.published:
            parts.append(f"<pubDate>{format_datetime(item.published.astimezone(UTC), usegmt=True)}</pubDate>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


RSS_HEADERS = {"Content-Type": "application/rss+xml; charset=utf-8"}


def open_pipeline(
    tmp_path: Path,
    feeds: list[dict[str, Any]],
    *,
    database_url: str | None = None,
    fetch: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    smtp_port: int | None = None,
    webhook_url: str | None = None,
    name: str = "newswatch.yaml",
    clock: Clock = SYSTEM_CLOCK,
) -> Pipeline:
    """A Pipeline on the shipped topics with these feeds; `fetch` keys override the test defaults."""
    document_extra = dict(extra or {})
    if fetch is not None:
        document_extra["fetch"] = {
            "connect_timeout": "2s",
            "read_timeout": "2s",
            "total_timeout": "5s",
            "allow_private_addresses": True,
            **fetch,
        }
    path = write_test_config(
        tmp_path / name,
        database_url=database_url or f"sqlite:///{tmp_path / 'newswatch.db'}",
        feeds=feeds,
        smtp_port=smtp_port,
        webhook_url=webhook_url,
        extra=document_extra,
    )
    return Pipeline.open(load_config(path), clock=clock)
