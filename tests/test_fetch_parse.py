"""Fetch and parse against a real local HTTP server."""

from __future__ import annotations

import gzip

import pytest

from pipeline.config import FetchConfig
from pipeline.fetch import Fetcher, FetchLimits
from pipeline.models import ConditionalState, FetchErrorKind
from pipeline.parse import FeedParseError, parse_feed
from tests.support.servers import FIXTURES, LocalHTTPServer, RecordedRequest, Response

LIMITS = FetchLimits.from_config(
    FetchConfig(
        connect_timeout=2,
        read_timeout=2,
        total_timeout=5,
        max_bytes=1000,
        max_redirects=3,
        allow_private_addresses=True,
    )
)


@pytest.fixture
def fetcher():
    with Fetcher(LIMITS) as instance:
        yield instance


def test_ok_body_and_headers(http_server: LocalHTTPServer, fetcher: Fetcher) -> None:
    url = http_server.add("/a", Response(200, b"hello", {"ETag": '"v1"'}))
    result = fetcher.fetch(url)
    assert result.ok and result.body == b"hello"
    assert result.validators == ConditionalState(etag='"v1"', last_modified=None)
    assert http_server.requests[0].headers["user-agent"].startswith("newswatch/")


def test_conditional_get_sends_validators(http_server: LocalHTTPServer, fetcher: Fetcher) -> None:
    def handler(request: RecordedRequest) -> Response:
        if request.headers.get("if-none-match") == '"v1"':
            return Response(304)
        return Response(200, b"body", {"ETag": '"v1"'})

    url = http_server.add("/c", handler)
    first = fetcher.fetch(url)
    second = fetcher.fetch(url, first.validators)
    assert second.not_modified and not second.ok and second.error is None


def test_http_error_status(http_server: LocalHTTPServer, fetcher: Fetcher) -> None:
    result = fetcher.fetch(http_server.url("/nothing"))
    assert result.error is not None and result.error.kind is FetchErrorKind.HTTP_STATUS
    assert str(result.error) == "http_status: HTTP 404 Not Found"


def test_size_cap_declared_and_streamed(http_server: LocalHTTPServer, fetcher: Fetcher) -> None:
    declared = fetcher.fetch(http_server.add("/big", Response(200, b"x" * 5000)))
    assert declared.error is not None and declared.error.kind is FetchErrorKind.TOO_LARGE
    # A small gzip body that inflates past the cap is stopped too.
    bomb = gzip.compress(b"\0" * 200_000)
    result = fetcher.fetch(http_server.add("/bomb", Response(200, bomb, {"Content-Encoding": "gzip"})))
    assert result.error is not None and result.error.kind is FetchErrorKind.TOO_LARGE


def test_redirects_followed_and_counted(http_server: LocalHTTPServer, fetcher: Fetcher) -> None:
    http_server.add("/old", Response(301, headers={"Location": "/new"}))
    http_server.add("/new", Response(200, b"moved"))
    result = fetcher.fetch(http_server.url("/old"))
    assert result.ok and result.final_url == http_server.url("/new") and result.permanent_redirect
    http_server.add("/loop-a", Response(302, headers={"Location": "/loop-b"}))
    http_server.add("/loop-b", Response(302, headers={"Location": "/loop-a"}))
    looped = fetcher.fetch(http_server.url("/loop-a"))
    assert looped.error is not None and looped.error.kind is FetchErrorKind.REDIRECT_LOOP
    assert str(looped.error) == (
        f"redirect_loop: redirect loop: {http_server.url('/loop-a')} -> {http_server.url('/loop-b')} "
        f"-> {http_server.url('/loop-a')}"
    )
    for hop in range(6):
        http_server.add(f"/chain{hop}", Response(302, headers={"Location": f"/chain{hop + 1}"}))
    chained = fetcher.fetch(http_server.url("/chain0"))
    assert chained.error is not None and chained.error.kind is FetchErrorKind.TOO_MANY_REDIRECTS


def test_timeout_and_refused_connection(http_server: LocalHTTPServer, fetcher: Fetcher) -> None:
    slow = fetcher.fetch(http_server.add("/slow", Response(200, b"late", delay=3)))
    assert slow.error is not None and slow.error.kind is FetchErrorKind.TIMEOUT
    refused = fetcher.fetch("http://127.0.0.1:9/")
    assert refused.error is not None and refused.error.kind is FetchErrorKind.CONNECT


@pytest.mark.parametrize(
    "url", ["ftp://example.org/feed", "file:///etc/passwd", "javascript:alert(1)", "http://"]
)
def test_only_http_urls(fetcher: Fetcher, url: str) -> None:
    result = fetcher.fetch(url)
    assert result.error is not None and result.error.kind is FetchErrorKind.INVALID_URL


def test_parse_fixture_feed() -> None:
    body = (FIXTURES / "feeds" / "pacific-security-desk.xml").read_bytes()
    parsed = parse_feed(body, "http://fixtures.newswatch.test/feeds/pacific-security-desk.xml")
    assert parsed.title == "Pacific Security Desk – Latest"
    assert parsed.warning is None
    first = parsed.entries[0]
    assert first.title.startswith("U.S. and Japan Move to Next Phase")
    assert first.published is not None and first.published.isoformat() == "2025-10-29T14:20:00+00:00"
    assert first.author == "Pacific Security Desk staff"
    assert first.summary.startswith("U.S. War Secretary Pete Hegseth announced")
    assert "<p>" not in first.summary


def test_relative_links_resolve_against_the_feed_url() -> None:
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
    <item><title>a</title><link>/news/a</link></item></channel></rss>"""
    parsed = parse_feed(body, "https://example.org/feeds/rss.xml")
    assert parsed.entries[0].link == "https://example.org/news/a"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html><body>Maintenance</body></html>", "not a feed"),
        (b"", "not a feed"),
        (b"\x00\x01binary", "not a feed"),
    ],
)
def test_unusable_bodies_raise_with_reason(body: bytes, reason: str) -> None:
    with pytest.raises(FeedParseError, match=reason):
        parse_feed(body, "https://example.org/feed")


def test_malformed_feed_with_entries_is_used_with_a_warning() -> None:
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t &nbsp; x</title>
    <item><title>a</title><link>https://example.org/a</link></item></channel></rss>"""
    parsed = parse_feed(body, "https://example.org/feed")
    assert parsed.entries and parsed.warning


def test_entries_carry_the_language_their_feed_declares() -> None:
    rss = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>NHK</title><language>ja-JP</language>'
        b"<item><title>t</title><link>https://example.org/a</link><description>s</description></item>"
        b"</channel></rss>"
    )
    assert parse_feed(rss, "https://example.org/feed").entries[0].language == "ja"
    atom = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-GB"><title>x</title>'
        b'<entry><title>t</title><link href="https://example.org/b"/><summary>s</summary></entry>'
        b'<entry xml:lang="fr"><title>t</title><link href="https://example.org/c"/></entry></feed>'
    )
    assert [entry.language for entry in parse_feed(atom, "https://example.org/feed").entries] == ["en", "fr"]
    undeclared = rss.replace(b"<language>ja-JP</language>", b"")
    assert parse_feed(undeclared, "https://example.org/feed").entries[0].language is None
