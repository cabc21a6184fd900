"""Per-topic Atom and JSON Feed of a topic's matches, at a URL whose secret part is the credential."""

from __future__ import annotations

import hmac
import json
from datetime import UTC, datetime
from xml.etree import ElementTree

from starlette.responses import Response
from starlette.routing import Route

from pipeline.console.app import Access, Ctx, route
from pipeline.console.auth import feed_key
from pipeline.console.views import safe_url
from pipeline.store.console import MatchFilters, MatchItem

ATOM = "http://www.w3.org/2005/Atom"
ENTRIES = 50


def _valid(ctx: Ctx) -> str | None:
    """The topic, if the key in the URL is that topic's; otherwise None (and the caller answers 404,
    which says no more than a wrong topic name would)."""
    name = ctx.request.path_params["name"]
    key = ctx.request.path_params["key"]
    if name not in ctx.console.config.topics:
        return None
    return name if hmac.compare_digest(key, feed_key(ctx.console.feed_secret, name)) else None


def _snippet(item: MatchItem) -> str:
    return "".join(str(piece[0]) for piece in item.snippet if piece)


def _iso(value: datetime | None) -> str:
    return (value or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def atom_feed(ctx: Ctx) -> Response:
    name = _valid(ctx)
    if name is None:
        return Response("not found\n", status_code=404, media_type="text/plain")
    items = ctx.console.store.matches(MatchFilters(topic=name), ENTRIES)
    ElementTree.register_namespace("", ATOM)

    def sub(
        parent: ElementTree.Element, tag: str, text: str | None = None, **attrs: str
    ) -> ElementTree.Element:
        element = ElementTree.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    # ElementTree escapes every text and attribute; third-party strings are only ever text here
    # (type="text"), so a reader shows `<script>` as characters and runs nothing.
    feed = ElementTree.Element(f"{{{ATOM}}}feed")
    sub(feed, "id", f"urn:newswatch:topic:{name}")
    sub(feed, "title", f"newswatch: {name}", type="text")
    sub(feed, "updated", _iso(items[0].matched_at if items else None))
    author = sub(feed, "author")
    sub(author, "name", "newswatch")
    for item in items:
        entry = sub(feed, "entry")
        sub(entry, "id", f"urn:newswatch:match:{item.match_id}")
        sub(entry, "title", item.title or "(untitled)", type="text")
        sub(entry, "updated", _iso(item.matched_at))
        if item.published_at:
            sub(entry, "published", _iso(item.published_at))
        link = safe_url(item.url)
        if link:
            sub(entry, "link", rel="alternate", href=link)
        sub(entry, "summary", f"{item.source}: {_snippet(item)}", type="text")
    body = ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)
    return Response(body, media_type="application/atom+xml; charset=utf-8")


def json_feed(ctx: Ctx) -> Response:
    name = _valid(ctx)
    if name is None:
        return Response("not found\n", status_code=404, media_type="text/plain")
    items = ctx.console.store.matches(MatchFilters(topic=name), ENTRIES)
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": f"newswatch: {name}",
        "items": [
            {
                "id": f"urn:newswatch:match:{item.match_id}",
                "title": item.title,
                # content_text, never content_html: readers render HTML, and this text is third-party.
                "content_text": f"{item.source}: {_snippet(item)}",
                "date_published": _iso(item.published_at or item.matched_at),
                **({"url": safe_url(item.url)} if safe_url(item.url) else {}),
            }
            for item in items
        ],
    }
    return Response(
        json.dumps(document, ensure_ascii=False), media_type="application/feed+json; charset=utf-8"
    )


def routes() -> list[Route]:
    return [
        route("/topics/feed/{name}/{key}.atom", atom_feed, Access.FEED_KEY),
        route("/topics/feed/{name}/{key}.json", json_feed, Access.FEED_KEY),
    ]
