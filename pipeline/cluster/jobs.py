"""Stage values as job arguments (JSON) and back, and the lock names that keep jobs apart."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pipeline.models import FeedEntry


def entry_arguments(entry: FeedEntry) -> dict[str, Any]:
    return {
        "link": entry.link,
        "title": entry.title,
        "summary": entry.summary,
        "published": entry.published.isoformat() if entry.published else None,
        "author": entry.author,
        "guid": entry.guid,
        "language": entry.language,
    }


def entry_from_arguments(arguments: dict[str, Any]) -> FeedEntry:
    published = arguments.get("published")
    return FeedEntry(
        link=arguments.get("link"),
        title=arguments["title"],
        summary=arguments["summary"],
        published=datetime.fromisoformat(published) if published else None,
        author=arguments.get("author"),
        guid=arguments.get("guid"),
        language=arguments.get("language"),
    )


def host_lock(url: str | None) -> str | None:
    """One lock per host and port: jobs holding it run one at a time across the whole cluster, so a
    publisher never sees more than one request from us at once. None for a URL without a host."""
    if not url:
        return None
    parts = urlsplit(url)
    if not parts.hostname:
        return None
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    return f"host:{parts.hostname.lower()}:{port}"


def poll_lock(feed_url: str) -> str:
    """At most one poll of a feed waits in the queue: a second sweep's defer is refused."""
    return f"poll:{feed_url}"


def entry_lock(key: str) -> str:
    """At most one job per item waits in the queue, however many polls saw it."""
    return f"entry:{key}"
