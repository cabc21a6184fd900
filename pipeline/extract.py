"""Page bytes + feed entry -> Article, with trafilatura; the feed summary is the fallback.

`extract_article` is a pure function of its arguments (no network, no store), so its trafilatura
part runs in `ExtractionPool`'s worker processes: trafilatura is CPU-bound, and threads would
share one core under the GIL. The language guess and the dedup fingerprints are made in the
calling process, so that their models are loaded once, not once per worker.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial

from pipeline.config import ExtractConfig
from pipeline.dedup import fingerprint_article
from pipeline.models import Article, ArticleFingerprint, ExtractionMethod, FeedEntry, text_article
from pipeline.parse import primary_language, title_from_summary

log = logging.getLogger(__name__)

# trafilatura and py3langid are imported where first used: a cycle of 304s needs neither, and
# together they cost about half a second of start-up.

UNTITLED = "(untitled)"
# A worker is replaced after this many pages, so memory that lxml never gives back stays bounded.
PAGES_PER_WORKER = 2000
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


_language_model_lock = threading.Lock()
_language_model_loaded = False


def load_language_model() -> None:
    """Load py3langid's model once. It loads lazily on first use, and threads arriving together
    would each load their own copy (about 90 MB and half a second apiece)."""
    global _language_model_loaded
    if _language_model_loaded:
        return
    with _language_model_lock:
        if not _language_model_loaded:
            import py3langid

            py3langid.classify("newswatch language model warm-up")
            _language_model_loaded = True


def detect_language(text: str) -> str | None:
    if len(text.strip()) < 20:
        return None
    load_language_model()
    import py3langid

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


def extract_article(
    entry: FeedEntry,
    canonical: str,
    source: str,
    page: bytes | None,
    page_url: str | None = None,
    page_problem: str | None = None,
    *,
    guess_language: bool = True,
) -> Article:
    """Build the Article for `entry`. `page` is None when the page could not be fetched
    (`page_problem` says why); then, or when the page yields too little text, the
    feed summary is used. The language is what the page declares, else what the feed
    declares, else (with `guess_language`) a guess from the text."""
    article = _page_or_summary(entry, canonical, source, page, page_url, page_problem)
    return with_language(article) if guess_language else article


def with_language(article: Article) -> Article:
    """`article` with its language guessed from the text where nothing declared it."""
    if article.language:
        return article
    return replace(article, language=detect_language(f"{article.title}\n{article.body}"))


def _page_or_summary(
    entry: FeedEntry,
    canonical: str,
    source: str,
    page: bytes | None,
    page_url: str | None,
    page_problem: str | None,
) -> Article:
    if page is None:
        return _summary_article(entry, canonical, source, page_problem or "page not fetched")
    import trafilatura

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
        title=entry.title or (document.title or "").strip() or title_from_summary(entry.summary) or UNTITLED,
        body=text,
        published=entry.published or _page_date(document.date),
        author=entry.author or document.author or None,
        language=primary_language(document.language) or _declared_language(page) or entry.language,
        source=source,
        method=ExtractionMethod.PAGE,
        summary=entry.summary,
    )


def extract_and_fingerprint(
    entry: FeedEntry,
    canonical: str,
    source: str,
    page: bytes | None,
    page_url: str | None = None,
    page_problem: str | None = None,
) -> tuple[Article, ArticleFingerprint]:
    """The article, with its language, and the fingerprints dedup needs."""
    return _finished(
        extract_article(entry, canonical, source, page, page_url, page_problem, guess_language=False)
    )


def _finished(article: Article) -> tuple[Article, ArticleFingerprint]:
    # The language model (~75 MB) is loaded in the calling process only, not once more in every
    # extraction worker; the guess and the fingerprints take 1-3 ms a page.
    article = with_language(article)
    return article, fingerprint_article(article.title, article.body)


def _exit_with_parent(parent: int) -> None:
    # A worker whose parent was killed (SIGKILL, the OOM killer) is never told to stop: its
    # siblings keep the task queue open. It leaves on its own instead of holding memory forever.
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


def _warm_up(parent: int | None = None) -> None:
    # Ctrl-C reaches the whole process group; the parent decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        threading.Thread(target=_exit_with_parent, args=(parent,), name="parent-watch", daemon=True).start()
    # Pay trafilatura's first-use costs before the first real page. The language model is not
    # loaded here: most pages declare their language, and the model would cost each worker ~75 MB
    # (more while it loads) and 2 s of CPU.
    import trafilatura

    trafilatura.bare_extraction(b"<html><body><p>newswatch</p></body></html>")


def _ready() -> None:
    """A task that only makes the pool start a worker."""


class ExtractionPool:
    """Runs page extraction in `workers` processes (0: in the calling thread).

    Many polling threads submit at once and each waits for its own result, so both cores stay busy
    while the threads wait on the network. A crashed worker costs one article its page text (the
    feed summary is used, with the reason), never the cycle.
    """

    def __init__(self, workers: int, timeout: float) -> None:
        """`timeout`: a page taking longer is matched on its feed summary (`extract.timeout`)."""
        self.workers = workers
        self.timeout = timeout
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, settings: ExtractConfig) -> ExtractionPool:
        return cls(settings.workers, settings.timeout)

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                # spawn, not fork: the parent runs threads (HTTP, scheduler, database pools).
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_warm_up,
                    initargs=(os.getpid(),),
                    max_tasks_per_child=PAGES_PER_WORKER,
                )
            return self._executor

    def start(self) -> None:
        """Start the workers now, so that their start-up (an interpreter and trafilatura's imports,
        about a second each) overlaps the feed fetches instead of delaying the first page."""
        if self.workers == 0:
            return
        pool = self._pool()
        for _ in range(self.workers):
            pool.submit(_ready)

    def extract(
        self,
        entry: FeedEntry,
        canonical: str,
        source: str,
        page: bytes | None,
        page_url: str | None = None,
        page_problem: str | None = None,
    ) -> tuple[Article, ArticleFingerprint]:
        if page is None or self.workers == 0:
            return self._guarded(entry, canonical, source, page, page_url, page_problem)
        pool = self._pool()
        try:
            # The worker runs trafilatura only; the language and fingerprints are made here.
            article = pool.submit(
                partial(extract_article, guess_language=False),
                entry,
                canonical,
                source,
                page,
                page_url,
                page_problem,
            ).result(timeout=self.timeout)
        except TimeoutError:
            # The worker stays busy until trafilatura returns; the cycle goes on without it.
            note = f"page extraction took longer than {self.timeout:g}s"
        except BrokenProcessPool:
            with self._lock:
                if self._executor is pool:
                    self._executor = None
            pool.shutdown(wait=False, cancel_futures=True)
            note = "page extraction failed: the extraction worker died"
        except Exception as error:
            note = f"page extraction failed: {type(error).__name__}: {error}"
        else:
            return _finished(article)
        log.warning("%s: %s; using the feed summary", page_url or entry.link, note)
        return extract_and_fingerprint(entry, canonical, source, None, page_url, note)

    @staticmethod
    def _guarded(
        entry: FeedEntry,
        canonical: str,
        source: str,
        page: bytes | None,
        page_url: str | None,
        page_problem: str | None,
    ) -> tuple[Article, ArticleFingerprint]:
        try:
            return extract_and_fingerprint(entry, canonical, source, page, page_url, page_problem)
        except Exception as error:
            if page is None:
                raise
            note = f"page extraction failed: {type(error).__name__}: {error}"
            log.warning("%s: %s; using the feed summary", page_url or entry.link, note)
            return extract_and_fingerprint(entry, canonical, source, None, page_url, note)

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


def article_from_text(text: str, path: str) -> Article:
    """A plain-text article (the first line is the title) with its language guessed."""
    return text_article(text, path, detect_language(text))


def article_from_page(page: bytes, url: str) -> Article:
    """An HTML page given directly (no feed entry), extracted as the pipeline does."""
    bare = FeedEntry(link=url, title="", summary="", published=None, author=None, guid=None)
    return extract_article(bare, url, url, page, page_url=url)
