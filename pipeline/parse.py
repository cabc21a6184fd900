"""Feed bytes -> ParsedFeed, through feedparser, with entries normalised to FeedEntry."""

from __future__ import annotations

import calendar
import html
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from pipeline.discover import alternate_feed_links, is_html_page
from pipeline.entry_text import primary_language
from pipeline.models import FeedEntry, ParsedFeed


class FeedParseError(Exception):
    """The body is not a feed we can use (not XML, malformed with no entries, or hostile)."""

    def __init__(self, message: str, *, feed_links: list[str] | None = None) -> None:
        super().__init__(message)
        # When the body is an HTML page: the feeds it announces (possibly none). None otherwise.
        self.feed_links = feed_links


def _html_page_error(body: bytes, url: str) -> FeedParseError:
    """A page where a feed was expected (the site's home page, a moved feed now answering with its
    HTML, a login wall). feedparser's own words for it are a line and column in the markup, which
    tell the operator nothing; the feed the page links to tells them what to configure."""
    links = alternate_feed_links(body, url)
    if not links:
        return FeedParseError(
            'not a feed: an HTML page, which links to no feed (no <link rel="alternate" '
            'type="application/rss+xml" or atom+xml)',
            feed_links=[],
        )
    more = f" (and {len(links) - 1} more)" if len(links) > 1 else ""
    return FeedParseError(
        f"not a feed: an HTML page, which links to the feed {links[0]}{more}; "
        f"add that with `newswatch feeds add {links[0]}`",
        feed_links=links,
    )


_NO_CONTENT_TYPE = "no Content-type specified"
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
# The prolog is everything before the root element; entity declarations can only live there.
_ROOT_ELEMENT = re.compile(rb"<[A-Za-z_]")
_ENTITY_DECLARATION = re.compile(
    rb"<!ENTITY\s+(%\s+)?([\w.:-]+)\s+(?:(SYSTEM|PUBLIC)\b|([\"'])(.*?)\4)", re.DOTALL
)
_ENTITY_REFERENCE = re.compile(rb"[&%]([\w.:-]+);")


def check_entity_declarations(body: bytes) -> None:
    """Refuse feeds whose DTD could expand entities (a "billion laughs" bomb) or read external ones.

    feedparser already drops such declarations, but then parses the rest as if nothing happened;
    a feed that declares them is hostile or broken, and the operator should hear that precisely.
    Plain declarations such as `<!ENTITY nbsp "&#160;">` are fine.
    """
    root = _ROOT_ELEMENT.search(body)
    prolog = body[: root.start()] if root else body
    if b"<!ENTITY" not in prolog:
        return
    declared = {match.group(2) for match in _ENTITY_DECLARATION.finditer(prolog)}
    for match in _ENTITY_DECLARATION.finditer(prolog):
        name = match.group(2).decode("ascii", "replace")
        if match.group(3):
            raise FeedParseError(
                f"refused: the feed's DTD declares an external entity {name!r} ({match.group(3).decode()})"
            )
        nested = [ref for ref in _ENTITY_REFERENCE.findall(match.group(5) or b"") if ref in declared]
        if nested:
            raise FeedParseError(
                f"refused: XML entity-expansion bomb: entity {name!r} expands other declared entities "
                f"({', '.join(sorted(ref.decode('ascii', 'replace') for ref in set(nested)))})"
            )


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


def _entry_language(entry: Mapping[str, Any], feed_language: str | None) -> str | None:
    # xml:lang on the entry's own text (Atom), else the feed's <language> (RSS) or xml:lang.
    for key in ("title_detail", "summary_detail"):
        declared = primary_language((entry.get(key) or {}).get("language"))
        if declared:
            return declared
    return feed_language


def normalise_entry(entry: Mapping[str, Any], base_url: str, feed_language: str | None = None) -> FeedEntry:
    return FeedEntry(
        link=_entry_link(entry, base_url),
        title=html_to_text(entry.get("title") or ""),
        summary=_entry_summary(entry),
        published=_entry_datetime(entry),
        author=(html_to_text(entry.get("author") or "") or None),
        guid=(entry.get("id") or None),
        language=_entry_language(entry, feed_language),
    )


def is_empty(entry: FeedEntry) -> bool:
    """Nothing to identify or show (e.g. the stray empty <item/> some feeds nest inside items)."""
    return not (entry.link or entry.title or entry.summary or entry.guid)


def parse_feed(body: bytes, url: str, headers: Mapping[str, str] | None = None) -> ParsedFeed:
    """Parse a fetched feed. Raises FeedParseError when nothing usable comes out."""
    # Imported on the first feed that changed: an all-304 cycle never needs it.
    import feedparser

    check_entity_declarations(body)
    response_headers = {"content-location": url, **(dict(headers) if headers else {})}
    # Summaries become plain text (`html_to_text`), so neither feedparser's sanitiser nor its
    # rewriting of the links inside their markup can change what is kept: a third of the parse,
    # on the corpus's feeds, went to re-parsing markup whose tags are then dropped.
    parsed = feedparser.parse(
        body, response_headers=response_headers, sanitize_html=False, resolve_relative_uris=False
    )
    bozo_reason = str(parsed.get("bozo_exception") or "") if parsed.get("bozo") else None
    if bozo_reason == _NO_CONTENT_TYPE:
        bozo_reason = None  # says nothing about the feed itself: bytes from a file or a bare server
    looks_like_feed = bool(parsed.get("version")) or bool(parsed.entries)
    if not looks_like_feed:
        content_type = {key.lower(): value for key, value in response_headers.items()}.get("content-type")
        if is_html_page(body, content_type):
            raise _html_page_error(body, url)
        reason = bozo_reason or "no RSS, Atom or RDF root element"
        raise FeedParseError(f"not a feed: {reason}")
    feed_language = primary_language(parsed.feed.get("language"))
    normalised = [normalise_entry(entry, url, feed_language) for entry in parsed.entries]
    entries = [entry for entry in normalised if not is_empty(entry)]
    if bozo_reason and not entries:
        raise FeedParseError(f"malformed feed with no entries: {bozo_reason}")
    title = html_to_text(parsed.feed.get("title") or "") or None
    return ParsedFeed(
        title=title, entries=entries, warning=bozo_reason, dropped=len(normalised) - len(entries)
    )
