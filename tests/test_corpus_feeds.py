"""Every real third-party feed in the shared corpus: none crashes the parser stage, and the ones
that carry entries yield them, alone and served over HTTP in one cycle."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.parse import FeedParseError, parse_feed
from tests.support.corpus import corpus_files, missing_reason
from tests.support.feeds import open_pipeline
from tests.support.servers import LocalHTTPServer, Response

FEEDS = corpus_files("feeds")
# An opening <item> or <entry> tag that is not self-closing (some feeds nest empty <item/>s).
ITEM_TAG = re.compile(rb"<(?:item|entry)(?:\s[^>]*[^/])?>")


def carries_entries(body: bytes) -> bool:
    """Independent of feedparser: does the document contain an item or entry?"""
    return bool(ITEM_TAG.search(body))


@pytest.mark.skipif(not FEEDS, reason=missing_reason("feeds"))
@pytest.mark.parametrize("path", FEEDS, ids=[path.name for path in FEEDS])
def test_corpus_feed_parses_or_fails_with_a_reason(path: Path) -> None:
    body = path.read_bytes()
    try:
        parsed = parse_feed(body, f"https://corpus.newswatch.test/{path.name}")
    except FeedParseError as error:
        assert str(error)  # a reason, and only for feeds without usable entries
        assert not carries_entries(body) or "no entries" in str(error), error
        return
    if carries_entries(body):
        assert parsed.entries, f"{path.name} carries entries but none came out"
    for entry in parsed.entries:
        assert entry.link or entry.guid or entry.title or entry.summary
        if entry.link:
            assert entry.link.startswith(("http://", "https://")), entry.link


@pytest.mark.skipif(not FEEDS, reason=missing_reason("feeds"))
def test_every_corpus_feed_through_one_cycle(
    tmp_path: Path, database_url: str, http_server: LocalHTTPServer
) -> None:
    for path in FEEDS:
        http_server.add(
            f"/{path.name}", Response(200, path.read_bytes(), {"Content-Type": "application/xml"})
        )
    feeds = [{"name": path.stem, "url": http_server.url(f"/{path.name}")} for path in FEEDS]
    with open_pipeline(tmp_path, feeds, database_url=database_url, fetch={"fetch_pages": False}) as pipeline:
        reports = pipeline.run_cycle().feeds
    for path, report in zip(FEEDS, reports, strict=True):
        assert not (report.error or "").startswith("internal error"), (path.name, report.error)
        assert not report.entry_errors, (path.name, report.entry_errors)
        if report.error:
            assert report.error.startswith("parse: "), (path.name, report.error)
            assert not carries_entries(path.read_bytes()), (path.name, report.error)
        elif carries_entries(path.read_bytes()):
            assert report.entries > 0 and report.new > 0, path.name
