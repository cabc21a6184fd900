"""A configured feed URL that answers with an HTML page: the error says so and names the feed the
page links to, instead of feedparser's "<unknown>:2:0". Pure cases, then the real cycle over HTTP."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.discover import alternate_feed_links, is_html_page
from pipeline.parse import FeedParseError, parse_feed
from tests.support.configs import write_test_config
from tests.support.servers import LocalHTTPServer, Response

PAGE_WITH_FEEDS = b"""<!DOCTYPE html>
<html><head><title>Pacific news</title>
<link rel="stylesheet" href="/s.css">
<link rel="alternate" type="application/rss+xml" title="RSS" href="/feeds/latest.xml">
<link rel="alternate" type="application/atom+xml; charset=utf-8" href="https://other.example.org/atom">
<link rel="alternate" type="application/rss+xml" href="/feeds/latest.xml">
</head><body><p>news</p></body></html>"""
PAGE_WITHOUT_FEEDS = b"<!-- cms -->\n<html><head><title>Log in</title></head><body>Log in</body></html>"


def test_a_page_announces_its_feeds_absolute_in_order_each_once() -> None:
    assert alternate_feed_links(PAGE_WITH_FEEDS, "https://example.org/news/") == [
        "https://example.org/feeds/latest.xml",
        "https://other.example.org/atom",
    ]


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (PAGE_WITH_FEEDS, None, True),
        (PAGE_WITHOUT_FEEDS, None, True),
        (b"\xef\xbb\xbf  <HTML lang=en><body>x</body></HTML>", None, True),
        (b"Service unavailable", "text/html; charset=utf-8", True),
        (b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>', "application/rss+xml", False),
        (b"\x00\x01binary", "application/octet-stream", False),
    ],
)
def test_html_pages_are_told_from_feeds(body: bytes, content_type: str | None, expected: bool) -> None:
    assert is_html_page(body, content_type) is expected


def test_a_page_in_place_of_a_feed_names_the_feed_it_links_to() -> None:
    with pytest.raises(FeedParseError) as caught:
        parse_feed(PAGE_WITH_FEEDS, "https://example.org/news/", {"Content-Type": "text/html"})
    assert str(caught.value) == (
        "not a feed: an HTML page, which links to the feed https://example.org/feeds/latest.xml "
        "(and 1 more); add that with `newswatch feeds add https://example.org/feeds/latest.xml`"
    )
    assert caught.value.feed_links == [
        "https://example.org/feeds/latest.xml",
        "https://other.example.org/atom",
    ]


def test_a_page_without_feed_links_says_it_is_a_page() -> None:
    with pytest.raises(FeedParseError) as caught:
        parse_feed(PAGE_WITHOUT_FEEDS, "https://example.org/rss")
    assert str(caught.value).startswith("not a feed: an HTML page, which links to no feed")
    assert "<unknown>" not in str(caught.value) and caught.value.feed_links == []


def test_the_cycle_and_feeds_report_the_linked_feed(tmp_path: Path, http_server: LocalHTTPServer) -> None:
    page_url = http_server.add("/news/", Response(200, PAGE_WITH_FEEDS, {"Content-Type": "text/html"}))
    config = write_test_config(
        tmp_path / "newswatch.yaml",
        database_url=f"sqlite:///{tmp_path / 'newswatch.db'}",
        feeds=[{"name": "Pacific news", "url": page_url}],
    )
    out = io.StringIO()
    assert main(["once", "--config", str(config)], out=out) == 1  # its only feed failed
    feed_url = http_server.url("/feeds/latest.xml")
    suggestion = f"an HTML page, which links to the feed {feed_url} (and 1 more); add that with `newswatch"
    assert suggestion in out.getvalue()
    out = io.StringIO()
    # The stored error, as `newswatch feeds` shows it (one failure is not yet "failing": exit 0).
    main(["feeds", "--json", "--config", str(config)], out=out)
    assert suggestion in out.getvalue()
