"""Feed autodiscovery: is this body an HTML page, and which feeds does it announce?

Pure (bytes in, URLs out; standard library only) so that both `newswatch feeds add` (a page's URL
leads to its feed) and parse.py (a configured feed URL that serves a page says which feed it
meant) ask the same code.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml")
# How far into a body an HTML page shows itself: a doctype, comments and whitespace come first.
_SNIFF_BYTES = 1024
_HTML_START = re.compile(
    rb"^(?:\s|<!--.*?-->|<\?xml[^>]*\?>)*<(?:!doctype\s+html|html|head|body)\b", re.IGNORECASE | re.DOTALL
)


class _AlternateLinks(HTMLParser):
    """Collects `<link rel="alternate" type="application/rss+xml" href=...>` from a page's markup."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link":
            return
        attributes = {name.lower(): value or "" for name, value in attrs}
        rel = attributes.get("rel", "").lower().split()
        kind = attributes.get("type", "").lower().split(";")[0].strip()
        if "alternate" in rel and kind in FEED_TYPES and attributes.get("href"):
            self.links.append((attributes["href"], attributes.get("title") or None))


def alternate_feed_links(page: bytes, base_url: str) -> list[str]:
    """The feed URLs a page announces, absolute, in page order, each once."""
    parser = _AlternateLinks()
    parser.feed(page.decode("utf-8", errors="replace"))
    links = [urljoin(base_url, href.strip()) for href, _title in parser.links]
    return list(dict.fromkeys(links))


def is_html_page(body: bytes, content_type: str | None = None) -> bool:
    """An HTML document rather than a feed: served as text/html or XHTML, or starting like one."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type in ("text/html", "application/xhtml+xml"):
        return True
    return bool(_HTML_START.match(body[:_SNIFF_BYTES].lstrip(b"\xef\xbb\xbf")))
