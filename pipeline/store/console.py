"""The console's queries: users, tokens, feedback (its only writes besides alert retries), and
read-only views of articles, matches, feeds and alerts.

Kept apart from `repository.py` and `outbox.py`: the pipeline's queries change for the pipeline's
reasons, the console's for the analysts'. Nothing here decides anything; it only reads and writes rows.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, case, delete, exists, func, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from pipeline.models import Article
from pipeline.store.console_tables import (
    ROLES,
    ApiTokenRow,
    ConsoleSecretRow,
    FeedbackRow,
    LoginFailureRow,
    UserRow,
)
from pipeline.store.rows import article_from_row
from pipeline.store.tables import AlertRow, ArticleRow, ArticleSourceRow, FeedRow, MatchRow


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: str
    password_hash: str

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"


@dataclass(frozen=True, slots=True)
class ArticleText:
    id: int
    first_seen_at: datetime
    title: str
    body: str


@dataclass(frozen=True, slots=True)
class MatchFilters:
    topic: str | None = None
    feed_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    language: str | None = None
    # "relevant", "not-relevant" (by anyone) or "none" (no judgement yet).
    feedback: str | None = None


@dataclass(frozen=True, slots=True)
class MatchItem:
    match_id: int
    article_id: int
    topic: str
    score: float
    matched_at: datetime
    snippet: list[Any]
    title: str
    url: str
    source: str
    language: str | None
    published_at: datetime | None
    story_sources: int
    relevant: int
    not_relevant: int


@dataclass(frozen=True, slots=True)
class AlertItem:
    id: int
    kind: str
    channel: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime
    match_id: int | None
    article_id: int | None
    topic: str | None
    title: str | None


@dataclass(frozen=True, slots=True)
class FeedbackItem:
    id: int
    article_id: int
    topic: str
    relevant: bool
    user_name: str
    created_at: datetime


@dataclass
class ArticleView:
    article: ArticleRow
    matches: list[MatchRow]
    alerts: list[AlertItem]
    feedback: list[FeedbackItem]
    # (title, source, url, article id) of every article of its story, this one included.
    story: list[tuple[str, str, str, int]] = field(default_factory=list)
    # (feed name, url) of every feed that carried it.
    sources: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TopicStats:
    topic: str
    matches: int
    per_day: list[tuple[date, int]]
    relevant: int
    not_relevant: int

    @property
    def precision(self) -> float | None:
        judged = self.relevant + self.not_relevant
        return self.relevant / judged if judged else None


@dataclass(frozen=True, slots=True)
class LabelRow:
    article_id: int
    title: str
    body: str
    language: str | None
    url: str
    relevant_topics: frozenset[str]
    judged_topics: frozenset[str]


class UserExists(ValueError):
    pass


def _user(row: UserRow) -> User:
    return User(row.id, row.name, row.role, row.password_hash)


class ConsoleStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # --- secrets -----------------------------------------------------------------

    def secret(self, name: str) -> str:
        """The named random key, made on first use. Two processes racing both read the winner's."""
        query = select(ConsoleSecretRow.value).where(ConsoleSecretRow.name == name)
        with self.session() as session:
            value = session.scalar(query)
        if value is not None:
            return value
        try:
            with self.session() as session, session.begin():
                session.add(ConsoleSecretRow(name=name, value=secrets.token_hex(32)))
        except IntegrityError:
            pass
        with self.session() as session:
            return session.scalars(query).one()

    # --- users and tokens --------------------------------------------------------------

    def add_user(self, name: str, password_hash: str, role: str) -> User:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        with self.session() as session:
            try:
                with session.begin():
                    row = UserRow(name=name, password_hash=password_hash, role=role, created_at=_now())
                    session.add(row)
            except IntegrityError:
                raise UserExists(name) from None
            return _user(row)

    def set_password(self, user_id: int, password_hash: str) -> None:
        with self.session() as session, session.begin():
            session.execute(update(UserRow).where(UserRow.id == user_id).values(password_hash=password_hash))

    def remove_user(self, name: str) -> bool:
        with self.session() as session, session.begin():
            return bool(session.execute(delete(UserRow).where(UserRow.name == name)).rowcount)

    def users(self) -> list[User]:
        with self.session() as session:
            return [_user(row) for row in session.scalars(select(UserRow).order_by(UserRow.name))]

    def user_by_name(self, name: str) -> User | None:
        with self.session() as session:
            row = session.scalar(select(UserRow).where(UserRow.name == name))
            return _user(row) if row else None

    def user_by_id(self, user_id: int) -> User | None:
        with self.session() as session:
            row = session.get(UserRow, user_id)
            return _user(row) if row else None

    def login_failures(self, keys: Sequence[str], since: datetime) -> dict[str, int]:
        """How many failed sign-ins each key has had since `since`."""
        query = (
            select(LoginFailureRow.key, func.count())
            .where(LoginFailureRow.key.in_(list(keys)), LoginFailureRow.failed_at >= since)
            .group_by(LoginFailureRow.key)
        )
        with self.session() as session:
            counts = {key: int(count) for key, count in session.execute(query)}
        return {key: counts.get(key, 0) for key in keys}

    def add_login_failure(self, keys: Sequence[str], at: datetime, forget_before: datetime) -> None:
        """Count a failed sign-in under each key, and forget failures too old to count any more."""
        with self.session() as session, session.begin():
            session.execute(delete(LoginFailureRow).where(LoginFailureRow.failed_at < forget_before))
            session.add_all(LoginFailureRow(key=key, failed_at=at) for key in keys)

    def add_token(self, user_id: int, label: str, token_hash: str) -> None:
        with self.session() as session, session.begin():
            session.add(ApiTokenRow(user_id=user_id, label=label, token_hash=token_hash, created_at=_now()))

    def user_by_token(self, token_hash: str) -> User | None:
        with self.session() as session:
            row = session.scalar(
                select(UserRow)
                .join(ApiTokenRow, ApiTokenRow.user_id == UserRow.id)
                .where(ApiTokenRow.token_hash == token_hash)
            )
            return _user(row) if row else None

    # --- feedback ----------------------------------------------------------------------

    def set_feedback(self, article_id: int, topic: str, relevant: bool, user: User) -> FeedbackItem:
        """Record (or replace) this user's judgement of the article for the topic."""
        now = _now()
        with self.session() as session, session.begin():
            if session.get(ArticleRow, article_id) is None:
                raise LookupError(f"no article {article_id}")
            row = session.scalar(
                select(FeedbackRow).where(
                    FeedbackRow.article_id == article_id,
                    FeedbackRow.topic == topic,
                    FeedbackRow.user_id == user.id,
                )
            )
            if row is None:
                row = FeedbackRow(article_id=article_id, topic=topic, user_id=user.id)
                session.add(row)
            row.relevant, row.user_name, row.created_at = relevant, user.name, now
            session.flush()
            return _feedback(row)

    def feedback(self, limit: int = 100, after_id: int | None = None) -> list[FeedbackItem]:
        query = select(FeedbackRow).order_by(FeedbackRow.id.desc()).limit(limit)
        if after_id is not None:
            query = query.where(FeedbackRow.id < after_id)
        with self.session() as session:
            return [_feedback(row) for row in session.scalars(query)]

    def labels(self) -> list[LabelRow]:
        """Every judged article with the topics judged relevant (by a majority of its judges; a tie
        counts as relevant, so a disputed match is not silently scored a false positive)."""
        with self.session() as session:
            votes: dict[int, dict[str, list[bool]]] = {}
            for article_id, topic, relevant in session.execute(
                select(FeedbackRow.article_id, FeedbackRow.topic, FeedbackRow.relevant)
            ):
                votes.setdefault(article_id, {}).setdefault(topic, []).append(relevant)
            rows = session.scalars(
                select(ArticleRow).where(ArticleRow.id.in_(votes)).order_by(ArticleRow.id)
            ).all()
            labels = []
            for row in rows:
                by_topic = votes[row.id]
                relevant = {t for t, marks in by_topic.items() if 2 * sum(marks) >= len(marks)}
                labels.append(
                    LabelRow(
                        row.id,
                        row.title,
                        row.body,
                        row.language,
                        row.url,
                        frozenset(relevant),
                        frozenset(by_topic),
                    )
                )
            return labels

    # --- matches and articles ------------------------------------------------------------

    def matches(
        self, filters: MatchFilters, limit: int = 50, before_id: int | None = None
    ) -> list[MatchItem]:
        """Matches newest first (by id: ids grow with insertion), `limit` after the cursor."""
        story = aliased(ArticleRow)
        story_sources = (
            select(func.count(story.id))
            .where(story.story_id == ArticleRow.story_id)
            .correlate(ArticleRow)
            .scalar_subquery()
        )
        marks = (
            select(
                FeedbackRow.article_id,
                FeedbackRow.topic,
                func.sum(case((FeedbackRow.relevant, 1), else_=0)).label("yes"),
                func.count().label("total"),
            )
            .group_by(FeedbackRow.article_id, FeedbackRow.topic)
            .subquery()
        )
        query = (
            select(MatchRow, ArticleRow, story_sources, marks.c.yes, marks.c.total)
            .join(ArticleRow, ArticleRow.id == MatchRow.article_id)
            .outerjoin(
                marks, and_(marks.c.article_id == MatchRow.article_id, marks.c.topic == MatchRow.topic)
            )
            .order_by(MatchRow.id.desc())
            .limit(limit)
        )
        if before_id is not None:
            query = query.where(MatchRow.id < before_id)
        if filters.topic:
            query = query.where(MatchRow.topic == filters.topic)
        if filters.feed_id is not None:
            carried = exists().where(
                ArticleSourceRow.article_id == ArticleRow.id, ArticleSourceRow.feed_id == filters.feed_id
            )
            query = query.where(or_(ArticleRow.first_feed_id == filters.feed_id, carried))
        if filters.since is not None:
            query = query.where(MatchRow.matched_at >= filters.since)
        if filters.until is not None:
            query = query.where(MatchRow.matched_at < filters.until)
        if filters.language:
            query = query.where(ArticleRow.language == filters.language)
        if filters.feedback == "none":
            query = query.where(marks.c.total.is_(None))
        elif filters.feedback == "relevant":
            query = query.where(marks.c.yes > 0)
        elif filters.feedback == "not-relevant":
            query = query.where(marks.c.total > func.coalesce(marks.c.yes, 0))
        with self.session() as session:
            items = []
            for match, article, sources, yes, total in session.execute(query):
                yes, total = int(yes or 0), int(total or 0)
                items.append(
                    MatchItem(
                        match.id,
                        article.id,
                        match.topic,
                        match.score,
                        match.matched_at,
                        match.snippet,
                        article.title,
                        article.url,
                        article.source,
                        article.language,
                        article.published_at,
                        int(sources or 1),
                        yes,
                        total - yes,
                    )
                )
            return items

    def article(self, article_id: int) -> ArticleView | None:
        with self.session() as session:
            row = session.get(ArticleRow, article_id)
            if row is None:
                return None
            matches = list(
                session.scalars(
                    select(MatchRow).where(MatchRow.article_id == article_id).order_by(MatchRow.id)
                )
            )
            alerts = self._alerts(session, select_filter=AlertRow.match_id.in_([m.id for m in matches]))
            feedback = [
                _feedback(f)
                for f in session.scalars(
                    select(FeedbackRow).where(FeedbackRow.article_id == article_id).order_by(FeedbackRow.id)
                )
            ]
            view = ArticleView(row, matches, alerts, feedback)
            if row.story_id is not None:
                view.story = [
                    (a.title, a.source, a.url, a.id)
                    for a in session.scalars(
                        select(ArticleRow).where(ArticleRow.story_id == row.story_id).order_by(ArticleRow.id)
                    )
                ]
            view.sources = [
                (name, url)
                for name, url in session.execute(
                    select(FeedRow.name, ArticleSourceRow.url)
                    .join(FeedRow, FeedRow.id == ArticleSourceRow.feed_id)
                    .where(ArticleSourceRow.article_id == article_id)
                    .order_by(ArticleSourceRow.id)
                )
            ]
            return view

    def articles(self, limit: int = 50, before_id: int | None = None) -> list[ArticleRow]:
        query = select(ArticleRow).order_by(ArticleRow.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(ArticleRow.id < before_id)
        with self.session() as session:
            return list(session.scalars(query))

    def article_ids_since(self, since: datetime) -> list[int]:
        """Ids of the articles first seen at or after `since`: the window the playground and the search
        read (ids only, so the console can see cheaply what was added or pruned since it last asked)."""
        with self.session() as session:
            return list(session.scalars(select(ArticleRow.id).where(ArticleRow.first_seen_at >= since)))

    def article_window_size(self, since: datetime) -> tuple[int, int | None]:
        """(How many articles were first seen at or after `since`, the largest id among them)."""
        query = select(func.count(ArticleRow.id), func.max(ArticleRow.id)).where(
            ArticleRow.first_seen_at >= since
        )
        with self.session() as session:
            count, newest = session.execute(query).one()
            return int(count), newest

    def article_texts(self, ids: Sequence[int]) -> list[ArticleText]:
        """The title and body of these articles, without the rest of their rows."""
        query = select(ArticleRow.id, ArticleRow.first_seen_at, ArticleRow.title, ArticleRow.body).where(
            ArticleRow.id.in_(list(ids))
        )
        with self.session() as session:
            return [ArticleText(*row) for row in session.execute(query)]

    def articles_by_id(self, ids: Sequence[int]) -> dict[int, Article]:
        """These articles as the matcher reads them (ids no longer stored are left out)."""
        with self.session() as session:
            rows = session.scalars(select(ArticleRow).where(ArticleRow.id.in_(list(ids))))
            return {row.id: article_from_row(row) for row in rows}

    def languages(self) -> list[str]:
        """The languages of matched articles (the matches page's filter): through the matches, since a
        DISTINCT over every stored article scans the whole table on each page view."""
        with self.session() as session:
            query = (
                select(ArticleRow.language)
                .join(MatchRow, MatchRow.article_id == ArticleRow.id)
                .where(ArticleRow.language.is_not(None))
                .distinct()
            )
            return sorted(language for language in session.scalars(query) if language)

    # --- topics --------------------------------------------------------------------------

    def topic_stats(self, topics: Sequence[str], now: datetime, days: int = 30) -> dict[str, TopicStats]:
        since = now - timedelta(days=days)
        with self.session() as session:
            totals = dict(
                session.execute(
                    select(MatchRow.topic, func.count())
                    .where(MatchRow.topic.in_(topics))
                    .group_by(MatchRow.topic)
                ).all()
            )
            per_day: dict[str, dict[date, int]] = {topic: {} for topic in topics}
            # Grouped in Python: date truncation differs between SQLite and PostgreSQL, and 30 days of
            # one topic's match times is a small column.
            for topic, when in session.execute(
                select(MatchRow.topic, MatchRow.matched_at).where(
                    MatchRow.topic.in_(topics), MatchRow.matched_at >= since
                )
            ):
                day = when.astimezone(UTC).date()
                per_day[topic][day] = per_day[topic].get(day, 0) + 1
            # Precision counts judgements of articles the topic matched: "not relevant" on a match is
            # a false positive; judgements of unmatched articles speak to recall instead.
            judged = dict.fromkeys(topics, (0, 0))
            for topic, relevant, count in session.execute(
                select(FeedbackRow.topic, FeedbackRow.relevant, func.count())
                .join(
                    MatchRow,
                    and_(MatchRow.article_id == FeedbackRow.article_id, MatchRow.topic == FeedbackRow.topic),
                )
                .where(FeedbackRow.topic.in_(topics))
                .group_by(FeedbackRow.topic, FeedbackRow.relevant)
            ):
                yes, no = judged[topic]
                judged[topic] = (yes + count, no) if relevant else (yes, no + count)
        first = since.astimezone(UTC).date()
        result = {}
        for topic in topics:
            series = [(first + timedelta(days=i), 0) for i in range(days + 1)]
            series = [(day, per_day[topic].get(day, 0)) for day, _ in series]
            result[topic] = TopicStats(topic, int(totals.get(topic, 0)), series, *judged[topic])
        return result

    # --- feeds and alerts ---------------------------------------------------------------

    def feeds(self) -> list[FeedRow]:
        with self.session() as session:
            return list(session.scalars(select(FeedRow).order_by(FeedRow.name, FeedRow.id)))

    def feed(self, feed_id: int) -> FeedRow | None:
        with self.session() as session:
            return session.get(FeedRow, feed_id)

    def alerts(
        self, status: str | None = None, limit: int = 100, before_id: int | None = None
    ) -> list[AlertItem]:
        conditions: list[Any] = []
        if status:
            conditions.append(AlertRow.status == status)
        if before_id is not None:
            conditions.append(AlertRow.id < before_id)
        with self.session() as session:
            return self._alerts(session, and_(true(), *conditions), limit)

    def alert(self, alert_id: int) -> AlertItem | None:
        with self.session() as session:
            found = self._alerts(session, AlertRow.id == alert_id, 1)
            return found[0] if found else None

    @staticmethod
    def _alerts(session: Session, select_filter: Any, limit: int | None = None) -> list[AlertItem]:
        query = (
            select(AlertRow, MatchRow.article_id, MatchRow.topic, ArticleRow.title)
            .outerjoin(MatchRow, MatchRow.id == AlertRow.match_id)
            .outerjoin(ArticleRow, ArticleRow.id == MatchRow.article_id)
            .where(select_filter)
            .order_by(AlertRow.id.desc())
        )
        if limit is not None:
            query = query.limit(limit)
        items = []
        for row, article_id, topic, title in session.execute(query):
            if title is None and row.payload:
                title = str(row.payload.get("title") or row.payload.get("subject") or "") or None
            items.append(
                AlertItem(
                    row.id,
                    row.kind,
                    row.channel,
                    row.status,
                    row.attempts,
                    row.last_error,
                    row.created_at,
                    row.sent_at,
                    row.next_attempt_at,
                    row.match_id,
                    article_id,
                    topic,
                    title,
                )
            )
        return items


def _feedback(row: FeedbackRow) -> FeedbackItem:
    return FeedbackItem(row.id, row.article_id, row.topic, row.relevant, row.user_name, row.created_at)


def _now() -> datetime:
    return datetime.now(UTC)


__all__ = [
    "AlertItem",
    "ArticleView",
    "ConsoleStore",
    "FeedbackItem",
    "LabelRow",
    "MatchFilters",
    "MatchItem",
    "TopicStats",
    "User",
    "UserExists",
]
