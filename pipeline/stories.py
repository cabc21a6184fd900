"""Which items are new, which are another copy of a stored article, and which story a new one joins.

`dedup.py` computes identities (canonical URLs, fingerprints, similarity) without I/O; this module
holds the decisions made with them against the store, in one place:

- an item whose canonical URL is stored is not stored again: the feed is recorded as one more
  source of it;
- a new item with the exact text of a stored article is that article reached by another URL:
  again only a source is recorded;
- otherwise it joins the most similar story first seen within `dedup.story_window` (at least
  `dedup.story_similarity`), or founds a new story;
- if another thread stored the same article first, that thread owns its matches and alerts, and
  this feed is recorded as a source, so nothing is alerted twice.

Story assignment and the articles' transaction run under one lock, so two copies of a story polled
at the same moment by two threads cannot both found a story. A poll's new articles are filed in one
transaction (`file_all`), each decision seeing the articles filed before it in the same batch.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pipeline.clock import Clock
from pipeline.config import DedupConfig
from pipeline.dedup import closest_story, entry_key
from pipeline.models import Article, ArticleFingerprint, FeedEntry, PlannedAlert, StoryCandidate, Verdict
from pipeline.store import Store
from pipeline.store.repository import ArticleBatch, ArticleConflict

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Arrival:
    """One distinct item of a poll, under the key it is stored by."""

    key: str
    entry: FeedEntry
    # (article id, whether this feed already carried it) when the key is already stored.
    known: tuple[int, bool] | None

    @property
    def link(self) -> str:
        return self.entry.link or self.key


class Filing(enum.Enum):
    CREATED = "created"
    # The same text as a stored article (another URL for it): recorded as a source only.
    SAME_TEXT = "same_text"
    # Another thread stored the same article first: recorded as a source only.
    RACED = "raced"


@dataclass(frozen=True, slots=True)
class NewArticle:
    """A new item of a poll, extracted and matched, ready to be filed."""

    key: str
    article: Article
    fingerprint: ArticleFingerprint
    feed_id: int
    verdicts: list[Verdict]
    # plan(story_key): the alerts to queue; their idempotency keys name the story, so a story
    # alerts each topic on each channel once.
    plan: Callable[[str], list[PlannedAlert]] = field(compare=False)
    feed_name: str = ""


@dataclass(frozen=True, slots=True)
class Filed:
    outcome: Filing
    # 1 when this feed carried the item for the first time.
    new_to_feed: int
    # True when the new article joined an existing story.
    clustered: bool = False
    alerts_created: int = 0


class Stories:
    """The dedup and story decisions of the cycle, against one store."""

    def __init__(self, store: Store, settings: DedupConfig, clock: Clock) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()

    def arrivals(self, entries: Sequence[FeedEntry], feed_url: str, feed_id: int) -> list[Arrival]:
        """The poll's items, each once (a feed may list an item twice), with what the store knows."""
        keyed = [(entry_key(entry, feed_url), entry) for entry in entries]
        known = self.store.known_article_sources([key for key, _ in keyed], feed_id)
        seen: set[str] = set()
        arrivals = []
        for key, entry in keyed:
            if key not in seen:
                seen.add(key)
                arrivals.append(Arrival(key, entry, known.get(key)))
        return arrivals

    def record_known(self, arrival: Arrival, feed_id: int) -> bool:
        """Record this feed as a source of a stored item; True if it carries it for the first time."""
        assert arrival.known is not None
        article_id, carried = arrival.known
        return not carried and self.store.add_source(article_id, feed_id, arrival.link)

    def file(
        self,
        key: str,
        article: Article,
        fingerprint: ArticleFingerprint,
        feed_id: int,
        verdicts: list[Verdict],
        plan: Callable[[str], list[PlannedAlert]],
        feed_name: str,
    ) -> Filed:
        """Store one new article in its story, or record it as another source of a stored one."""
        return self.file_all([NewArticle(key, article, fingerprint, feed_id, verdicts, plan, feed_name)])[0]

    def file_all(self, items: Sequence[NewArticle]) -> list[Filed]:
        """Store each new article in its story, or record it as another source of a stored one, all
        in one transaction: committed together, or (on an error other than a lost race) not at all.
        A crash before the commit loses the poll's articles together with its validators, so the
        next poll sees them again."""
        if not items:
            return []
        with self._lock:
            try:
                with self.store.article_batch() as batch:
                    return self._file_batch(batch, items)
            except ArticleConflict:
                # Another process stored one of them between the check and the write (the batch
                # is rolled back): each is filed again on its own, where the check now sees it.
                filed = []
                for item in items:
                    with self.store.article_batch() as batch:
                        filed.append(self._file_batch(batch, [item])[0])
                return filed

    def _file_batch(self, batch: ArticleBatch, items: Sequence[NewArticle]) -> list[Filed]:
        since = self.clock.now() - timedelta(seconds=self.settings.story_window)
        known = _KnownInBatch.look_up(batch, items, since)
        return [self._file(batch, known, item) for item in items]

    def _file(self, batch: ArticleBatch, known: _KnownInBatch, item: NewArticle) -> Filed:
        article, fingerprint, feed_id = item.article, item.fingerprint, item.feed_id
        if fingerprint.content:
            same_text = known.by_fingerprint.get(fingerprint.content)
            if same_text is not None:
                log.info(
                    "feed %r: %s has the same text as stored article %d; recorded as another source",
                    item.feed_name,
                    article.url,
                    same_text,
                )
                added = batch.add_source(same_text, feed_id, article.url)
                return Filed(Filing.SAME_TEXT, int(added))
        story_id, story_key, joined = None, item.key, None
        if fingerprint.signature:
            candidates = known.story_candidates(fingerprint.bands)
            closest = closest_story(fingerprint.signature, candidates, self.settings.story_similarity)
            if closest is not None:
                joined = closest[0]
                story_id, story_key = joined.story_id, joined.story_key
                log.info(
                    "feed %r: %s joins the story of %s (similarity %.2f)",
                    item.feed_name,
                    article.url,
                    story_key,
                    closest[1],
                )
        # Under the lock no other thread of this process files; another thread may still have
        # filed this URL after this poll looked its items up (two feeds carrying one article).
        existing = known.by_url.get(article.canonical_url)
        if existing is not None:
            batch.add_source(existing, feed_id, article.url)
            return Filed(Filing.RACED, 1, clustered=story_id is not None)
        alerts = item.plan(story_key)
        saved = batch.save_article(article, feed_id, item.verdicts, alerts, fingerprint, story_id)
        known.filed(saved.article_id, article, fingerprint, joined)
        return Filed(Filing.CREATED, 1, clustered=story_id is not None, alerts_created=saved.alerts_created)


@dataclass
class _KnownInBatch:
    """What the store holds that a batch's decisions depend on, asked once for the whole batch,
    and kept up to date with the articles the batch files, so that each decision sees those filed
    before it as if they were stored."""

    by_fingerprint: dict[str, int]
    by_url: dict[str, int]
    candidates_by_band: dict[str, list[StoryCandidate]]

    @classmethod
    def look_up(cls, batch: ArticleBatch, items: Sequence[NewArticle], since: datetime) -> _KnownInBatch:
        prints = [item.fingerprint for item in items]
        return cls(
            batch.ids_by_fingerprint({fingerprint.content for fingerprint in prints if fingerprint.content}),
            batch.ids_by_url({item.article.canonical_url for item in items}),
            batch.story_candidates_by_band(
                {band for fingerprint in prints if fingerprint.signature for band in fingerprint.bands}, since
            ),
        )

    def story_candidates(self, bands: Sequence[str]) -> list[StoryCandidate]:
        """The articles sharing at least one of `bands`, oldest first (the first of equally similar
        candidates is the story joined)."""
        by_article: dict[int, StoryCandidate] = {}
        for band in bands:
            for candidate in self.candidates_by_band.get(band, ()):
                by_article.setdefault(candidate.article_id, candidate)
        return [by_article[article_id] for article_id in sorted(by_article)]

    def filed(
        self,
        article_id: int,
        article: Article,
        fingerprint: ArticleFingerprint,
        joined: StoryCandidate | None,
    ) -> None:
        """Remember an article the batch has stored, as the store would answer for it."""
        if fingerprint.content:
            self.by_fingerprint[fingerprint.content] = article_id
        self.by_url[article.canonical_url] = article_id
        if fingerprint.signature:
            # A story's key in the store is its first article's canonical URL.
            story_id, story_key = (
                (joined.story_id, joined.story_key) if joined else (article_id, article.canonical_url)
            )
            candidate = StoryCandidate(article_id, story_id, story_key, fingerprint.signature)
            for band in set(fingerprint.bands):
                self.candidates_by_band.setdefault(band, []).append(candidate)
