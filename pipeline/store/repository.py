"""Articles, their sources and matches, feeds and stories: the queries the pipeline needs, each in
its own short transaction. Callers decide what to write (which article is new, which story it
joins: pipeline/stories.py); this module writes it atomically. Every alert row, including those
queued with a new article, is written by the outbox (store/outbox.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Engine, Select, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from pipeline.models import (
    Article,
    ArticleFingerprint,
    FeedState,
    FeedUpdate,
    HealthState,
    MatchDetails,
    PlannedAlert,
    StoryCandidate,
    Verdict,
)
from pipeline.schedule import PollReason
from pipeline.store.outbox import queue_planned
from pipeline.store.rows import (
    HEALTH_COLUMNS,
    article_from_row,
    article_values,
    feed_state,
    health_values,
    match_details,
)
from pipeline.store.tables import ArticleBandRow, ArticleRow, ArticleSourceRow, FeedRow, MatchRow

# Above this many configured feeds `due_feeds` filters them in Python, not in one IN list.
AMONG_IN_SQL = 1000


Registered = TypeVar("Registered")


def _registered(register: Callable[[], Registered], attempts: int = 5) -> Registered:
    """Run `register` again when another thread or worker registered one of the same new feeds in
    the meantime (the unique URL refused our row): the next attempt reads theirs."""
    for _ in range(attempts - 1):
        try:
            return register()
        except IntegrityError:
            continue
    return register()


@cache
def _story_candidates_query() -> Select[Any]:
    """Built once: assembling this statement costs more than running it."""
    article, founder, band = (
        ArticleRow.__table__.alias("article"),
        ArticleRow.__table__.alias("founder"),
        ArticleBandRow.__table__,
    )
    return (
        select(
            band.c.band,
            article.c.id,
            article.c.story_id,
            founder.c.canonical_url,
            article.c.similarity_signature,
        )
        .select_from(band)
        .join(article, article.c.id == band.c.article_id)
        .join(founder, founder.c.id == article.c.story_id)
        .where(
            band.c.band.in_(bindparam("bands", expanding=True)),
            article.c.first_seen_at >= bindparam("since", type_=article.c.first_seen_at.type),
            article.c.similarity_signature.is_not(None),
        )
    )


_STATE_COLUMNS = ("health_state", "health_since")


@cache
def _feed_update_statement(with_state: bool) -> Any:
    table = FeedRow.__table__
    columns = [
        column
        for column in (*HEALTH_COLUMNS, "etag", "last_modified")
        if with_state or column not in _STATE_COLUMNS
    ]
    return (
        update(table)
        .where(table.c.id == bindparam("feed_id"))
        .values(
            {column: bindparam(f"v_{column}", type_=table.c[column].type) for column in columns}
            | {"items_seen": table.c.items_seen + bindparam("new_items")}
        )
    )


def _feed_update_row(feed_update: FeedUpdate) -> dict[str, object]:
    values = health_values(feed_update.health)
    values["etag"] = feed_update.conditional.etag
    values["last_modified"] = feed_update.conditional.last_modified
    if not feed_update.health_state_changed:
        for column in _STATE_COLUMNS:
            del values[column]
    row: dict[str, object] = {f"v_{column}": value for column, value in values.items()}
    row.update(feed_id=feed_update.feed_id, new_items=feed_update.new_items)
    return row


@dataclass(frozen=True, slots=True)
class PollPlan:
    """A feed's next poll, planned from its last poll (`planned_from`) under changed settings."""

    feed_id: int
    planned_from: datetime
    at: datetime
    interval: float


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """A stored article with the topics it matched when it was stored (for backtests)."""

    article_id: int
    article: Article
    matched_topics: frozenset[str]
    first_seen_at: datetime


@dataclass(frozen=True, slots=True)
class SavedArticle:
    article_id: int
    alerts_created: int


class ArticleConflict(Exception):
    """The database refused an article: a row with its canonical URL or content already exists."""


# Work joined to a write transaction, given the transaction's DBAPI connection (psycopg's, on
# PostgreSQL): what it writes commits or rolls back with the rows of the write.
JoinedWork = Callable[[Any], None]
T = TypeVar("T")


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # Cluster mode sets this: run inside each transaction that queues alert rows, to defer
        # their delivery job there, so no job wakes for rows that were rolled back, and no row
        # waits for a job that was never committed.
        self.on_alerts_queued: JoinedWork | None = None

    def session(self) -> Session:
        return self._sessions()

    def in_transaction(self, work: Callable[[Any], T]) -> T:
        """`work`'s result, run in a transaction of its own on the DBAPI connection (committed when
        it returns, rolled back when it raises)."""
        with self.engine.begin() as connection:
            return work(connection.connection.driver_connection)

    # --- feeds -----------------------------------------------------------------

    def feed_state(self, url: str, name: str) -> FeedState:
        """The stored state of the feed at `url`, registering it on first sight."""
        return _registered(lambda: self._feed_state(url, name))

    def _feed_state(self, url: str, name: str) -> FeedState:
        with self.session() as session, session.begin():
            row = session.scalar(select(FeedRow).where(FeedRow.url == url))
            if row is None:
                row = FeedRow(url=url, name=name, consecutive_failures=0, items_seen=0)
                session.add(row)
                session.flush()
            elif row.name != name:
                row.name = name
            return feed_state(row)

    def feed_states(self, feeds: Sequence[tuple[str, str]], register: bool = True) -> dict[str, FeedState]:
        """The stored state of many feeds, given as (url, name), in one transaction.

        With `register`, feeds seen for the first time get their row; without, they are left out.
        Core statements, not ORM objects: every cycle reads every configured feed (the daemon's silence
        check reads them again), and the ORM's identity map cost more than the rows.
        """
        names = dict(feeds)
        return _registered(lambda: self._feed_states(names, register))

    def _feed_states(self, names: dict[str, str], register: bool) -> dict[str, FeedState]:
        table = FeedRow.__table__
        by_urls = select(table).where(table.c.url.in_(bindparam("urls", expanding=True)))
        rows: dict[str, Any] = {}
        with self.engine.begin() as connection:

            def read(urls: list[str]) -> None:
                for start in range(0, len(urls), 500):
                    chunk = urls[start : start + 500]
                    rows.update((row.url, row) for row in connection.execute(by_urls, {"urls": chunk}))

            read(list(names))
            if register:
                missing = [url for url in names if url not in rows]
                if missing:
                    connection.execute(
                        insert(table),
                        [
                            {"url": url, "name": names[url], "consecutive_failures": 0, "items_seen": 0}
                            | {"health_state": "ok"}
                            for url in missing
                        ],
                    )
                renamed = [
                    {"feed_url": url, "new_name": names[url]}
                    for url, row in rows.items()
                    if row.name != names[url]
                ]
                if renamed:
                    connection.execute(
                        update(table)
                        .where(table.c.url == bindparam("feed_url"))
                        .values(name=bindparam("new_name")),
                        renamed,
                    )
                read(missing + [entry["feed_url"] for entry in renamed])
        return {url: feed_state(rows[url]) for url in names if url in rows}

    def set_health_state(self, feed_id: int, state: HealthState, since: datetime | None) -> None:
        """Only the health state: a silence check must not overwrite a poll's concurrent write."""
        with self.session() as session, session.begin():
            session.execute(
                update(FeedRow)
                .where(FeedRow.id == feed_id)
                .values(health_state=state.value, health_since=since)
            )

    def save_feed_healths(self, updates: Sequence[FeedUpdate], also: JoinedWork | None = None) -> None:
        """Write many feeds' states in one transaction (a cycle's worth of polls). Each poll's result,
        its health and when the feed is next due (`next_poll_at`) are one row's update: a crash never
        leaves a poll recorded without its next due time. `also` runs last in the same transaction
        (cluster mode defers the polls' new items there); nothing is written without updates."""
        if not updates:
            return
        with self.engine.begin() as connection:
            for with_state in (True, False):
                group = [update for update in updates if update.health_state_changed is with_state]
                if group:
                    connection.execute(
                        _feed_update_statement(with_state), [_feed_update_row(u) for u in group]
                    )
            if also is not None:
                also(connection.connection.driver_connection)

    def last_success_at(self) -> datetime | None:
        """The newest successful poll of any feed, by whichever process polled it."""
        with self.engine.connect() as connection:
            return connection.execute(select(func.max(FeedRow.last_success_at))).scalar_one_or_none()

    def enable_feed(self, url: str) -> bool:
        """Let a disabled or backed-off feed be polled again at once; False if no such feed is stored."""
        with self.session() as session, session.begin():
            result = session.execute(
                update(FeedRow)
                .where(FeedRow.url == url)
                .values(disabled_at=None, disabled_reason=None, next_poll_at=None, next_poll_reason=None)
            )
            return bool(result.rowcount)

    def request_poll_now(self, feed_url: str, now: datetime) -> bool:
        """The operator's "poll now": the feed is due at `now`, ahead of its interval, backoff or
        Retry-After (the operator overrides them; a disabled feed stays disabled until enabled).
        False if no feed with this URL is stored."""
        with self.session() as session, session.begin():
            result = session.execute(
                update(FeedRow)
                .where(FeedRow.url == feed_url)
                .values(next_poll_at=now, next_poll_reason=PollReason.REQUESTED.value)
            )
            return bool(result.rowcount)

    def replan_polls(self, plans: Sequence[PollPlan]) -> int:
        """Write feeds' new next poll times (after their settings changed); a feed polled or asked
        for since its plan was made keeps what that wrote. Returns how many changed."""
        if not plans:
            return 0
        table = FeedRow.__table__
        statement = (
            update(table)
            .where(
                table.c.id == bindparam("feed_id"),
                table.c.last_polled_at == bindparam("planned_from", type_=table.c.last_polled_at.type),
                table.c.next_poll_reason == PollReason.SCHEDULE.value,
            )
            .values(
                next_poll_at=bindparam("at", type_=table.c.next_poll_at.type),
                poll_interval=bindparam("interval"),
            )
        )
        rows = [
            {
                "feed_id": plan.feed_id,
                "planned_from": plan.planned_from,
                "at": plan.at,
                "interval": plan.interval,
            }
            for plan in plans
        ]
        with self.engine.begin() as connection:
            return connection.execute(statement, rows).rowcount

    def due_feeds(self, now: datetime, limit: int, among: Collection[str] | None = None) -> list[FeedState]:
        """Up to `limit` enabled feeds due at `now` (`next_poll_at <= now`, or never scheduled), the
        longest overdue first. `among`: only these feed URLs (the configured ones: a feed removed
        from the config keeps its row, and must not be polled)."""
        if limit <= 0 or (among is not None and not among):
            return []
        query = (
            select(FeedRow)
            .where(
                FeedRow.disabled_at.is_(None),
                or_(FeedRow.next_poll_at.is_(None), FeedRow.next_poll_at <= now),
            )
            .order_by(FeedRow.next_poll_at.asc().nulls_first(), FeedRow.id)
            .limit(limit)
        )
        if among is None:
            with self.session() as session:
                return [feed_state(row) for row in session.scalars(query)]
        if len(among) <= AMONG_IN_SQL:
            query = query.where(FeedRow.url.in_(bindparam("among", expanding=True)))
            with self.session() as session:
                return [feed_state(row) for row in session.scalars(query, {"among": list(among)})]
        # One bound parameter per URL would pass SQLite's 32,766 and PostgreSQL's 65,535 limits
        # at large feed lists: read the due feeds in order and keep the wanted ones instead.
        wanted = among if isinstance(among, (set, frozenset)) else set(among)
        picked: list[FeedState] = []
        with self.session() as session:
            for row in session.scalars(query.limit(None).execution_options(yield_per=500)):
                if row.url in wanted:
                    picked.append(feed_state(row))
                    if len(picked) == limit:
                        break
        return picked

    def recent_item_times(self, feed_ids: Sequence[int], per_feed: int = 30) -> dict[int, list[datetime]]:
        """Publication times (arrival time where the feed gave none) of each feed's latest items."""
        if not feed_ids:
            return {}
        item_time = func.coalesce(ArticleRow.published_at, ArticleSourceRow.seen_at)
        ranked = (
            select(
                ArticleSourceRow.feed_id.label("feed_id"),
                ArticleRow.published_at.label("published_at"),
                ArticleSourceRow.seen_at.label("seen_at"),
                func.row_number()
                .over(partition_by=ArticleSourceRow.feed_id, order_by=item_time.desc())
                .label("rank"),
            )
            .join(ArticleRow, ArticleRow.id == ArticleSourceRow.article_id)
            .where(ArticleSourceRow.feed_id.in_(feed_ids))
            .subquery()
        )
        times: dict[int, list[datetime]] = defaultdict(list)
        query = select(ranked.c.feed_id, ranked.c.published_at, ranked.c.seen_at).where(
            ranked.c.rank <= per_feed
        )
        with self.session() as session:
            for feed_id, published_at, seen_at in session.execute(query):
                times[feed_id].append(published_at or seen_at)
        return dict(times)

    def known_article_ids(self, canonical_urls: Sequence[str]) -> dict[str, int]:
        if not canonical_urls:
            return {}
        with self.session() as session:
            rows = session.execute(
                select(ArticleRow.canonical_url, ArticleRow.id).where(
                    ArticleRow.canonical_url.in_(canonical_urls)
                )
            )
            return {url: article_id for url, article_id in rows}

    def known_article_sources(
        self, canonical_urls: Sequence[str], feed_id: int
    ) -> dict[str, tuple[int, bool]]:
        """For each known canonical URL: its article id, and whether `feed_id` already carried it."""
        found: dict[str, tuple[int, bool]] = {}
        if not canonical_urls:
            return found
        with self.engine.connect() as connection:
            for chunk in _chunks(canonical_urls):
                rows = connection.execute(
                    _article_statements().sources_of_urls, {"urls": chunk, "feed_id": feed_id}
                )
                for url, article_id, source_id in rows:
                    found[url] = (article_id, source_id is not None)
        return found

    def add_source(self, article_id: int, feed_id: int, url: str) -> bool:
        """Record that another feed carries a known article (idempotent); True if it is new."""
        try:
            with self.article_batch() as batch:
                return batch.add_source(article_id, feed_id, url)
        except ArticleConflict:
            return False  # a concurrent poll recorded the same source first

    def save_article(
        self,
        article: Article,
        feed_id: int,
        verdicts: Iterable[Verdict],
        alerts: Iterable[PlannedAlert],
        fingerprint: ArticleFingerprint | None = None,
        story_id: int | None = None,
    ) -> SavedArticle:
        """Store one article in its own transaction (see `ArticleBatch.save_article`)."""
        with self.article_batch() as batch:
            return batch.save_article(article, feed_id, verdicts, alerts, fingerprint, story_id)

    @contextmanager
    def article_batch(self) -> Iterator[ArticleBatch]:
        """One transaction for the lookups and writes of many new articles (a poll's worth),
        committed when the block ends; an exception rolls all of it back. When the batch queued
        alert rows, `on_alerts_queued` runs inside the same transaction, once for the batch."""
        with self.session() as session, session.begin():
            batch = ArticleBatch(session)
            yield batch
            batch.flush()
            if batch.alerts_queued and self.on_alerts_queued is not None:
                self.on_alerts_queued(session.connection().connection.driver_connection)

    def stored_articles(self, since: datetime | None = None, batch: int = 500) -> Iterator[StoredArticle]:
        """Every article first seen at or after `since` (all if None), oldest first, with the topics
        it matched. Read-only; streamed in batches so a large store is not loaded at once."""
        articles = select(ArticleRow).order_by(ArticleRow.first_seen_at, ArticleRow.id)
        matches = select(MatchRow.article_id, MatchRow.topic).join(
            ArticleRow, MatchRow.article_id == ArticleRow.id
        )
        if since is not None:
            articles = articles.where(ArticleRow.first_seen_at >= since)
            matches = matches.where(ArticleRow.first_seen_at >= since)
        with self.session() as session:
            topics: dict[int, set[str]] = {}
            for article_id, topic in session.execute(matches):
                topics.setdefault(article_id, set()).add(topic)
            for row in session.scalars(articles.execution_options(yield_per=batch)):
                yield StoredArticle(
                    article_id=row.id,
                    article=article_from_row(row),
                    matched_topics=frozenset(topics.get(row.id, ())),
                    first_seen_at=row.first_seen_at,
                )

    def recent_matches(
        self, topic: str | None = None, since: datetime | None = None, limit: int = 50
    ) -> list[MatchDetails]:
        """Stored matches, newest first, with their articles (read-only; `newswatch matches`)."""
        query = (
            select(MatchRow, ArticleRow)
            .join(ArticleRow, MatchRow.article_id == ArticleRow.id)
            .order_by(MatchRow.matched_at.desc(), MatchRow.id.desc())
            .limit(limit)
        )
        if topic is not None:
            query = query.where(MatchRow.topic == topic)
        if since is not None:
            query = query.where(MatchRow.matched_at >= since)
        with self.session() as session:
            return [match_details(match, article) for match, article in session.execute(query)]

    # --- maintenance and monitoring -------------------------------------------------

    def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        with self.engine.connect() as connection:
            connection.execute(select(1))

    def prune_unmatched_articles(self, older_than: datetime) -> int:
        """Delete articles first seen before `older_than` that matched no topic; matches are kept."""
        matched = select(MatchRow.id).where(MatchRow.article_id == ArticleRow.id).exists()
        with self.session() as session, session.begin():
            result = session.execute(
                delete(ArticleRow).where(ArticleRow.first_seen_at < older_than, ~matched)
            )
            return int(result.rowcount or 0)


class ArticleBatch:
    """The lookups and writes of new articles inside one transaction (`Store.article_batch`).

    A poll's new articles are stored together: one transaction and one connection instead of one
    transaction and three connection check-outs per article (issue 16's profile). The lookups take
    the whole batch at once (`ids_by_fingerprint`, `ids_by_url`, `story_candidates_by_band`); what
    the batch itself files is the caller's to remember (pipeline/stories.py). An article's own row
    is inserted at once (the rows that point at it need its id); its bands, first source and
    founder mark wait for `flush`, which writes each kind in one statement before the commit. An
    article the database refuses (another process stored it first) ends the batch: see
    `save_article`.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.connection = session.connection()
        self.alerts_queued = False
        self._founders: list[dict[str, int]] = []
        self._bands: list[dict[str, object]] = []
        # The sources waiting for `flush`, by (article id, feed id).
        self._sources: dict[tuple[int, int], dict[str, object]] = {}

    def ids_by_fingerprint(self, content_fingerprints: Collection[str]) -> dict[str, int]:
        """The stored article of each content fingerprint that has one."""
        statement = _article_statements().by_fingerprints
        return dict(self._in_chunks(statement, "fingerprints", content_fingerprints))

    def ids_by_url(self, canonical_urls: Collection[str]) -> dict[str, int]:
        """The stored article of each canonical URL that has one."""
        return dict(self._in_chunks(_article_statements().by_urls, "urls", canonical_urls))

    def story_candidates_by_band(
        self, bands: Collection[str], since: datetime
    ) -> dict[str, list[StoryCandidate]]:
        """For each of `bands`, the articles first seen since `since` that have it."""
        by_band: dict[str, list[StoryCandidate]] = defaultdict(list)
        for chunk in _chunks(bands):
            rows = self.connection.execute(_story_candidates_query(), {"bands": chunk, "since": since})
            for band, article_id, story_id, story_key, signature in rows:
                by_band[band].append(StoryCandidate(article_id, story_id, story_key, bytes(signature)))
        return by_band

    def add_source(self, article_id: int, feed_id: int, url: str) -> bool:
        """Record that another feed carries a known article (idempotent); True if it is new.
        Raises `ArticleConflict` at `flush` if another process recorded it between the check and
        the write."""
        if (article_id, feed_id) in self._sources:
            return False
        statements = _article_statements()
        exists = self.connection.scalar(statements.source_of, {"article_id": article_id, "feed_id": feed_id})
        if exists is not None:
            return False
        self._add_source_at_flush(article_id, feed_id, url)
        return True

    def save_article(
        self,
        article: Article,
        feed_id: int,
        verdicts: Iterable[Verdict],
        alerts: Iterable[PlannedAlert],
        fingerprint: ArticleFingerprint | None = None,
        story_id: int | None = None,
    ) -> SavedArticle:
        """Store an article, its source, its matches and their outbox rows.

        A unique constraint refusing the article (another process stored the same canonical URL or
        content first) raises `ArticleConflict`, after which the batch can only be rolled back (no
        savepoint per article: SQLAlchemy compiles every SAVEPOINT anew, which cost as much as the
        article's own statements); what that means is decided in pipeline/stories.py. `story_id`
        joins the article to a story; None starts a new story with this article. The alert rows are
        written by the outbox (`queue_planned`).
        """
        try:
            article_id = self._insert_article(article, feed_id, fingerprint, story_id)
            match_ids = _insert_matches(self.session, article_id, verdicts)
            created_alerts = queue_planned(self.session, list(alerts), match_ids)
        except IntegrityError as error:
            raise ArticleConflict(article.canonical_url) from error
        self.alerts_queued = self.alerts_queued or created_alerts > 0
        return SavedArticle(article_id=article_id, alerts_created=created_alerts)

    def flush(self) -> None:
        """Write the bands, sources and founder marks gathered so far, one statement each. Raises
        `ArticleConflict` if the database refuses a source another process wrote first."""
        statements = _article_statements()
        try:
            if self._founders:
                self.connection.execute(statements.found_story, self._founders)
            if self._bands:
                self.connection.execute(statements.insert_bands, self._bands)
            if self._sources:
                self.connection.execute(statements.insert_source, list(self._sources.values()))
        except IntegrityError as error:
            urls = ", ".join(str(source["url"]) for source in self._sources.values())
            raise ArticleConflict(urls) from error
        self._founders, self._bands, self._sources = [], [], {}

    def _insert_article(
        self, article: Article, feed_id: int, fingerprint: ArticleFingerprint | None, story_id: int | None
    ) -> int:
        """The article's row now; its founder mark (when `story_id` is None), LSH bands and first
        source at `flush`. Core statements: the ORM's unit of work costs more than the row itself
        here, and every new item of every feed comes through this path."""
        values = article_values(article, feed_id, fingerprint, story_id)
        article_id: int = self.connection.execute(_article_statements().insert_article, values).scalar_one()
        if story_id is None:
            self._founders.append({"founder": article_id})
        if fingerprint and fingerprint.bands:
            bands = sorted(set(fingerprint.bands))
            self._bands.extend({"band": band, "article_id": article_id} for band in bands)
        self._add_source_at_flush(article_id, feed_id, article.url)
        return article_id

    def _add_source_at_flush(self, article_id: int, feed_id: int, url: str) -> None:
        self._sources[article_id, feed_id] = {"article_id": article_id, "feed_id": feed_id, "url": url}

    def _in_chunks(self, statement: Any, name: str, values: Collection[str]) -> Iterator[Any]:
        for chunk in _chunks(values):
            yield from self.connection.execute(statement, {name: chunk})


# Values per IN list: well under SQLite's and PostgreSQL's limits on bound parameters.
IN_CHUNK = 500


def _chunks(values: Collection[str]) -> Iterator[list[str]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), IN_CHUNK):
        yield ordered[start : start + IN_CHUNK]


@dataclass(frozen=True)
class _ArticleStatements:
    """The statements every new item goes through, built once: building an INSERT with `.values()`
    for every article cost more CPU than SQLite spent running it (issue 16's profile)."""

    insert_article: Any
    found_story: Any
    insert_bands: Any
    insert_source: Any
    by_fingerprints: Any
    by_urls: Any
    source_of: Any
    sources_of_urls: Any


@cache
def _article_statements() -> _ArticleStatements:
    articles, sources = ArticleRow.__table__, ArticleSourceRow.__table__
    return _ArticleStatements(
        insert_article=insert(articles).returning(articles.c.id),
        found_story=update(articles)
        .where(articles.c.id == bindparam("founder"))
        .values(story_id=bindparam("founder")),
        insert_bands=insert(ArticleBandRow.__table__),
        insert_source=insert(ArticleSourceRow.__table__),
        by_fingerprints=select(articles.c.content_fingerprint, articles.c.id).where(
            articles.c.content_fingerprint.in_(bindparam("fingerprints", expanding=True))
        ),
        by_urls=select(articles.c.canonical_url, articles.c.id).where(
            articles.c.canonical_url.in_(bindparam("urls", expanding=True))
        ),
        source_of=select(sources.c.id).where(
            sources.c.article_id == bindparam("article_id"), sources.c.feed_id == bindparam("feed_id")
        ),
        sources_of_urls=select(articles.c.canonical_url, articles.c.id, sources.c.id)
        .outerjoin(
            sources, (sources.c.article_id == articles.c.id) & (sources.c.feed_id == bindparam("feed_id"))
        )
        .where(articles.c.canonical_url.in_(bindparam("urls", expanding=True))),
    )


def _insert_matches(session: Session, article_id: int, verdicts: Iterable[Verdict]) -> dict[str, int]:
    """One match row per verdict; their ids by topic, for the alerts that point at them."""
    match_ids = {}
    for verdict in verdicts:
        match = MatchRow(
            article_id=article_id,
            topic=verdict.topic,
            score=verdict.score,
            explanation=verdict.explanation.to_json(),
            snippet=[list(segment) for segment in verdict.snippet],
        )
        session.add(match)
        session.flush()
        match_ids[verdict.topic] = match.id
    return match_ids


__all__ = [
    "ArticleBatch",
    "ArticleConflict",
    "FeedState",
    "FeedUpdate",
    "SavedArticle",
    "Store",
    "StoredArticle",
]
