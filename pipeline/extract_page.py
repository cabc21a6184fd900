"""One article page -> Article with trafilatura: the part of extraction that runs in the extraction
workers (pipeline/extract.py starts them).

A worker imports this module and trafilatura, nothing else of newswatch's that it does not use:
no pydantic config, no feedparser, no SQLAlchemy. Every module imported here is paid for in
every worker's resident memory (issue 16: about 12 MB a worker before this module existed).
"""

from __future__ import annotations

import os
import re
import select
import signal
import sys
import threading
import time
from datetime import UTC, datetime

from pipeline.entry_text import primary_language, title_from_summary
from pipeline.heap import release_free_heap
from pipeline.models import Article, ExtractionMethod, FeedEntry

UNTITLED = "(untitled)"
# How often a worker checks that the process that started it is still alive.
PARENT_CHECK_SECONDS = 1.0

# Below this many characters the "article" trafilatura found is a cookie banner
# or a teaser, and the feed's own summary is the better text.
MIN_BODY_CHARS = 200

_HTML_LANG = re.compile(
    rb"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)?", re.IGNORECASE
)


def _declared_language(page: bytes) -> str | None:
    found = _HTML_LANG.search(page[:4096])
    return found.group(1).decode("ascii").lower() if found else None


def _page_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        return None


def _summary_article(entry: FeedEntry, canonical: str, source: str, note: str) -> Article:
    return Article(
        url=entry.link or canonical,
        canonical_url=canonical,
        title=entry.title or title_from_summary(entry.summary) or UNTITLED,
        body=entry.summary,
        published=entry.published,
        author=entry.author,
        language=entry.language,
        source=source,
        method=ExtractionMethod.FEED_SUMMARY,
        summary=entry.summary,
        extraction_note=note,
    )


def page_or_summary(
    entry: FeedEntry,
    canonical: str,
    source: str,
    page: bytes | None,
    page_url: str | None,
    page_problem: str | None,
) -> Article:
    """The article trafilatura finds in `page`, or the feed summary when there is no page or it
    yields too little text; the language only as declared (the guess is made by the caller)."""
    if page is None:
        return _summary_article(entry, canonical, source, page_problem or "page not fetched")
    import trafilatura

    # The page's metadata (title, date, author) is used only where the feed's entry lacks it; its
    # extraction (htmldate, the author's search over a copy of the tree, site name, tags) costs
    # about a third of trafilatura's CPU on the corpus pages, and the text is the same without it.
    feed_has_metadata = bool(entry.title and entry.published and entry.author)
    document = trafilatura.bare_extraction(
        page,
        url=page_url or entry.link,
        with_metadata=not feed_has_metadata,
        include_comments=False,
        include_tables=False,
        deduplicate=False,
        date_extraction_params=_date_search(entry),
    )
    text = (document.text or "").strip() if document is not None else ""
    if document is None or len(text) < MIN_BODY_CHARS:
        return _summary_article(entry, canonical, source, "page yielded no article text")
    if len(text) < len(entry.summary):
        return _summary_article(entry, canonical, source, "the feed's summary is longer than the page text")
    return Article(
        url=page_url or entry.link or canonical,
        canonical_url=canonical,
        title=entry.title or (document.title or "").strip() or title_from_summary(entry.summary) or UNTITLED,
        body=text,
        published=entry.published or _page_date(document.date),
        author=entry.author or document.author or None,
        language=primary_language(document.language) or _declared_language(page) or entry.language,
        source=source,
        method=ExtractionMethod.PAGE,
        summary=entry.summary,
    )


def _date_search(entry: FeedEntry) -> dict[str, object] | None:
    """htmldate's settings for the page's date: its extensive search (trafilatura's default) only
    where the feed gives no date. That search falls back on dateparser, whose patterns for some
    200 locales take each process 1-2 s of CPU and 20-40 MB to compile at its first such page,
    for a date that a dated entry's article never uses."""
    if entry.published is None:
        return None
    from trafilatura.settings import set_date_params

    return set_date_params(extensive=False)


def page_or_summary_in_worker(
    entry: FeedEntry,
    canonical: str,
    source: str,
    page: bytes | None,
    page_url: str | None,
    page_problem: str | None,
) -> Article:
    """`page_or_summary` as an extraction worker runs it: the page's freed tree is handed back to
    the kernel afterwards, so a worker's resident set follows the page it is on rather than the
    largest page it ever met (about 8 MB less over the corpus pages, for 0.4 ms a page)."""
    try:
        return page_or_summary(entry, canonical, source, page, page_url, page_problem)
    finally:
        release_free_heap()


def _exit_with_parent(parent: int) -> None:
    # A worker whose parent was killed (SIGKILL, the OOM killer) is never told to stop: its
    # siblings keep the task queue open. It leaves on its own instead of holding memory forever.
    # The parent is the process that owns the pool, not the worker's own parent: a forked worker's
    # is the fork server, which lives as long as any worker holds its end of the server's pipe.
    try:
        parent_exited = os.pidfd_open(parent)
    except ProcessLookupError:
        os._exit(0)
    except (AttributeError, OSError):
        # No pidfd (not Linux, or a kernel before 5.3): ask every second whether it still exists.
        while _exists(parent):
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)
    # The descriptor turns readable when the parent exits, reaped or not.
    select.select([parent_exited], [], [])
    os._exit(0)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def load_trafilatura() -> None:
    """Import trafilatura as a worker uses it and run it once, so that its lazily built state
    exists. Run in the fork server (pipeline/extract_preload.py), it is done once and shared by
    every worker forked from it; in a worker started any other way, once per worker."""
    # trafilatura imports py3langid (and numpy with it, 12 MB of a worker's resident set) only to
    # filter pages by a target language, which newswatch never asks for: the language is guessed
    # in the parent. Marking it absent makes trafilatura skip the import. The model itself would
    # cost each worker ~75 MB and 2 s of CPU more.
    sys.modules.setdefault("py3langid", None)  # type: ignore[assignment]
    import trafilatura

    trafilatura.bare_extraction(b"<html><body><p>newswatch</p></body></html>")


def warm_up(parent: int | None = None) -> None:
    """A worker's initializer: ignore Ctrl-C, leave when process `parent` ends, and have
    trafilatura loaded (already done in a worker forked from the preloaded fork server)."""
    # Ctrl-C reaches the whole process group; the parent decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        threading.Thread(target=_exit_with_parent, args=(parent,), name="parent-watch", daemon=True).start()
    load_trafilatura()


def ready() -> None:
    """A task that only makes the pool start a worker."""
