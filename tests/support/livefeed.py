"""A feed that tests publish to while newswatch runs, with an article page per story."""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tests.support.feeds import RSS_HEADERS, Item, rss
from tests.support.servers import LocalHTTPServer, RecordedRequest, Response


@dataclass
class Story:
    """An article the test publishes: its page goes up at /articles/<slug> and it joins the feed."""

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
        self.items: list[Story] = []
        self._lock = threading.Lock()
        self.url = server.add(path, self._serve)

    def publish(self, item: Story) -> str:
        page_url = self.server.add(
            f"/articles/{item.slug}",
            Response(200, article_page(item.title, item.body), {"Content-Type": "text/html; charset=utf-8"}),
        )
        with self._lock:
            self.items.append(item)
        return page_url

    def _serve(self, _request: RecordedRequest) -> Response:
        with self._lock:
            stories = list(reversed(self.items))
        items = [
            Item(
                title=story.title,
                link=self.server.url(f"/articles/{story.slug}"),
                summary=story.body.split("\n")[0],
                published=story.published,
                guid=story.slug,
            )
            for story in stories
        ]
        return Response(200, rss(items, self.title), RSS_HEADERS)
