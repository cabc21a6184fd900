"""Feeds and article pages built on the fly, for tests that publish items while newswatch runs."""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

from tests.support.servers import LocalHTTPServer, RecordedRequest, Response


@dataclass
class Item:
    slug: str
    title: str
    body: str
    published: datetime = field(default_factory=lambda: datetime.now(UTC))


def article_page(title: str, body: str) -> bytes:
    paragraphs = "\n".join(f"<p>{html.escape(paragraph)}</p>" for paragraph in body.split("\n\n"))
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}</title></head>
<body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>{html.escape(title)}</h1>{paragraphs}</article>
<footer>&copy; Test News</footer></body></html>""".encode()


class LiveFeed:
    """An RSS feed on a LocalHTTPServer whose items tests can add while newswatch polls it."""

    def __init__(
        self, server: LocalHTTPServer, path: str = "/live.xml", title: str = "Live test feed"
    ) -> None:
        self.server = server
        self.path = path
        self.title = title
        self.items: list[Item] = []
        self._lock = threading.Lock()
        self.url = server.add(path, self._serve)

    def publish(self, item: Item) -> str:
        page_url = self.server.add(
            f"/articles/{item.slug}",
            Response(200, article_page(item.title, item.body), {"Content-Type": "text/html; charset=utf-8"}),
        )
        with self._lock:
            self.items.append(item)
        return page_url

    def _serve(self, _request: RecordedRequest) -> Response:
        with self._lock:
            items = list(reversed(self.items))
        entries = "".join(
            f"<item><title>{html.escape(item.title)}</title>"
            f"<link>{self.server.url('/articles/' + item.slug)}</link>"
            f"<guid>{item.slug}</guid><pubDate>{format_datetime(item.published)}</pubDate>"
            f"<description>{html.escape(item.body.split(chr(10))[0])}</description></item>"
            for item in items
        )
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>{html.escape(self.title)}</title><link>{self.server.base_url}</link>"
            f"<description>test</description>{entries}</channel></rss>"
        )
        return Response(200, body.encode(), {"Content-Type": "application/rss+xml; charset=utf-8"})
