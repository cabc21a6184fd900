"""Hostile third-party text stays inert: a feed and an article whose name, title, body, author and link
carry script, event-handler and javascript: payloads are shown escaped on every page, in the API and
in both topic feeds (the browser test checks that no script runs)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import feedparser

from pipeline.console.auth import feed_key
from pipeline.store.console import ConsoleStore
from tests.support.console import HOSTILE_AUTHOR, HOSTILE_FEED, HOSTILE_TITLE, seed

TOPIC = "usfj-reorganisation"
# Markup that would execute if any of it reached a page unescaped.
ACTIVE = [
    re.compile(r"<script>alert", re.I),
    re.compile(r"<img[^>]*onerror", re.I),
    # An attribute of a real tag (escaped text has no `<` before it within the same tag).
    re.compile(r"""<[^>]*\s(href|src|action)\s*=\s*["']?\s*javascript:""", re.I),
]


def _inert(text: str, where: str) -> None:
    for pattern in ACTIVE:
        assert not pattern.search(text), (where, pattern.pattern)


def test_hostile_content_is_escaped_everywhere(tmp_path: Path) -> None:
    seeded = seed(tmp_path, f"sqlite:///{tmp_path / 'nw.db'}")
    client = seeded.client("olive")
    key = feed_key(ConsoleStore(seeded.engine).secret("topic-feeds"), TOPIC)
    pages = {
        "/matches": True,
        f"/articles/{seeded.hostile_id}": True,
        f"/topics/{TOPIC}": True,
        # The hostile article is a near miss there (it mentions the command, not a build-up).
        "/topics/japan-defence-buildup/near-misses": True,
        "/topics": False,
        f"/playground?topic={TOPIC}": True,
        "/playground/results?q=%40usfj": True,
        "/search?q=%40usfj": True,
        "/alerts": True,
        "/feeds": False,
        "/feedback/labels.jsonl": False,
    }
    for path, shows_title in pages.items():
        text = client.get(path).text
        _inert(text, path)
        if shows_title and not path.endswith(".jsonl"):
            assert html.escape(HOSTILE_TITLE, quote=False) in text.replace("&#34;", '"').replace(
                "&#39;", "'"
            ), path
    feeds_page = client.get("/feeds").text
    assert "&lt;script&gt;alert(&#39;feed&#39;)&lt;/script&gt; Desk" in feeds_page
    article = client.get(f"/articles/{seeded.hostile_id}").text
    assert "&lt;script&gt;alert(&#39;author&#39;)&lt;/script&gt;" in article
    # The javascript: link is shown as text, never as a link.
    assert 'class="dead-link"' in article

    api = client.get(f"/api/articles/{seeded.hostile_id}").json()
    assert api["title"] == HOSTILE_TITLE and api["author"] == HOSTILE_AUTHOR and api["url"] is None
    found = client.get("/api/search", params={"q": "@usfj"}).json()["items"]
    hostile = next(item for item in found if item["article_id"] == seeded.hostile_id)
    assert hostile["title"] == HOSTILE_TITLE and hostile["url"] is None

    atom = client.get(f"/topics/feed/{TOPIC}/{key}.atom")
    _inert(atom.text, "atom")
    parsed = feedparser.parse(atom.content)
    hostile = next(entry for entry in parsed.entries if "USFJ upgrade" in entry.title)
    # type="text": a reader gets the characters, which it must escape itself; there is no link.
    assert hostile.title_detail.type == "text/plain"
    assert not any(link.get("href", "").startswith("javascript") for link in hostile.get("links", []))
    assert HOSTILE_FEED in hostile.summary or "Desk" in hostile.summary
    json_feed = client.get(f"/topics/feed/{TOPIC}/{key}.json").json()
    item = next(item for item in json_feed["items"] if "USFJ upgrade" in item["title"])
    assert "url" not in item and "content_html" not in item
