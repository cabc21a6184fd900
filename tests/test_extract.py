"""Extraction: dates and titles from the page when the feed lacks them, language, and the worker pool."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.config import ExtractConfig
from pipeline.extract import UNTITLED, ExtractionPool, extract_and_fingerprint, extract_article
from pipeline.models import ExtractionMethod, FeedEntry
from tests.support.corpus import corpus_files, missing_reason
from tests.support.servers import FIXTURES

SEED_PAGE = (FIXTURES / "pages" / "usfj-joint-force-hq.html").read_bytes()
URL = "https://news.example.org/2025/10/29/usfj"
ARTICLES = corpus_files("articles", "*.html")
ARTICLES = [path for path in ARTICLES if not path.name.endswith(".expected.html")]


def entry(**overrides: object) -> FeedEntry:
    values: dict[str, object] = {
        "link": URL,
        "title": "",
        "summary": "",
        "published": None,
        "author": None,
        "guid": None,
    }
    values.update(overrides)
    return FeedEntry(**values)  # type: ignore[arg-type]


def test_date_title_and_language_come_from_the_page_when_the_feed_lacks_them() -> None:
    dated = SEED_PAGE.replace(
        b"</head>", b'<meta property="article:published_time" content="2025-10-29T14:20:00+00:00"></head>', 1
    )
    article = extract_article(entry(), URL, "Desk", dated, URL)
    assert article.method is ExtractionMethod.PAGE
    assert (
        article.published is not None
        and article.published.date() == datetime(2025, 10, 29, tzinfo=UTC).date()
    )
    assert article.title.startswith("U.S. and Japan Move to Next Phase of Joint Command Upgrade")
    assert article.language == "en"


def test_feed_values_win_over_the_page() -> None:
    published = datetime(2025, 10, 30, 8, 0, tzinfo=UTC)
    article = extract_article(entry(title="Feed title", published=published), URL, "Desk", SEED_PAGE, URL)
    assert article.title == "Feed title" and article.published == published


@pytest.mark.skipif(not ARTICLES, reason=missing_reason("articles"))
def test_a_feed_with_title_date_and_author_gets_the_same_text_without_the_pages_metadata() -> None:
    # With all three from the feed the page's metadata is not extracted; the text must not change.
    published = datetime(2025, 10, 30, 8, 0, tzinfo=UTC)
    for path in ARTICLES[:12]:
        page = path.read_bytes()
        complete = entry(title="Feed title", published=published, author="Feed Author")
        no_author = entry(title="Feed title", published=published)
        without_metadata = extract_article(complete, URL, "Desk", page, URL)
        with_metadata = extract_article(no_author, URL, "Desk", page, URL)
        assert without_metadata.body == with_metadata.body, path.name
        assert (without_metadata.title, without_metadata.published, without_metadata.author) == (
            "Feed title",
            published,
            "Feed Author",
        )
        assert without_metadata.language == with_metadata.language, path.name


@pytest.mark.skipif(not ARTICLES, reason=missing_reason("articles"))
def test_an_entry_the_feed_dates_never_makes_a_worker_compile_dateparser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # htmldate's extensive date search falls back on dateparser, whose patterns for some 200
    # locales cost each process 1-2 s of CPU and 40 MB the first time: for a page whose date the
    # article never uses (the feed's wins), the search stays short of it. Undated, it still runs.
    from htmldate import extractors

    asked: list[str] = []
    real_parser = extractors.get_external_parser

    def counting_parser() -> object:
        asked.append("dateparser")
        return real_parser()

    monkeypatch.setattr(extractors, "get_external_parser", counting_parser)
    published = datetime(2025, 10, 30, 8, 0, tzinfo=UTC)
    for path in ARTICLES:
        extract_article(entry(title="Feed title", published=published), URL, "Desk", path.read_bytes(), URL)
    assert asked == []
    for path in ARTICLES:
        extract_article(entry(title="Feed title"), URL, "Desk", path.read_bytes(), URL)
    assert asked  # some corpus page's date is found only that way


def test_titles_fall_back_to_the_summary_then_untitled() -> None:
    summary = "Japan and the United States agree on the next phase. More details follow in the report."
    from_summary = extract_article(
        entry(summary=summary), URL, "Desk", None, page_problem="page fetch failed"
    )
    assert from_summary.title == "Japan and the United States agree on the next phase."
    assert from_summary.extraction_note == "page fetch failed"
    assert extract_article(entry(link=None), "urn:x", "Desk", None).title == UNTITLED


@pytest.mark.skipif(not ARTICLES, reason=missing_reason("articles"))
def test_the_language_is_the_pages_declaration_then_the_feeds_then_a_guess() -> None:
    english_page = (
        b'<html lang="en-US"><body><article>'
        + b"<p>"
        + b"Plain words. " * 40
        + b"</p></article></body></html>"
    )
    undeclared_page = english_page.replace(b' lang="en-US"', b"")
    assert extract_article(entry(language="ja"), URL, "Desk", english_page, URL).language == "en"
    assert extract_article(entry(language="ja"), URL, "Desk", undeclared_page, URL).language == "ja"
    # Nothing declared: a guess from the text, unless the caller leaves it for later.
    assert extract_article(entry(), URL, "Desk", undeclared_page, URL).language == "en"
    assert extract_article(entry(), URL, "Desk", undeclared_page, URL, guess_language=False).language is None
    summary_only = entry(summary="Le conseil municipal a voté le budget de la ville pour l'année prochaine.")
    assert extract_article(summary_only, URL, "Desk", None).language == "fr"
    assert extract_article(entry(summary="whatever", language="de"), URL, "Desk", None).language == "de"


def test_worker_pool_gives_the_same_articles_as_inline_extraction() -> None:
    pages = ARTICLES[:6]
    pool = ExtractionPool.from_config(ExtractConfig(workers=2))
    try:
        for path in pages:
            page = path.read_bytes()
            url = f"https://corpus.newswatch.test/{path.stem}"
            pooled = pool.extract(entry(link=url), url, "Corpus", page, url)
            assert pooled == extract_and_fingerprint(entry(link=url), url, "Corpus", page, url), path.name
    finally:
        pool.close()


@pytest.mark.skipif(not ARTICLES, reason=missing_reason("articles"))
def test_japanese_pages_are_recorded_as_japanese() -> None:
    japanese = [path for path in ARTICLES if path.name.startswith("jp-") and "postlight" not in path.name][:3]
    for path in japanese:
        article = extract_article(entry(link=URL), URL, "Corpus", path.read_bytes(), URL)
        assert article.language == "ja", (path.name, article.language)


def test_a_page_that_takes_too_long_falls_back_to_the_summary() -> None:
    pool = ExtractionPool.from_config(ExtractConfig(workers=1, timeout=0.001))
    try:
        article, _fingerprint = pool.extract(
            entry(summary="The feed's own summary."), URL, "Desk", SEED_PAGE, URL
        )
    finally:
        pool.close()
    assert article.method is ExtractionMethod.FEED_SUMMARY
    assert article.extraction_note == "page extraction took longer than 0.001s"


POOL_THAT_WILL_BE_KILLED = """
import sys, time
from pipeline.extract import ExtractionPool

if __name__ == "__main__":
    pool = ExtractionPool(2, timeout=120)
    pool.start()
    while len(pool._pool()._processes) < 2:
        time.sleep(0.05)
    print(" ".join(str(pid) for pid in pool._pool()._processes), flush=True)
    time.sleep(600)
"""


def test_extraction_workers_exit_when_their_parent_is_killed(tmp_path: Path) -> None:
    # SIGKILL (or the OOM killer) gives the parent no chance to stop its workers; they must not
    # linger, each holding a Python interpreter and trafilatura in memory.
    script = tmp_path / "pool.py"
    script.write_text(POOL_THAT_WILL_BE_KILLED)
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    workers = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(workers) == 2
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers), f"workers {workers} outlived their parent"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_an_extraction_worker_imports_trafilatura_and_nothing_of_the_parent_it_does_not_use() -> None:
    # What a worker runs (warm-up, then a page), in a fresh interpreter as a spawned worker is.
    # numpy and py3langid: trafilatura's optional language filter, which newswatch never uses.
    probe = (
        "import sys\n"
        "from pipeline.extract_page import page_or_summary_in_worker, warm_up\n"
        "from pipeline.models import FeedEntry\n"
        "warm_up()\n"
        "entry = FeedEntry(link='https://example.org/a', title='t', summary='', published=None, author=None,"
        " guid=None)\n"
        "page_or_summary_in_worker(entry, 'https://example.org/a', 'feed', b'<html><p>text</p></html>', None,"
        " None)\n"
        "loaded = {name.split('.')[0] for name, module in sys.modules.items() if module is not None}\n"
        "unwanted = {'pydantic', 'yaml', 'feedparser', 'sqlalchemy', 'httpx', 'numpy', 'py3langid'}\n"
        "print(sorted(loaded & unwanted))\n"
        "print(sorted(name for name in sys.modules if name.startswith('pipeline.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    unwanted, ours = done.stdout.strip().splitlines()
    assert unwanted == "[]"
    modules = ["entry_text", "extract_page", "heap", "models", "schedule"]
    assert ours == str([f"pipeline.{module}" for module in modules])


def test_workers_are_forked_from_a_server_that_has_already_loaded_trafilatura() -> None:
    # Each worker then neither imports trafilatura itself nor holds a private copy of what the
    # server loaded: the pages stay shared until written.
    pool = ExtractionPool(1, timeout=60)
    try:
        server = pool._pool().submit(os.getppid).result(timeout=60)
        assert server != os.getpid()
        with open(f"/proc/{server}/cmdline", "rb") as cmdline:
            assert b"forkserver" in cmdline.read()
        with open(f"/proc/{server}/maps") as maps:
            assert "lxml/etree" in maps.read()
    finally:
        pool.close()
