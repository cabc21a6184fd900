"""Page bytes + feed entry -> Article, with trafilatura; the feed summary is the fallback.

`extract_article` is a pure function of its arguments (no network, no store), so its trafilatura
part (pipeline/extract_page.py, which a worker imports alone) runs in `ExtractionPool`'s worker
processes: trafilatura is CPU-bound, and threads would share one core under the GIL. The language
guess and the dedup fingerprints are made in the calling process, so that their models are loaded
once, not once per worker.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace

from pipeline.config import ExtractConfig
from pipeline.dedup import fingerprint_article
from pipeline.extract_page import UNTITLED, page_or_summary, page_or_summary_in_worker, ready, warm_up
from pipeline.extract_server import worker_context
from pipeline.models import Article, ArticleFingerprint, FeedEntry, text_article

log = logging.getLogger(__name__)

__all__ = ["UNTITLED", "ExtractionPool", "extract_and_fingerprint", "extract_article"]

# trafilatura and py3langid are imported where first used: a cycle of 304s needs neither, and
# together they cost about half a second of start-up.

# A worker is replaced after this many pages, so memory that lxml never gives back stays bounded.
PAGES_PER_WORKER = 2000
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
    article = page_or_summary(entry, canonical, source, page, page_url, page_problem)
    return with_language(article) if guess_language else article


def with_language(article: Article) -> Article:
    """`article` with its language guessed from the text where nothing declared it."""
    if article.language:
        return article
    return replace(article, language=detect_language(f"{article.title}\n{article.body}"))


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
        # With no workers, one page at a time: trafilatura parses every page with one module-level
        # lxml parser, and the GIL does not cover lxml's C code, which lets other threads in.
        self._in_thread = threading.Lock()

    @classmethod
    def from_config(cls, settings: ExtractConfig) -> ExtractionPool:
        return cls(settings.workers, settings.timeout)

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=worker_context(),
                    initializer=warm_up,
                    initargs=(os.getpid(),),
                    max_tasks_per_child=PAGES_PER_WORKER,
                )
            return self._executor

    def start(self) -> None:
        """Start the workers now, in the background, so that their start-up (the fork server's
        import of trafilatura, about a second, or each spawned worker's) overlaps the feed fetches
        instead of delaying the first page. Forking waits for the server to be ready, so the
        calling thread does not."""
        if self.workers == 0:
            return
        threading.Thread(target=self._start_workers, name="extraction-start", daemon=True).start()

    def _start_workers(self) -> None:
        pool = self._pool()
        try:
            for _ in range(self.workers):
                pool.submit(ready)
        except RuntimeError:  # closed meanwhile (shutdown): nothing to start
            return

    def extract(
        self,
        entry: FeedEntry,
        canonical: str,
        source: str,
        page: bytes | None,
        page_url: str | None = None,
        page_problem: str | None = None,
    ) -> tuple[Article, ArticleFingerprint]:
        if page is None:
            return self._guarded(entry, canonical, source, page, page_url, page_problem)
        if self.workers == 0:
            with self._in_thread:
                return self._guarded(entry, canonical, source, page, page_url, page_problem)
        pool = self._pool()
        try:
            # The worker runs trafilatura only; the language and fingerprints are made here.
            article = pool.submit(
                page_or_summary_in_worker,
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
