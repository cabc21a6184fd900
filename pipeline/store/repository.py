"""The queries newswatch needs, each in its own short transaction. No business rules here:
callers decide what to write; this module only writes it atomically."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from pipeline.models import (
    AlertKind,
    Article,
    ConditionalState,
    ExtractionMethod,
    MatchDetails,
    Notice,
    OutgoingAlert,
    PlannedAlert,
    Verdict,
)
from pipeline.store.tables import AlertRow, ArticleRow, ArticleSourceRow, FeedRow, MatchRow


@dataclass(frozen=True, slots=True)
class FeedState:
    feed_id: int
    url: str
    conditional: ConditionalState
    consecutive_failures: int


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
    created: bool
    alerts_created: int


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def session(self) -> Session:
        return self._sessions()

    # --- feeds -----------------------------------------------------------------

    def feed_state(self, url: str, name: str) -> FeedState:
        """The stored state of the feed at `url`, registering it on first sight."""
        with self.session() as session, session.begin():
            row = session.scalar(select(FeedRow).where(FeedRow.url == url))
            if row is None:
                row = FeedRow(url=url, name=name, consecutive_failures=0, items_seen=0)
                session.add(row)
                session.flush()
            elif row.name != name:
                row.name = name
            return FeedState(
                feed_id=row.id,
                url=row.url,
                conditional=ConditionalState(etag=row.etag, last_modified=row.last_modified),
                consecutive_failures=row.consecutive_failures,
            )

    def record_feed_success(
        self, feed_id: int, status: int, conditional: ConditionalState | None, items: int, when: datetime
    ) -> None:
        values: dict[str, object] = {
            "last_polled_at": when,
            "last_success_at": when,
            "last_status": status,
            "consecutive_failures": 0,
            "last_error": None,
            "items_seen": FeedRow.items_seen + items,
        }
        if conditional is not None:
            values["etag"] = conditional.etag
            values["last_modified"] = conditional.last_modified
        with self.session() as session, session.begin():
            session.execute(update(FeedRow).where(FeedRow.id == feed_id).values(**values))

    def record_feed_failure(self, feed_id: int, status: int | None, error: str, when: datetime) -> None:
        with self.session() as session, session.begin():
            session.execute(
                update(FeedRow)
                .where(FeedRow.id == feed_id)
                .values(
                    last_polled_at=when,
                    last_status=status,
                    last_error=error,
                    consecutive_failures=FeedRow.consecutive_failures + 1,
                )
            )

    # --- articles --------------------------------------------------------------

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

    def add_source(self, article_id: int, feed_id: int, url: str) -> None:
        """Record that another feed carries a known article (idempotent)."""
        try:
            with self.session() as session, session.begin():
                exists = session.scalar(
                    select(ArticleSourceRow.id).where(
                        ArticleSourceRow.article_id == article_id, ArticleSourceRow.feed_id == feed_id
                    )
                )
                if exists is None:
                    session.add(ArticleSourceRow(article_id=article_id, feed_id=feed_id, url=url))
        except IntegrityError:
            pass  # a concurrent poll recorded the same source first

    def save_article(
        self,
        article: Article,
        feed_id: int,
        verdicts: Iterable[Verdict],
        alerts: Iterable[PlannedAlert],
    ) -> SavedArticle:
        """Store an article, its matches and their outbox rows in one transaction.

        If another poll stored the same canonical URL first, nothing of ours is
        written except the source link, and `created` is False: that poll owns
        the matches and alerts, so nothing is sent twice.
        """
        try:
            with self.session() as session, session.begin():
                row = ArticleRow(
                    canonical_url=article.canonical_url,
                    url=article.url,
                    title=article.title,
                    body=article.body,
                    summary=article.summary,
                    author=article.author,
                    language=article.language,
                    published_at=article.published,
                    extraction_method=article.method.value,
                    extraction_note=article.extraction_note,
                    source=article.source,
                    first_feed_id=feed_id,
                )
                session.add(row)
                session.flush()
                session.add(ArticleSourceRow(article_id=row.id, feed_id=feed_id, url=article.url))
                match_ids = {}
                for verdict in verdicts:
                    match = MatchRow(
                        article_id=row.id,
                        topic=verdict.topic,
                        score=verdict.score,
                        explanation=verdict.explanation,
                        snippet=[list(segment) for segment in verdict.snippet],
                    )
                    session.add(match)
                    session.flush()
                    match_ids[verdict.topic] = match.id
                created_alerts = 0
                for alert in alerts:
                    session.add(
                        AlertRow(
                            kind=AlertKind.MATCH.value,
                            match_id=match_ids[alert.topic],
                            channel=alert.channel,
                            idempotency_key=alert.idempotency_key,
                            status="pending",
                            attempts=0,
                        )
                    )
                    created_alerts += 1
                return SavedArticle(article_id=row.id, created=True, alerts_created=created_alerts)
        except IntegrityError:
            existing = self.known_article_ids([article.canonical_url]).get(article.canonical_url)
            if existing is None:
                raise
            self.add_source(existing, feed_id, article.url)
            return SavedArticle(article_id=existing, created=False, alerts_created=0)

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
                    article=Article(
                        url=row.url,
                        canonical_url=row.canonical_url,
                        title=row.title,
                        body=row.body,
                        published=row.published_at,
                        author=row.author,
                        language=row.language,
                        source=row.source,
                        method=ExtractionMethod(row.extraction_method),
                        summary=row.summary,
                        extraction_note=row.extraction_note,
                    ),
                    matched_topics=frozenset(topics.get(row.id, ())),
                    first_seen_at=row.first_seen_at,
                )

    # --- alert outbox ----------------------------------------------------------

    def due_alerts(self, now: datetime, limit: int = 100) -> list[OutgoingAlert]:
        query = (
            select(AlertRow, MatchRow, ArticleRow)
            .outerjoin(MatchRow, AlertRow.match_id == MatchRow.id)
            .outerjoin(ArticleRow, MatchRow.article_id == ArticleRow.id)
            .where(AlertRow.status == "pending", AlertRow.next_attempt_at <= now)
            .order_by(AlertRow.next_attempt_at, AlertRow.id)
            .limit(limit)
        )
        with self.session() as session:
            return [_outgoing(alert, match, article) for alert, match, article in session.execute(query)]

    def queue_notice(self, channel: str, idempotency_key: str, notice: Notice) -> bool:
        """Queue an operator notice; False if one with this key was already queued (so it is sent once)."""
        payload = {"subject": notice.subject, "text": notice.text, "details": dict(notice.details)}
        try:
            with self.session() as session, session.begin():
                session.add(
                    AlertRow(
                        kind=AlertKind.NOTICE.value,
                        payload=payload,
                        channel=channel,
                        idempotency_key=idempotency_key,
                        status="pending",
                        attempts=0,
                    )
                )
        except IntegrityError:
            return False
        return True

    def mark_alert_sent(self, alert_id: int, when: datetime) -> None:
        with self.session() as session, session.begin():
            session.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id)
                .values(status="sent", sent_at=when, attempts=AlertRow.attempts + 1, last_error=None)
            )

    def mark_alert_retry(self, alert_id: int, error: str, next_attempt_at: datetime) -> None:
        with self.session() as session, session.begin():
            session.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id)
                .values(attempts=AlertRow.attempts + 1, last_error=error, next_attempt_at=next_attempt_at)
            )

    def alert_counts(self) -> dict[str, int]:
        with self.session() as session:
            rows = session.execute(select(AlertRow.status, func.count()).group_by(AlertRow.status))
            return {status: count for status, count in rows}


def _outgoing(alert: AlertRow, match: MatchRow | None, article: ArticleRow | None) -> OutgoingAlert:
    details = None
    if match is not None and article is not None:
        details = MatchDetails(
            topic=match.topic,
            score=match.score,
            explanation=match.explanation,
            snippet=[(str(text), bool(flag)) for text, flag in match.snippet],
            # The canonical URL is the clean one (no tracking parameters) a reader should get.
            article_url=article.canonical_url if article.canonical_url.startswith("http") else article.url,
            title=article.title,
            source=article.source,
            published=article.published_at,
            author=article.author,
            language=article.language,
            matched_at=match.matched_at,
        )
    notice = None
    if alert.payload is not None:
        notice = Notice(
            subject=str(alert.payload.get("subject", "")),
            text=str(alert.payload.get("text", "")),
            details={str(key): str(value) for key, value in (alert.payload.get("details") or {}).items()},
        )
    return OutgoingAlert(
        alert_id=alert.id,
        idempotency_key=alert.idempotency_key,
        channel=alert.channel,
        attempts=alert.attempts,
        kind=AlertKind(alert.kind),
        created_at=alert.created_at,
        match=details,
        notice=notice,
    )


__all__ = ["FeedState", "SavedArticle", "Store", "StoredArticle"]
