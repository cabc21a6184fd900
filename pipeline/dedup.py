"""Identity of articles: canonical URLs and content keys. Pure functions, no I/O."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit, urlunsplit

import courlan

from pipeline.models import FeedEntry


def canonical_url(url: str) -> str:
    """The key an article is stored under, however a feed spelled its link.

    courlan lowercases the host, drops default ports, sorts the query and removes
    tracking parameters (utm_*, fbclid, ...); the fragment never names a
    different article, so it goes too.
    """
    try:
        normalised = courlan.normalize_url(url.strip())
    except ValueError:
        normalised = url.strip()
    parts = urlsplit(normalised)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def entry_key(entry: FeedEntry, feed_url: str) -> str:
    """A stable key for an entry: its canonical link, or a tag URI for entries without one."""
    if entry.link and urlsplit(entry.link).scheme in ("http", "https"):
        return canonical_url(entry.link)
    identity = entry.guid or f"{entry.title}\n{entry.summary}"
    digest = hashlib.sha256(f"{feed_url}\n{identity}".encode()).hexdigest()[:32]
    return f"urn:newswatch:entry:{digest}"
