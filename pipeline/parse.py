"""Feed bytes -> ParsedFeed, through feedparser, with entries normalised to FeedEntry."""

from __future__ import annotations

import calendar
import html
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser

from pipeline.models import FeedEntry, ParsedFeed


class FeedParseError(Exception):
    """The body is not a feed we can use (not XML, or malformed with no entries)."""


_NO_CONTENT_TYPE = "no Content-type specified"
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def html_to_text(fragment: str) -> str:
    """Feed summaries are HTML fragments; matching and fallbacks need their plain text."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", fragment))).strip()


def _entry_datetime(entry: Mapping[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    return None


def _entry_link(entry: Mapping[str, Any], base_url: str) -> str | None:
    link = entry.get("link")
    if not link:
        # Some feeds only give a permalink guid; use it when it is a URL.
        guid = entry.get("id") or ""
        if guid.startswith(("http://", "https://")) and entry.get("guidislink", True):
            link = guid
    return urljoin(base_url, link.strip()) if link else None


def _entry_summary(entry: Mapping[str, Any]) -> str:
    for content in entry.get("content") or []:
        value = content.get("value")
        if value:
            return html_to_text(value)
    return html_to_text(entry.get("summary") or entry.get("description") or "")


def normalise_entry(entry: Mapping[str, Any], base_url: str) -> FeedEntry:
    return FeedEntry(
        link=_entry_link(entry, base_url),
        title=html_to_text(entry.get("title") or ""),
        summary=_entry_summary(entry),
        published=_entry_datetime(entry),
        author=(entry.get("author") or None),
        guid=(entry.get("id") or None),
    )


def parse_feed(body: bytes, url: str, headers: Mapping[str, str] | None = None) -> ParsedFeed:
    """Parse a fetched feed. Raises FeedParseError when nothing usable comes out."""
    response_headers = {"content-location": url, **(dict(headers) if headers else {})}
    parsed = feedparser.parse(body, response_headers=response_headers, sanitize_html=False)
    bozo_reason = str(parsed.get("bozo_exception") or "") if parsed.get("bozo") else None
    if bozo_reason == _NO_CONTENT_TYPE:
        bozo_reason = None  # says nothing about the feed itself: bytes from a file or a bare server
    looks_like_feed = bool(parsed.get("version")) or bool(parsed.entries)
    if not looks_like_feed:
        reason = bozo_reason or "no RSS, Atom or RDF root element"
        raise FeedParseError(f"not a feed: {reason}")
    entries = [normalise_entry(entry, url) for entry in parsed.entries]
    if bozo_reason and not entries:
        raise FeedParseError(f"malformed feed with no entries: {bozo_reason}")
    title = html_to_text(parsed.feed.get("title") or "") or None
    return ParsedFeed(title=title, entries=entries, warning=bozo_reason)
