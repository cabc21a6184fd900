"""Page bytes + feed entry -> Article, with trafilatura; the feed summary is the fallback.

`extract_article` is a pure function of its arguments (no network, no store),
so it can run in a worker process.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import py3langid
import trafilatura

from pipeline.models import Article, ExtractionMethod, FeedEntry

# Below this many characters the "article" trafilatura found is a cookie banner
# or a teaser, and the feed's own summary is the better text.
MIN_BODY_CHARS = 200

_HTML_LANG = re.compile(
    rb"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)?", re.IGNORECASE
)


def _declared_language(page: bytes) -> str | None:
    found = _HTML_LANG.search(page[:4096])
    return found.group(1).decode("ascii").lower() if found else None


def detect_language(text: str) -> str | None:
    if len(text.strip()) < 20:
        return None
    language, _score = py3langid.classify(text[:5000])
    return str(language)


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
        title=entry.title,
        body=entry.summary,
        published=entry.published,
        author=entry.author,
        language=detect_language(f"{entry.title}\n{entry.summary}"),
        source=source,
        method=ExtractionMethod.FEED_SUMMARY,
        summary=entry.summary,
        extraction_note=note,
    )


def extract_article(
    entry: FeedEntry,
    canonical: str,
    source: str,
    page: bytes | None,
    page_url: str | None = None,
    page_problem: str | None = None,
) -> Article:
    """Build the Article for `entry`. `page` is None when the page could not be fetched
    (`page_problem` says why); then, or when the page yields too little text, the
    feed summary is used."""
    if page is None:
        return _summary_article(entry, canonical, source, page_problem or "page not fetched")
    document = trafilatura.bare_extraction(
        page,
        url=page_url or entry.link,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        deduplicate=False,
    )
    text = (document.text or "").strip() if document is not None else ""
    if document is None or len(text) < MIN_BODY_CHARS:
        return _summary_article(entry, canonical, source, "page yielded no article text")
    if len(text) < len(entry.summary):
        return _summary_article(entry, canonical, source, "the feed's summary is longer than the page text")
    return Article(
        url=page_url or entry.link or canonical,
        canonical_url=canonical,
        title=entry.title or (document.title or "").strip(),
        body=text,
        published=entry.published or _page_date(document.date),
        author=entry.author or document.author or None,
        language=document.language or _declared_language(page) or detect_language(text),
        source=source,
        method=ExtractionMethod.PAGE,
        summary=entry.summary,
    )


def article_from_text(text: str, path: str) -> Article:
    """A plain-text article for `newswatch match`: the first line is the title."""
    title, _, body = text.strip().partition("\n")
    return Article(
        url=path,
        canonical_url=path,
        title=title.strip(),
        body=body.strip(),
        published=None,
        author=None,
        language=detect_language(text),
        source=path,
        method=ExtractionMethod.PAGE,
    )


def article_from_page(page: bytes, url: str) -> Article:
    """An HTML page given directly (no feed entry), extracted as the pipeline does."""
    bare = FeedEntry(link=url, title="", summary="", published=None, author=None, guid=None)
    return extract_article(bare, url, url, page, page_url=url)
