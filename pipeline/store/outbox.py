"""The alert outbox: every read and write of alert rows lives here.

Queued with a new article (`queue_planned`, inside the repository's transaction) or as an operator
notice; claimed under a lease, sent, retried, rate-limited into overflow digests, gathered into
scheduled digests, abandoned after dispatchers die mid-send, listed, counted and re-queued.

Exactly-once towards the database, at-least-once towards the receiver:
- A claim is one transaction that moves due rows to `sending` with a lease (`claimed_by`,
  `claimed_until`). On PostgreSQL the rows are picked with `FOR UPDATE SKIP LOCKED`, so two
  dispatchers never claim the same row; on SQLite every write transaction is BEGIN IMMEDIATE,
  which serialises claims.
- A dispatcher that dies mid-send leaves its rows `sending`; once the lease runs out any
  dispatcher claims them again. The resend carries the same idempotency key.
- Outcomes (sent, retry, failed) are written only by the claim's holder, except `sent`, which
  always wins: a send that went through is a fact.
The delays, limits and schedules are the dispatcher's (pipeline/alert/dispatch.py), passed in;
the rules that are part of the row lifecycle are here: a limited channel's surplus goes to its
overflow digest, an alert whose claims kept dying with its dispatcher is failed after
`max_attempts`, and an idempotency key is queued once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, and_, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipeline.models import AlertKind, DigestDetails, Notice, OutgoingAlert, PlannedAlert
from pipeline.store.rows import notice_payload, outgoing_alert, story_sources
from pipeline.store.tables import AlertDigestRow, AlertRow, ArticleRow, MatchRow

if TYPE_CHECKING:
    # Only for annotations: the repository imports `queue_planned` from here.
    from pipeline.store.repository import Store

STATUSES = ("pending", "sending", "sent", "failed", "digested")


@dataclass(frozen=True)
class ChannelLimit:
    """At most `max_alerts` individually sent match alerts per `window`; the rest wait for `overflow_key`."""

    max_alerts: int
    window: timedelta
    overflow_key: str


@dataclass
class Claim:
    alerts: list[OutgoingAlert] = field(default_factory=list)
    # channel -> alerts moved to its rate-limit overflow digest instead of being claimed
    overflowed: dict[str, int] = field(default_factory=dict)
    # alerts marked failed because dispatchers kept dying while sending them
    abandoned: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class StreamSpec:
    key: str
    channel: str
    schedule: str
    timezone: str
    first_tick: datetime


@dataclass(frozen=True)
class StreamState:
    key: str
    channel: str
    schedule: str
    timezone: str
    next_tick_at: datetime
    last_tick_at: datetime | None
    waiting: int = 0


@dataclass(frozen=True)
class ClosedDigest:
    digest_id: int | None
    items: int


@dataclass(frozen=True)
class AlertListing:
    """One outbox row as `newswatch alerts` shows it."""

    alert_id: int
    kind: str
    status: str
    channel: str
    topic: str | None
    title: str | None
    url: str | None
    idempotency_key: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None
    claimed_by: str | None
    claimed_until: datetime | None
    digest_key: str | None
    digest_id: int | None


@dataclass(frozen=True)
class Requeued:
    alert_id: int
    ok: bool
    message: str


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _payload_title(row: AlertRow) -> str | None:
    payload = row.payload or {}
    if row.kind == AlertKind.DIGEST.value:
        return f"{payload.get('count', '?')} matches, '{payload.get('schedule')}' {payload.get('timezone')}"
    subject = payload.get("subject")
    return str(subject) if subject is not None else None


def queue_planned(session: Session, alerts: Sequence[PlannedAlert], match_ids: Mapping[str, int]) -> int:
    """Queue a new article's alerts in the caller's transaction; how many were new.

    An alert whose idempotency key is already queued (the same topic, story and channel) is not
    written again: a story alerts each topic on each channel once.
    """
    if not alerts:
        return 0
    already_queued = set(
        session.scalars(
            select(AlertRow.idempotency_key).where(
                AlertRow.idempotency_key.in_([alert.idempotency_key for alert in alerts])
            )
        )
    )
    created = 0
    for alert in alerts:
        if alert.idempotency_key in already_queued:
            continue
        session.add(
            AlertRow(
                kind=AlertKind.MATCH.value,
                match_id=match_ids[alert.topic],
                channel=alert.channel,
                idempotency_key=alert.idempotency_key,
                status="pending",
                attempts=0,
                digest_key=alert.digest_key,
            )
        )
        created += 1
    return created


class Outbox:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.postgres = store.engine.dialect.name == "postgresql"

    def _locked(self, query: Select[Any], *, skip_locked: bool) -> Select[Any]:
        # SQLite has no row locks; its BEGIN IMMEDIATE already serialises every writer.
        if self.postgres:
            return query.with_for_update(skip_locked=skip_locked, of=AlertRow)
        return query

    # --- queueing ----------------------------------------------------------------------

    def queue_notice(self, channel: str, idempotency_key: str, notice: Notice) -> bool:
        """Queue an operator notice; False if one with this key was already queued (so it is sent once)."""
        try:
            with self.store.session() as session, session.begin():
                session.add(
                    AlertRow(
                        kind=AlertKind.NOTICE.value,
                        payload=notice_payload(notice),
                        channel=channel,
                        idempotency_key=idempotency_key,
                        status="pending",
                        attempts=0,
                    )
                )
        except IntegrityError:
            return False
        return True

    def due_alerts(self, now: datetime, limit: int = 100) -> list[OutgoingAlert]:
        """Alerts due for an immediate send (a read-only look; the dispatcher claims with `claim`)."""
        query = (
            self._with_match()
            .where(
                AlertRow.status == "pending",
                AlertRow.digest_key.is_(None),
                AlertRow.next_attempt_at <= now,
            )
            .order_by(AlertRow.next_attempt_at, AlertRow.id)
            .limit(limit)
        )
        with self.store.session() as session:
            rows = list(session.execute(query))
            other_sources = story_sources(session, [article for _alert, _match, article in rows if article])
            return [
                outgoing_alert(alert, match, article, other_sources.get(article.id, []) if article else [])
                for alert, match, article in rows
            ]

    # --- claiming and outcomes -------------------------------------------------------

    def claim(
        self,
        claimer: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        max_attempts: int,
        limits: Mapping[str, ChannelLimit] | None = None,
    ) -> Claim:
        """Claim up to `limit` due alerts: pending ones whose time has come, and `sending` ones
        whose dispatcher's lease ran out (it died mid-send)."""
        limits = limits or {}
        result = Claim()
        with self.store.session() as session, session.begin():
            due = or_(
                and_(
                    AlertRow.status == "pending",
                    AlertRow.digest_key.is_(None),
                    AlertRow.next_attempt_at <= now,
                ),
                and_(AlertRow.status == "sending", AlertRow.claimed_until < now),
            )
            query = select(AlertRow).where(due).order_by(AlertRow.next_attempt_at, AlertRow.id).limit(limit)
            rows = list(session.scalars(self._locked(query, skip_locked=True)))
            candidates = []
            for row in rows:
                if row.status == "sending" and row.attempts >= max_attempts:
                    self._abandon(row, now)
                    result.abandoned.append(row.id)
                else:
                    candidates.append(row)
            held = self._apply_limits(session, candidates, now, limits, result.overflowed)
            claimed = [row for row in candidates if row.id not in held]
            for row in claimed:
                row.status = "sending"
                row.claimed_by = claimer
                row.claimed_until = lease_until
                # Counted when claimed: a send that kills the dispatcher still uses up an attempt.
                row.attempts += 1
            ids = [row.id for row in claimed]
        result.alerts = self.load(ids)
        return result

    @staticmethod
    def _abandon(row: AlertRow, now: datetime) -> None:
        previous = f"; last error: {row.last_error}" if row.last_error else ""
        row.status = "failed"
        row.failed_at = now
        row.last_error = (
            f"gave up after {row.attempts} attempts: the dispatcher stopped while sending "
            f"(last claimed by {row.claimed_by}){previous}"
        )
        row.claimed_until = None

    def _apply_limits(
        self,
        session: Session,
        rows: Sequence[AlertRow],
        now: datetime,
        limits: Mapping[str, ChannelLimit],
        overflowed: dict[str, int],
    ) -> set[int]:
        """Move the match alerts over a channel's rate limit to its overflow digest; their ids."""
        held: set[int] = set()
        limited = sorted({row.channel for row in rows if row.channel in limits and row.kind == "match"})
        for channel in limited:
            limit = limits[channel]
            if self.postgres:
                # Concurrent claimers for one channel count one after the other (sorted: no deadlock).
                session.execute(
                    text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"newswatch.rate.{channel}"}
                )
            used = session.scalar(
                select(func.count(AlertRow.id)).where(
                    AlertRow.channel == channel,
                    AlertRow.kind == "match",
                    AlertRow.digest_id.is_(None),
                    or_(
                        and_(AlertRow.status == "sent", AlertRow.sent_at > now - limit.window),
                        and_(AlertRow.status == "sending", AlertRow.claimed_until >= now),
                    ),
                )
            )
            allowed = max(0, limit.max_alerts - int(used or 0))
            over = [row for row in rows if row.channel == channel and row.kind == "match"][allowed:]
            for row in over:
                row.status = "pending"
                row.digest_key = limit.overflow_key
                row.claimed_until = None
                held.add(row.id)
            if over:
                overflowed[channel] = len(over)
        return held

    def renew(self, alert_id: int, claimer: str, lease_until: datetime) -> bool:
        """Extend our lease just before sending; False if the alert is no longer ours."""
        with self.store.session() as session, session.begin():
            result = session.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id, AlertRow.status == "sending", AlertRow.claimed_by == claimer)
                .values(claimed_until=lease_until)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def release(self, alert_ids: Sequence[int], claimer: str) -> int:
        """Hand back claimed alerts this dispatcher will not send (it is stopping): due again at
        once for the next dispatcher, instead of after the lease, and no attempt used up."""
        if not alert_ids:
            return 0
        with self.store.session() as session, session.begin():
            result = session.execute(
                update(AlertRow)
                .where(
                    AlertRow.id.in_(alert_ids), AlertRow.status == "sending", AlertRow.claimed_by == claimer
                )
                .values(status="pending", claimed_by=None, claimed_until=None, attempts=AlertRow.attempts - 1)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def mark_sent(self, alert_id: int, when: datetime) -> None:
        with self.store.session() as session, session.begin():
            session.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id)
                .values(status="sent", sent_at=when, last_error=None, claimed_until=None, failed_at=None)
            )
            session.execute(
                update(AlertRow).where(AlertRow.digest_id == alert_id).values(status="sent", sent_at=when)
            )

    def mark_retry(self, alert_id: int, claimer: str, error: str, next_attempt_at: datetime) -> bool:
        with self.store.session() as session, session.begin():
            result = session.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id, AlertRow.status == "sending", AlertRow.claimed_by == claimer)
                .values(
                    status="pending", last_error=error, next_attempt_at=next_attempt_at, claimed_until=None
                )
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def mark_failed(self, alert_id: int, claimer: str, error: str, when: datetime) -> bool:
        with self.store.session() as session, session.begin():
            result = session.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id, AlertRow.status == "sending", AlertRow.claimed_by == claimer)
                .values(status="failed", last_error=error, failed_at=when, claimed_until=None)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    # --- loading ------------------------------------------------------------------------

    @staticmethod
    def _with_match() -> Select[Any]:
        return (
            select(AlertRow, MatchRow, ArticleRow)
            .outerjoin(MatchRow, AlertRow.match_id == MatchRow.id)
            .outerjoin(ArticleRow, MatchRow.article_id == ArticleRow.id)
        )

    def load(self, ids: Sequence[int]) -> list[OutgoingAlert]:
        """Everything a channel needs to render these alerts (a digest with its items), in order."""
        if not ids:
            return []
        with self.store.session() as session:
            found = {}
            rows = list(session.execute(self._with_match().where(AlertRow.id.in_(ids))))
            # The other sources are read at send time, so a story's later copies are listed too.
            sources = story_sources(session, [article for _alert, _match, article in rows if article])
            for alert, match, article in rows:
                outgoing = outgoing_alert(alert, match, article, sources.get(article.id) if article else None)
                if alert.kind == AlertKind.DIGEST.value:
                    outgoing = replace(outgoing, digest=self._digest_details(session, alert))
                found[alert.id] = outgoing
        return [found[alert_id] for alert_id in ids if alert_id in found]

    def _digest_details(self, session: Session, digest: AlertRow) -> DigestDetails:
        members = list(
            session.execute(self._with_match().where(AlertRow.digest_id == digest.id).order_by(AlertRow.id))
        )
        sources = story_sources(session, [article for _alert, _match, article in members if article])
        payload = digest.payload or {}
        return DigestDetails(
            schedule=str(payload.get("schedule", "")),
            timezone=str(payload.get("timezone", "UTC")),
            tick=_parse(payload.get("tick")) or digest.created_at,
            since=_parse(payload.get("since")),
            items=[
                outgoing_alert(alert, match, article, sources.get(article.id) if article else None)
                for alert, match, article in members
            ],
        )

    # --- digests ------------------------------------------------------------------------

    def ensure_streams(self, specs: Iterable[StreamSpec], now: datetime) -> None:
        """Register digest streams seen for the first time; their first digest covers alerts since `now`."""
        specs = list(specs)
        if not specs:
            return
        with self.store.session() as session:
            known = set(session.scalars(select(AlertDigestRow.key)))
        for spec in specs:
            if spec.key in known:
                continue
            try:
                with self.store.session() as session, session.begin():
                    session.add(
                        AlertDigestRow(
                            key=spec.key,
                            channel=spec.channel,
                            schedule=spec.schedule,
                            timezone=spec.timezone,
                            next_tick_at=spec.first_tick,
                            created_at=now,
                        )
                    )
            except IntegrityError:
                pass  # another dispatcher registered it first

    def due_streams(self, keys: Collection[str], now: datetime) -> list[StreamState]:
        if not keys:
            return []
        with self.store.session() as session:
            rows = session.scalars(
                select(AlertDigestRow)
                .where(AlertDigestRow.key.in_(list(keys)), AlertDigestRow.next_tick_at <= now)
                .order_by(AlertDigestRow.next_tick_at)
            )
            return [self._state(row) for row in rows]

    @staticmethod
    def _state(row: AlertDigestRow, waiting: int = 0) -> StreamState:
        return StreamState(
            row.key, row.channel, row.schedule, row.timezone, row.next_tick_at, row.last_tick_at, waiting
        )

    def close_digest(
        self, key: str, now: datetime, tick: datetime, next_tick: datetime, make_key: Callable[[str], str]
    ) -> ClosedDigest | None:
        """Gather every alert waiting for stream `key` into one digest alert, and move the stream to
        its next tick, in one transaction. None if the tick is not (or no longer) due."""
        with self.store.session() as session, session.begin():
            state_query = select(AlertDigestRow).where(AlertDigestRow.key == key)
            if self.postgres:
                state_query = state_query.with_for_update(skip_locked=True)
            state = session.scalar(state_query)
            if state is None or state.next_tick_at > now:
                return None
            members_query = (
                select(AlertRow)
                .where(AlertRow.status == "pending", AlertRow.digest_key == key)
                .order_by(AlertRow.id)
            )
            members = list(session.scalars(self._locked(members_query, skip_locked=False)))
            digest_id = None
            if members:
                since = state.last_tick_at or state.created_at
                digest = AlertRow(
                    kind=AlertKind.DIGEST.value,
                    channel=state.channel,
                    # Unique per stream, tick and content, and the same on every resend of this digest.
                    idempotency_key=make_key(f"{key}@{tick.isoformat()}#{members[0].id}"),
                    payload={
                        "stream": key,
                        "schedule": state.schedule,
                        "timezone": state.timezone,
                        "tick": _iso(tick),
                        "since": _iso(since),
                        "count": len(members),
                    },
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                )
                session.add(digest)
                session.flush()
                digest_id = digest.id
                for member in members:
                    member.status = "digested"
                    member.digest_id = digest_id
                state.last_digest_id = digest_id
                # An empty tick sends nothing, so the next digest still covers everything since this one.
                state.last_tick_at = tick
            state.next_tick_at = next_tick
            return ClosedDigest(digest_id, len(members))

    def reroute_waiting(
        self, configured: Collection[str], reroute: Callable[[str | None, str], str | None], now: datetime
    ) -> int:
        """Alerts waiting for a digest stream the config no longer has: send them where the topic now
        routes that channel (another schedule, or immediately). Nothing waits forever."""
        with self.store.session() as session, session.begin():
            rows = session.execute(
                select(AlertRow, MatchRow.topic)
                .outerjoin(MatchRow, AlertRow.match_id == MatchRow.id)
                .where(
                    AlertRow.status == "pending",
                    AlertRow.digest_key.is_not(None),
                    AlertRow.digest_key.not_in(list(configured)),
                )
            ).all()
            for row, topic in rows:
                target = reroute(topic, row.channel)
                row.digest_key = target if target in configured else None
                if row.digest_key is None:
                    row.next_attempt_at = now
            return len(rows)

    def stream_states(self) -> list[StreamState]:
        with self.store.session() as session:
            waiting = dict(
                session.execute(
                    select(AlertRow.digest_key, func.count(AlertRow.id))
                    .where(AlertRow.status == "pending", AlertRow.digest_key.is_not(None))
                    .group_by(AlertRow.digest_key)
                ).all()
            )
            rows = session.scalars(
                select(AlertDigestRow).order_by(AlertDigestRow.channel, AlertDigestRow.key)
            )
            return [self._state(row, int(waiting.get(row.key, 0))) for row in rows]

    # --- operator views and actions ---------------------------------------------------------

    def listing(
        self,
        statuses: Collection[str] = (),
        channel: str | None = None,
        topic: str | None = None,
        limit: int = 50,
    ) -> list[AlertListing]:
        query = (
            select(AlertRow, MatchRow.topic, ArticleRow.title, ArticleRow.canonical_url)
            .outerjoin(MatchRow, AlertRow.match_id == MatchRow.id)
            .outerjoin(ArticleRow, MatchRow.article_id == ArticleRow.id)
            .order_by(AlertRow.id.desc())
            .limit(limit)
        )
        if statuses:
            query = query.where(AlertRow.status.in_(list(statuses)))
        if channel:
            query = query.where(AlertRow.channel == channel)
        if topic:
            query = query.where(MatchRow.topic == topic)
        with self.store.session() as session:
            return [
                AlertListing(
                    alert_id=row.id,
                    kind=row.kind,
                    status=row.status,
                    channel=row.channel,
                    topic=topic_name,
                    title=title if title is not None else _payload_title(row),
                    url=url,
                    idempotency_key=row.idempotency_key,
                    attempts=row.attempts,
                    next_attempt_at=row.next_attempt_at,
                    last_error=row.last_error,
                    created_at=row.created_at,
                    sent_at=row.sent_at,
                    failed_at=row.failed_at,
                    claimed_by=row.claimed_by,
                    claimed_until=row.claimed_until,
                    digest_key=row.digest_key,
                    digest_id=row.digest_id,
                )
                for row, topic_name, title, url in session.execute(query)
            ]

    def counts(self) -> dict[str, int]:
        with self.store.session() as session:
            rows = session.execute(select(AlertRow.status, func.count()).group_by(AlertRow.status))
            return {status: count for status, count in rows}

    def requeue(
        self,
        now: datetime,
        ids: Sequence[int] = (),
        all_failed: bool = False,
        channel: str | None = None,
    ) -> list[Requeued]:
        """Put failed alerts back in the queue (attempts start again) or make pending ones due now."""
        outcomes = []
        with self.store.session() as session, session.begin():
            if all_failed:
                query = select(AlertRow).where(AlertRow.status == "failed").order_by(AlertRow.id)
                if channel:
                    query = query.where(AlertRow.channel == channel)
                rows = list(session.scalars(query))
            else:
                by_id = {row.id: row for row in session.scalars(select(AlertRow).where(AlertRow.id.in_(ids)))}
                rows = [by_id[alert_id] for alert_id in ids if alert_id in by_id]
                outcomes += [
                    Requeued(alert_id, False, "no such alert") for alert_id in ids if alert_id not in by_id
                ]
            for row in rows:
                outcomes.append(self._requeue_one(row, now))
        return sorted(outcomes, key=lambda outcome: outcome.alert_id)

    @staticmethod
    def _requeue_one(row: AlertRow, now: datetime) -> Requeued:
        if row.status == "failed":
            row.status, row.attempts, row.next_attempt_at = "pending", 0, now
            row.failed_at, row.claimed_until = None, None
            return Requeued(row.id, True, "re-queued; it will be sent on the next dispatch")
        if row.status == "pending" and row.digest_key is None:
            row.next_attempt_at = now
            return Requeued(row.id, True, f"due now (attempt {row.attempts + 1})")
        if row.status == "pending":
            return Requeued(row.id, False, "waits for its digest; it is sent with the next one")
        if row.status == "sending":
            until = row.claimed_until.isoformat(timespec="seconds") if row.claimed_until else "?"
            return Requeued(row.id, False, f"being sent by {row.claimed_by} (lease until {until})")
        if row.status == "digested":
            return Requeued(row.id, False, f"carried by digest alert {row.digest_id}; retry that one")
        sent = row.sent_at.isoformat(timespec="seconds") if row.sent_at else "?"
        return Requeued(row.id, False, f"already sent at {sent}")


__all__ = [
    "STATUSES",
    "AlertListing",
    "ChannelLimit",
    "Claim",
    "ClosedDigest",
    "Outbox",
    "Requeued",
    "StreamSpec",
    "StreamState",
]
