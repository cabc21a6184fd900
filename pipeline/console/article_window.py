"""The stored articles of a recent window, folded once and kept in the console's process.

The playground and the search run a query over every article of the last N days on each keystroke.
Reading a month of articles from the database and folding their text (`normalize.normalise`) cost
most of that answer, and neither changes once an article is stored; so each article is read and
folded once, and later answers only ask the database which ids are in the window now (to pick up
new articles and drop pruned ones). The folded text is what presearch reads to skip the articles a
query cannot match before the matcher sees them.

Memory: the distinct folded words of every article in the widest window asked for in the last hour,
and their word index (105 MB for the benchmark's 50,000 articles of 2.7 KB; see docs/console.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.console.word_index import WordIndex
from pipeline.match.normalize import normalise
from pipeline.store.console import ArticleText, ConsoleStore

# A wide window asked for once is kept this long, then the window shrinks back to the ones asked since.
KEEP_WIDEST_SECONDS = 3600.0
# Ids per query when reading articles (well under SQLite's limit on bound parameters).
BATCH = 500


@dataclass(frozen=True, slots=True)
class PreparedArticle:
    article_id: int
    # Unix time: compared for every article on every answer, which aware datetimes make slow.
    first_seen: float
    # Each distinct whitespace-separated word of the folded title and body, once, one space apart.
    # A string without whitespace occurs in the folded text exactly when it occurs in one of its
    # words, so presearch's anchors (single words) find the same articles here, in a text a
    # fraction as long: a news article repeats most of its words.
    words: str


def prepare(text: ArticleText) -> PreparedArticle:
    words = {*normalise(text.title).text.split(), *normalise(text.body).text.split()}
    return PreparedArticle(text.id, text.first_seen_at.timestamp(), " ".join(words))


@dataclass(frozen=True)
class Window:
    """The prepared articles of a window, newest first, and a lookup of the ids of articles holding a
    word that contains a string (it may name articles outside the window: keep only those inside)."""

    articles: list[PreparedArticle]
    holding: Callable[[str], set[int]]


class ArticleWindow:
    """`articles(now, days)`: the prepared articles first seen in the last `days` days."""

    def __init__(self, store: ConsoleStore, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._monotonic = monotonic
        self._prepared: dict[int, PreparedArticle] = {}
        self._newest_first: list[PreparedArticle] = []
        self._index = WordIndex()
        self._indexed_gone = 0  # articles dropped from the window but still in the index
        self._widest = timedelta(0)
        self._widest_asked_at = 0.0
        # One refresh at a time: two requests arriving together must not both fold the same month.
        self._lock = threading.Lock()

    def articles(self, now: datetime, days: int) -> Window:
        span = timedelta(days=days)
        with self._lock:
            asked_at = self._monotonic()
            if span >= self._widest or asked_at - self._widest_asked_at > KEEP_WIDEST_SECONDS:
                self._widest, self._widest_asked_at = span, asked_at
            self._refresh(now - self._widest)
            ordered = self._newest_first
        since = (now - span).timestamp()
        return Window([article for article in ordered if article.first_seen >= since], self._holding)

    def _holding(self, fragment: str) -> set[int]:
        with self._lock:
            return self._index.containing(fragment)

    def _refresh(self, since: datetime) -> None:
        oldest = since.timestamp()
        aged = [key for key, article in self._prepared.items() if article.first_seen < oldest]
        for article_id in aged:
            del self._prepared[article_id]
        self._indexed_gone += len(aged)
        if aged:
            self._newest_first = [article for article in self._newest_first if article.first_seen >= oldest]
        # Most answers find nothing new: two aggregates say so without listing the window's ids. (A
        # pruned article and a late-committed one cancelling out wait for the next change; a pruned
        # one never shows, since candidates are read again from the store.)
        count, newest = self._store.article_window_size(since)
        if count != len(self._prepared) or newest != max(self._prepared, default=None):
            self._resync(since)

    def _resync(self, since: datetime) -> None:
        stored = set(self._store.article_ids_since(since))
        # Gone from the window: pruned by the daemon's retention.
        gone = self._prepared.keys() - stored
        for article_id in gone:
            del self._prepared[article_id]
        self._indexed_gone += len(gone)
        if self._indexed_gone > len(self._prepared):
            # Mostly stale postings: index the articles still held afresh.
            self._index = WordIndex()
            for article in self._prepared.values():
                self._index.add(article.article_id, article.words.split())
            self._indexed_gone = 0
        missing = sorted(stored - self._prepared.keys())
        for batch in _batches(missing, BATCH):
            for text in self._store.article_texts(batch):
                article = self._prepared[text.id] = prepare(text)
                self._index.add(article.article_id, article.words.split())
        # Ids grow as articles are stored, so id order is the order they were first seen.
        self._newest_first = sorted(self._prepared.values(), key=_article_id, reverse=True)


def _article_id(article: PreparedArticle) -> int:
    return article.article_id


def _batches(ids: Sequence[int], size: int) -> list[Sequence[int]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]
