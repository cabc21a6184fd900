"""A real local HTTP server that misbehaves on purpose, polled in one cycle with good feeds.

Every misbehaviour ends as a precise error on its own feed (stored in its row and logged), never a
crash, while the good feeds of the same cycle are fetched and stored; the second cycle shows the
conditional GET, redirect, 410 and Retry-After handling.
"""

from __future__ import annotations

import gzip
import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import brotli
import pytest
from sqlalchemy import select

from pipeline.cycle import Pipeline
from pipeline.models import FeedState
from pipeline.store.tables import ArticleRow
from tests.support.feeds import RSS_HEADERS, Item, open_pipeline, rss
from tests.support.servers import LocalHTTPServer, RecordedRequest, Response

MAX_BYTES = 100_000
NOW = datetime.now(UTC).replace(microsecond=0)


def items(prefix: str, count: int = 2) -> list[Item]:
    return [
        Item(
            title=f"{prefix} story {index}",
            link=f"https://news.example.org/{prefix}/{index}",
            summary=f"Summary of {prefix} story {index}.",
            published=NOW - timedelta(hours=index),
        )
        for index in range(count)
    ]


def entity_bomb() -> bytes:
    declarations = ['<!ENTITY lol "lol">']
    for level in range(1, 10):
        declarations.append(f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">'.replace("&lol0;", "&lol;"))
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [\n' + "\n".join(declarations) + "\n]>\n"
        '<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>'
        "<link>https://news.example.org/lol</link></item></channel></rss>"
    ).encode()


def etag_feed(body: bytes, etag: str):
    def handler(request: RecordedRequest) -> Response:
        if request.headers.get("if-none-match") == etag:
            return Response(304, headers={"ETag": etag})
        return Response(200, body, {**RSS_HEADERS, "ETag": etag})

    return handler


def last_modified_feed(body: bytes, stamp: str):
    def handler(request: RecordedRequest) -> Response:
        if request.headers.get("if-modified-since") == stamp:
            return Response(304)
        return Response(200, body, {**RSS_HEADERS, "Last-Modified": stamp})

    return handler


def states(pipeline: Pipeline) -> dict[str, FeedState]:
    feeds = [(feed.url, feed.name) for feed in pipeline.config.feeds]
    return {state.name: state for state in pipeline.store.feed_states(feeds, register=False).values()}


@pytest.mark.slow
def test_every_misbehaviour_is_a_precise_feed_error_while_good_feeds_succeed(
    tmp_path: Path, database_url: str, http_server: LocalHTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    server = http_server
    url = server.url
    modified = format_datetime(NOW - timedelta(days=1), usegmt=True)
    # Retry-After as an HTTP date, two hours from now (now: when the test runs, not when it was imported).
    retry_until = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    retry_date = format_datetime(retry_until, usegmt=True)
    huge = b"<rss>" + b"x" * (MAX_BYTES + 10)
    routes: dict[str, Response | object] = {
        "/etag.xml": etag_feed(rss(items("etag")), '"v1"'),
        "/last-modified.xml": last_modified_feed(rss(items("lm")), modified),
        "/moved.xml": Response(301, headers={"Location": "/new-home.xml"}),
        "/new-home.xml": Response(200, rss(items("moved")), RSS_HEADERS),
        "/temporary.xml": Response(302, headers={"Location": "/temporary-target.xml"}),
        "/temporary-target.xml": Response(200, rss(items("temp")), RSS_HEADERS),
        "/gone.xml": Response(410, b"gone"),
        "/limited.xml": Response(429, b"slow down", {"Retry-After": "120"}),
        "/unavailable.xml": Response(503, b"maintenance", {"Retry-After": retry_date}),
        "/error.xml": Response(500, b"oops"),
        "/huge-declared.xml": Response(200, huge, RSS_HEADERS),
        "/huge-streamed.xml": Response(
            raw=True, body=b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n" + huge
        ),
        "/trickle-body.xml": Response(200, rss(items("slow")), RSS_HEADERS, trickle=0.2, trickle_bytes=20),
        "/trickle-headers.xml": Response(
            raw=True,
            body=b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nX-Padding: " + b"a" * 500,
            trickle=0.1,
            trickle_bytes=2,
        ),
        "/loop-a.xml": Response(302, headers={"Location": "/loop-b.xml"}),
        "/loop-b.xml": Response(302, headers={"Location": "/loop-a.xml"}),
        "/gzip-bomb.xml": Response(
            200, gzip.compress(b" " * 30_000_000), {**RSS_HEADERS, "Content-Encoding": "gzip"}
        ),
        "/brotli-bomb.xml": Response(
            200, brotli.compress(b" " * 30_000_000, quality=5), {**RSS_HEADERS, "Content-Encoding": "br"}
        ),
        "/not-xml.xml": Response(
            200, b"<html><body>Service maintenance</body></html>", {"Content-Type": "text/html"}
        ),
        "/entity-bomb.xml": Response(200, entity_bomb(), RSS_HEADERS),
        "/to-ftp.xml": Response(302, headers={"Location": "ftp://files.example.org/feed.xml"}),
    }
    for path, response in routes.items():
        server.add(path, response)  # type: ignore[arg-type]
    names = {
        "ETag": "/etag.xml",
        "Last-Modified": "/last-modified.xml",
        "Moved": "/moved.xml",
        "Temporary": "/temporary.xml",
        "Gone": "/gone.xml",
        "Rate limited": "/limited.xml",
        "Unavailable": "/unavailable.xml",
        "Server error": "/error.xml",
        "Huge (declared)": "/huge-declared.xml",
        "Huge (streamed)": "/huge-streamed.xml",
        "Trickling body": "/trickle-body.xml",
        "Trickling headers": "/trickle-headers.xml",
        "Redirect loop": "/loop-a.xml",
        "Gzip bomb": "/gzip-bomb.xml",
        "Brotli bomb": "/brotli-bomb.xml",
        "Not XML": "/not-xml.xml",
        "Entity bomb": "/entity-bomb.xml",
        "Redirect to ftp": "/to-ftp.xml",
    }
    feeds = [{"name": name, "url": url(path)} for name, path in names.items()]
    fetch = {"read_timeout": "1s", "total_timeout": "1s", "max_bytes": MAX_BYTES, "fetch_pages": False}
    over_cap = f"body exceeds the {MAX_BYTES}-byte limit"
    too_slow = "took longer than the 1s total limit"
    loop = f"{url('/loop-a.xml')} -> {url('/loop-b.xml')} -> {url('/loop-a.xml')}"
    expected_errors = {
        "Gone": "gone: HTTP 410 Gone: the publisher removed it",
        "Rate limited": "retry_later: HTTP 429 Too Many Requests; Retry-After 120s",
        "Unavailable": "retry_later: HTTP 503 Service Unavailable; Retry-After 7",
        "Server error": "http_status: HTTP 500 Internal Server Error",
        "Huge (declared)": f"too_large: {url('/huge-declared.xml')} declares {len(huge)} bytes, limit is ",
        "Huge (streamed)": f"too_large: {url('/huge-streamed.xml')} {over_cap}",
        "Trickling body": f"timeout: {url('/trickle-body.xml')} {too_slow}",
        "Trickling headers": f"timeout: {url('/trickle-headers.xml')} {too_slow}",
        "Redirect loop": f"redirect_loop: redirect loop: {loop}",
        "Gzip bomb": f"too_large: {url('/gzip-bomb.xml')} {over_cap} after decompression",
        "Brotli bomb": f"too_large: {url('/brotli-bomb.xml')} {over_cap} after decompression",
        "Not XML": "parse: not a feed",
        "Entity bomb": "parse: refused: XML entity-expansion bomb: entity 'lol1' expands other declared",
        "Redirect to ftp": "invalid_url: not an http(s) URL: 'ftp://files.example.org/feed.xml'",
    }

    with (
        open_pipeline(tmp_path, feeds, database_url=database_url, fetch=fetch) as pipeline,
        caplog.at_level(logging.INFO),
    ):
        first = {report.feed: report for report in pipeline.run_cycle().feeds}
        for name, message in expected_errors.items():
            assert first[name].error is not None, name
            assert first[name].error.startswith(message), (name, first[name].error)
        for name in ("ETag", "Last-Modified", "Moved", "Temporary"):
            assert first[name].error is None and first[name].entries == 2 and first[name].new == 2, name
        stored = states(pipeline)
        for name, message in expected_errors.items():
            assert stored[name].health.last_error is not None
            assert stored[name].health.last_error.startswith(message)
            assert stored[name].health.consecutive_failures == 1
        assert stored["Trickling body"].health.last_error_kind == "timeout"
        assert stored["Gzip bomb"].health.last_error_kind == "too_large"
        assert stored["Entity bomb"].health.last_error_kind == "parse"
        assert stored["ETag"].conditional.etag == '"v1"'
        assert stored["Last-Modified"].conditional.last_modified == modified
        # 301: the new address is recorded (the configured URL stays the identity) and logged.
        assert stored["Moved"].url == url("/moved.xml")
        assert stored["Moved"].health.moved_to == url("/new-home.xml")
        assert f"answered with a permanent redirect to {url('/new-home.xml')}" in caplog.text
        assert stored["Temporary"].health.moved_to is None
        # 410: disabled. 429/503: not polled before the server's Retry-After.
        assert stored["Gone"].health.disabled_at is not None
        limited_until = stored["Rate limited"].health.next_poll_at
        assert limited_until is not None
        assert timedelta(seconds=115) < limited_until - stored["Rate limited"].health.last_polled_at
        assert limited_until - stored["Rate limited"].health.last_polled_at < timedelta(seconds=125)
        unavailable_until = stored["Unavailable"].health.next_poll_at
        assert unavailable_until is not None and abs(unavailable_until - retry_until).total_seconds() < 5

        server.requests.clear()
        second = {report.feed: report for report in pipeline.run_cycle().feeds}

    # Conditional GET: the validators went back to the server, which answered 304 (nothing parsed).
    assert second["ETag"].not_modified and second["ETag"].entries == 0
    assert server.requests_to("/etag.xml")[0].headers["if-none-match"] == '"v1"'
    assert second["Last-Modified"].not_modified
    assert server.requests_to("/last-modified.xml")[0].headers["if-modified-since"] == modified
    # The moved feed is polled at its new address only.
    assert not server.requests_to("/moved.xml") and server.requests_to("/new-home.xml")
    assert second["Moved"].error is None
    # The gone and rate-limited feeds were not asked again.
    assert second["Gone"].skipped and second["Gone"].skipped.startswith("disabled since")
    assert not server.requests_to("/gone.xml")
    assert (
        second["Rate limited"].skipped and "the server asked to wait until" in second["Rate limited"].skipped
    )
    assert not server.requests_to("/limited.xml") and not server.requests_to("/unavailable.xml")
    # The others fail again, precisely, and count it.
    assert second["Server error"].error == "http_status: HTTP 500 Internal Server Error"


def test_item_links_to_internal_addresses_are_refused_by_default(
    tmp_path: Path, database_url: str, http_server: LocalHTTPServer
) -> None:
    """Feeds are third-party content: their links must not reach cloud metadata, localhost or
    private ranges. The refusal is decided on the resolved address before any connection, also
    after a redirect; each refused page is a per-article error and the summary is used."""
    port = http_server.base_url.rsplit(":", 1)[1]
    internal_links = [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://10.0.0.1/admin",
        "http://192.168.1.1/",
        f"http://localhost:{port}/admin",
        # (http://127.0.0.1:{port}/admin is the feed's own host, which it is allowed: see
        # tests/test_private_feed_pages.py; the Plain loopback feed below shows loopback refused.)
        f"http://[::ffff:127.0.0.1]:{port}/admin",
        f"http://0.0.0.0:{port}/admin",
    ]
    feed_items = [
        Item(title=f"Item {index}", link=link, summary=f"Summary {index} " * 20, published=NOW)
        for index, link in enumerate(internal_links)
    ]
    http_server.add("/intranet.xml", Response(200, rss(feed_items), RSS_HEADERS))
    http_server.add(
        "/redirecting.xml", Response(302, headers={"Location": "http://169.254.169.254/feed.xml"})
    )
    http_server.add("/plain.xml", Response(200, rss(items("plain")), RSS_HEADERS))
    feeds = [
        # The operator vouches for the feed's own host, not for what the feed links to.
        {"name": "Intranet", "url": http_server.url("/intranet.xml"), "allow_private_addresses": True},
        {"name": "Redirecting", "url": http_server.url("/redirecting.xml"), "allow_private_addresses": True},
        # No allowance at all: the default refuses even the feed.
        {"name": "Plain loopback", "url": http_server.url("/plain.xml")},
    ]
    with open_pipeline(
        tmp_path, feeds, database_url=database_url, fetch={"allow_private_addresses": False}
    ) as pipeline:
        reports = {report.feed: report for report in pipeline.run_cycle().feeds}
        stored = states(pipeline)

    intranet = reports["Intranet"]
    assert intranet.error is None and intranet.new == len(internal_links)
    assert len(intranet.entry_errors) == len(internal_links)
    reasons = {
        "169.254.169.254": "169.254.169.254 is a link-local address",
        "10.0.0.1": "10.0.0.1 is a private address",
        "192.168.1.1": "192.168.1.1 is a private address",
        "localhost": f"localhost resolves to {'127.0.0.1'}",
        "[::ffff:127.0.0.1]": "::ffff:127.0.0.1 is a loopback address",
        "0.0.0.0": "0.0.0.0 is an unspecified address",
    }
    for link, error in zip(internal_links, intranet.entry_errors, strict=True):
        assert error.startswith(f"{link}: page fetch failed: blocked_address: {link}: refused: ")
        assert "set fetch.allow_private_addresses: true to allow" in error
        assert any(key in link and reason in error for key, reason in reasons.items()), error
    # Nothing reached the server's /admin: the check happens before connecting.
    assert not http_server.requests_to("/admin")
    assert reports["Redirecting"].error == (
        "blocked_address: http://169.254.169.254/feed.xml: refused: 169.254.169.254 is a link-local address; "
        "third-party links may not reach internal networks (set fetch.allow_private_addresses: true to allow)"
    )
    assert reports["Plain loopback"].error is not None
    assert reports["Plain loopback"].error.startswith("blocked_address: ")
    assert "127.0.0.1 is a loopback address" in reports["Plain loopback"].error
    assert not http_server.requests_to("/plain.xml")
    assert stored["Plain loopback"].health.last_error_kind == "blocked_address"


def test_entries_without_links_dates_or_titles_are_handled(
    tmp_path: Path, database_url: str, http_server: LocalHTTPServer
) -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Odd feed</title>'
        b'<item><guid isPermaLink="false">odd-1</guid><title>No link here</title>'
        b"<description>An item with a title and a guid but no link.</description></item>"
        b"<item><link>" + http_server.url("/odd/no-date").encode() + b"</link><title>No date</title>"
        b"<description>An item without a date.</description></item>"
        b"<item><link>" + http_server.url("/odd/no-title").encode() + b"</link>"
        b"<description>The first sentence stands in for the title. More text follows.</description></item>"
        b"<item></item>"
        b"</channel></rss>"
    )
    page = b"<html><head><title>t</title></head><body><p>short</p></body></html>"
    http_server.add("/odd.xml", Response(200, body, RSS_HEADERS))
    http_server.add("/odd/no-date", Response(200, page, {"Content-Type": "text/html"}))
    http_server.add("/odd/no-title", Response(200, page, {"Content-Type": "text/html"}))
    feeds = [{"name": "Odd", "url": http_server.url("/odd.xml")}]
    with open_pipeline(tmp_path, feeds, database_url=database_url) as pipeline:
        report = pipeline.run_cycle().feeds[0]
        with pipeline.store.session() as session:
            rows = {row.title: row for row in session.scalars(select(ArticleRow))}
    assert report.error is None and report.entries == 3 and report.new == 3 and not report.entry_errors
    assert rows["No link here"].canonical_url.startswith("urn:newswatch:entry:")
    assert rows["No date"].published_at is None
    assert "The first sentence stands in for the title." in rows
    # Only the two linked pages were fetched; the link-less entry was not.
    assert {request.path for request in http_server.requests} == {"/odd.xml", "/odd/no-date", "/odd/no-title"}
