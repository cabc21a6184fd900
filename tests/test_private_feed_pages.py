"""A feed the operator allowed on a private network may also fetch the article pages on its own host.

Without this, an intranet feed's articles silently fell back to their summaries: the feed was
trusted, its pages (same host) were refused as private addresses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.support.feeds import RSS_HEADERS, Item, open_pipeline, rss
from tests.support.servers import LocalHTTPServer, Response

PAGE = (
    "<html><head><title>Joint force headquarters</title></head><body><article>"
    "<h1>Joint force headquarters</h1>"
    + "<p>U.S. Forces Japan begins its reorganisation into a joint force headquarters.</p>" * 8
    + "</article></body></html>"
).encode()


def test_pages_on_the_trusted_feeds_own_host_are_fetched_other_hosts_are_not(
    tmp_path: Path, http_server: LocalHTTPServer
) -> None:
    port = http_server.base_url.rsplit(":", 1)[1]
    now = datetime.now(UTC)
    own_page = http_server.url("/story")
    # The same server under another host name: trust is for the feed's host, not its links'.
    other_host = f"http://localhost:{port}/other"
    http_server.add("/story", Response(200, PAGE, {"Content-Type": "text/html; charset=utf-8"}))
    http_server.add("/other", Response(200, PAGE, {"Content-Type": "text/html; charset=utf-8"}))
    http_server.add(
        "/intranet.xml",
        Response(
            200,
            rss(
                [
                    Item("Own host", own_page, "Summary only.", now),
                    Item("Other host", other_host, "Summary only.", now),
                ]
            ),
            RSS_HEADERS,
        ),
    )
    feeds = [{"name": "Intranet", "url": http_server.url("/intranet.xml"), "allow_private_addresses": True}]
    with open_pipeline(tmp_path, feeds, fetch={"allow_private_addresses": False}) as pipeline:
        report = pipeline.run_cycle().feeds[0]

    assert report.error is None and report.new == 2
    assert len(http_server.requests_to("/story")) == 1
    assert not http_server.requests_to("/other")
    assert len(report.entry_errors) == 1
    assert report.entry_errors[0].startswith(f"{other_host}: page fetch failed: blocked_address: ")
