"""Row <-> model mappings, each written once and used in both directions.

A column added to a table and a field added to a model meet here: the repository (articles, feeds)
and the outbox (alerts) both read and write through these functions, so the two directions cannot
drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.match.explanation import Explanation
from pipeline.models import (
    AlertKind,
    Article,
    ArticleFingerprint,
    ConditionalState,
    ExtractionMethod,
    FeedHealth,
    FeedState,
    HealthState,
    MatchDetails,
    Notice,
    OutgoingAlert,
)
from pipeline.schedule import PollReason
from pipeline.store.tables import AlertRow, ArticleRow, ArticleSourceRow, FeedRow, MatchRow

# --- feeds -----------------------------------------------------------------------------------

# FeedHealth's fields are FeedRow's columns of the same name.
HEALTH_COLUMNS = (
    "last_polled_at",
    "last_success_at",
    "last_status",
    "consecutive_failures",
    "failing_since",
    "last_error",
    "last_error_kind",
    "parse_warning",
    "next_poll_at",
    "next_poll_reason",
    "poll_interval",
    "moved_to",
    "disabled_at",
    "disabled_reason",
    "health_state",
    "health_since",
)


def health_values(health: FeedHealth) -> dict[str, object]:
    values: dict[str, object] = {column: getattr(health, column) for column in HEALTH_COLUMNS}
    values["health_state"] = health.health_state.value
    values["next_poll_reason"] = health.next_poll_reason.value if health.next_poll_reason else None
    return values


def feed_health(row: Any) -> FeedHealth:
    """`row`: a `FeedRow` or a Core row of the feeds table (the same attributes)."""
    values: dict[str, Any] = {column: getattr(row, column) for column in HEALTH_COLUMNS}
    # Rows written before these columns had defaults may hold NULL.
    values["consecutive_failures"] = row.consecutive_failures or 0
    values["health_state"] = HealthState(row.health_state or "ok")
    values["next_poll_reason"] = PollReason(row.next_poll_reason) if row.next_poll_reason else None
    return FeedHealth(**values)


def feed_state(row: Any) -> FeedState:
    """`row`: a `FeedRow` or a Core row of the feeds table (the same attributes)."""
    return FeedState(
        feed_id=row.id,
        url=row.url,
        conditional=ConditionalState(etag=row.etag, last_modified=row.last_modified),
        consecutive_failures=row.consecutive_failures or 0,
        name=row.name,
        health=feed_health(row),
        items_seen=row.items_seen or 0,
        created_at=row.created_at,
    )


# --- articles --------------------------------------------------------------------------------

# Article field -> ArticleRow column, where the names differ; the rest share their name.
_ARTICLE_RENAMED = {"published": "published_at", "method": "extraction_method"}
_ARTICLE_FIELDS = (
    "canonical_url",
    "url",
    "title",
    "body",
    "summary",
    "author",
    "language",
    "published",
    "method",
    "extraction_note",
    "source",
)


def article_values(
    article: Article, feed_id: int, fingerprint: ArticleFingerprint | None, story_id: int | None
) -> dict[str, object]:
    """The `articles` row of a new article first brought by feed `feed_id`."""
    values: dict[str, object] = {
        _ARTICLE_RENAMED.get(name, name): getattr(article, name) for name in _ARTICLE_FIELDS
    }
    values["extraction_method"] = article.method.value
    values.update(
        first_feed_id=feed_id,
        content_fingerprint=fingerprint.content if fingerprint else None,
        similarity_signature=fingerprint.signature if fingerprint else None,
        story_id=story_id,
    )
    return values


def article_from_row(row: ArticleRow) -> Article:
    values: dict[str, Any] = {
        name: getattr(row, _ARTICLE_RENAMED.get(name, name)) for name in _ARTICLE_FIELDS
    }
    values["method"] = ExtractionMethod(row.extraction_method)
    return Article(**values)


# --- alerts ----------------------------------------------------------------------------------


def notice_payload(notice: Notice) -> dict[str, object]:
    return {"subject": notice.subject, "text": notice.text, "details": dict(notice.details)}


def notice_from_payload(payload: dict[str, Any]) -> Notice:
    return Notice(
        subject=str(payload.get("subject", "")),
        text=str(payload.get("text", "")),
        details={str(key): str(value) for key, value in (payload.get("details") or {}).items()},
    )


def story_sources(session: Session, articles: Sequence[ArticleRow]) -> dict[int, list[tuple[str, str]]]:
    """For each article: the other (feed name, URL) pairs that carried its story, oldest first."""
    story_ids = {article.story_id for article in articles if article.story_id is not None}
    if not story_ids:
        return {}
    rows = session.execute(
        select(ArticleRow.story_id, ArticleSourceRow.article_id, ArticleSourceRow.feed_id, FeedRow.name)
        .add_columns(ArticleSourceRow.url)
        .join(ArticleRow, ArticleRow.id == ArticleSourceRow.article_id)
        .join(FeedRow, FeedRow.id == ArticleSourceRow.feed_id)
        .where(ArticleRow.story_id.in_(story_ids))
        .order_by(ArticleSourceRow.seen_at, ArticleSourceRow.id)
    ).all()
    sources: dict[int, list[tuple[str, str]]] = {}
    for article in articles:
        found: list[tuple[str, str]] = []
        for story_id, article_id, feed_id, name, url in rows:
            is_this_alert = article_id == article.id and feed_id == article.first_feed_id
            if story_id == article.story_id and not is_this_alert and (name, url) not in found:
                found.append((name, url))
        sources[article.id] = found
    return sources


def match_details(
    match: MatchRow, article: ArticleRow, other_sources: list[tuple[str, str]] | None = None
) -> MatchDetails:
    """A stored match with its article, as alerts and `newswatch matches` show it."""
    return MatchDetails(
        topic=match.topic,
        score=match.score,
        explanation=Explanation.from_json(match.explanation),
        snippet=[(str(text), bool(flag)) for text, flag in match.snippet],
        # The canonical URL is the clean one (no tracking parameters) a reader should get.
        article_url=article.canonical_url if article.canonical_url.startswith("http") else article.url,
        title=article.title,
        source=article.source,
        published=article.published_at,
        author=article.author,
        language=article.language,
        matched_at=match.matched_at,
        other_sources=list(other_sources or []),
    )


def outgoing_alert(
    alert: AlertRow,
    match: MatchRow | None,
    article: ArticleRow | None,
    other_sources: list[tuple[str, str]] | None = None,
) -> OutgoingAlert:
    details = None
    if match is not None and article is not None:
        details = match_details(match, article, other_sources)
    notice = None
    if alert.payload is not None and alert.kind == AlertKind.NOTICE.value:
        notice = notice_from_payload(alert.payload)
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


__all__ = [
    "HEALTH_COLUMNS",
    "article_from_row",
    "article_values",
    "feed_health",
    "feed_state",
    "health_values",
    "notice_from_payload",
    "notice_payload",
    "outgoing_alert",
    "story_sources",
]
