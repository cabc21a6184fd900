"""Per-feed health: what one poll does to a feed's state, when it may be polled next, and when the
operator must hear about it. Pure functions of values; the cycle reads and writes the store.

- Every poll sets when the feed is next due, by `schedule.next_poll_at` (the interval, adaptive
  rhythm, backoff and Retry-After arithmetic lives in schedule.py). A failed poll counts a failure;
  a success resets the count.
- 410 Gone disables the feed until the operator re-enables it.
- A permanent redirect is followed from then on, and the operator is told to update the config.
- Failing: `failing_after` consecutive failures. Silent: no new item for much longer than the
  feed's usual gap between items (median of its recent gaps x `silent_after_factor`, at least
  `silent_min`). Each incident raises one notice, and one more when it ends.
"""

from __future__ import annotations

import enum
import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from pipeline.config import Config
from pipeline.models import FeedHealth, HealthState
from pipeline.schedule import PollFacts, PollReason, ScheduleSettings, next_poll_at

# Publication dates this far in the future are a publisher's clock error, not a rhythm.
FUTURE_TOLERANCE = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    """The runtime form of `health:`. No defaults here: they live in the config schema alone."""

    failing_after: int
    silent_after_factor: float
    silent_min: float
    rhythm_min_items: int

    @classmethod
    def from_config(cls, config: Config) -> HealthPolicy:
        return cls(
            failing_after=config.health.failing_after,
            silent_after_factor=config.health.silent_after_factor,
            silent_min=config.health.silent_min,
            rhythm_min_items=config.health.rhythm_min_items,
        )


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What one poll of a feed came to, in the terms health cares about."""

    when: datetime
    status: int | None
    error: str | None = None
    error_kind: str | None = None
    retry_after: float | None = None
    # Items this feed carried for the first time.
    new_items: int = 0
    # The URL permanent redirects led to, when this poll followed only permanent ones.
    moved_to: str | None = None
    parse_warning: str | None = None
    not_modified: bool = False
    # Entries the feed carried (its window, for adaptive polling).
    entries: int = 0


class EventKind(enum.StrEnum):
    FAILING = "failing"
    RECOVERED = "recovered"
    SILENT = "silent"
    PUBLISHING_AGAIN = "publishing_again"
    MOVED = "moved"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class HealthEvent:
    """Something the operator should hear once: `incident` makes its notice's idempotency key."""

    kind: EventKind
    incident: str
    subject: str
    text: str
    details: dict[str, str] = field(default_factory=dict)


def human_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    units = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))
    parts = []
    for name, size in units:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {name}{'s' if count != 1 else ''}")
        if len(parts) == 2:
            break
    return " ".join(parts) or "0 seconds"


def when_text(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def hold_back_reason(health: FeedHealth, now: datetime) -> str | None:
    """Why the feed must not be polled now even by a one-off cycle (`newswatch once`), or None.

    The regular interval does not hold a feed back here; a backoff, the server's Retry-After and
    disabling do."""
    if health.disabled_at is not None:
        return (
            f"disabled since {when_text(health.disabled_at)}: {health.disabled_reason or 'by the operator'}"
        )
    if health.next_poll_at is None or health.next_poll_at <= now:
        return None
    if health.next_poll_reason is PollReason.RETRY_AFTER:
        return f"the server asked to wait until {when_text(health.next_poll_at)}"
    if health.next_poll_reason is PollReason.BACKOFF:
        return f"backing off until {when_text(health.next_poll_at)}"
    return None


def _feed_details(name: str, url: str, health: FeedHealth) -> dict[str, str]:
    details = {"Feed": name, "URL": url}
    if health.moved_to:
        details["Polled at"] = health.moved_to
    return details


def after_poll(
    name: str,
    url: str,
    health: FeedHealth,
    outcome: PollOutcome,
    schedule: ScheduleSettings,
    policy: HealthPolicy,
    item_times: Sequence[datetime] = (),
) -> tuple[FeedHealth, list[HealthEvent]]:
    """The feed's new state after a poll, with when it is next due, and the notices it calls for.

    `item_times`: publication times of the feed's latest items, for an adaptive feed's rhythm."""
    when = outcome.when
    events: list[HealthEvent] = []
    if outcome.error is None:
        due = next_poll_at(
            schedule,
            PollFacts(
                when,
                current_interval=health.poll_interval,
                item_times=item_times,
                items_in_feed=outcome.entries,
            ),
        )
        updated = replace(
            health,
            last_polled_at=when,
            last_success_at=when,
            last_status=outcome.status,
            consecutive_failures=0,
            failing_since=None,
            last_error=None,
            last_error_kind=None,
            next_poll_at=due.at,
            next_poll_reason=due.reason,
            poll_interval=due.interval,
            parse_warning=health.parse_warning if outcome.not_modified else outcome.parse_warning,
        )
        if outcome.moved_to and outcome.moved_to != health.moved_to:
            updated = replace(updated, moved_to=outcome.moved_to)
            events.append(_moved_event(name, url, updated, outcome.moved_to))
        if health.health_state is HealthState.FAILING:
            events.append(_recovered_event(name, url, health, when))
            updated = replace(updated, health_state=HealthState.OK, health_since=when)
        elif health.health_state is HealthState.SILENT and outcome.new_items > 0:
            events.append(_publishing_again_event(name, url, health, when))
            updated = replace(updated, health_state=HealthState.OK, health_since=when)
        return updated, events

    failures = health.consecutive_failures + 1
    failing_since = health.failing_since or when
    gone = outcome.error_kind == "gone"
    due = next_poll_at(
        schedule,
        PollFacts(when, failures, outcome.retry_after, disabled=gone, current_interval=health.poll_interval),
    )
    updated = replace(
        health,
        last_polled_at=when,
        last_status=outcome.status,
        consecutive_failures=failures,
        failing_since=failing_since,
        last_error=outcome.error,
        last_error_kind=outcome.error_kind,
        next_poll_at=due.at,
        next_poll_reason=due.reason,
        poll_interval=due.interval,
    )
    if gone:
        updated = replace(updated, disabled_at=when, disabled_reason=outcome.error)
        events.append(_disabled_event(name, url, updated))
    elif failures >= policy.failing_after and health.health_state is not HealthState.FAILING:
        updated = replace(updated, health_state=HealthState.FAILING, health_since=failing_since)
        events.append(_failing_event(name, url, updated))
    return updated, events


def typical_gap(item_times: Sequence[datetime], min_items: int) -> float | None:
    """Median seconds between a feed's consecutive items, or None with too little history.

    Items that arrived together (a first poll without dates) give no gap and are not counted.
    """
    ordered = sorted(set(item_times))
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(ordered)]
    if len(gaps) < min_items - 1:
        return None
    return float(statistics.median(gaps))


def silence_threshold(gap: float, interval: float, policy: HealthPolicy) -> float:
    return max(gap * policy.silent_after_factor, policy.silent_min, 2 * interval)


def assess_silence(
    name: str,
    url: str,
    health: FeedHealth,
    item_times: Sequence[datetime],
    interval: float,
    now: datetime,
    policy: HealthPolicy,
    watched_since: datetime | None = None,
) -> tuple[FeedHealth, list[HealthEvent]]:
    """Whether a feed that still answers has stopped publishing (or started again).

    Silence is counted from the newest item, but never from before `watched_since` (when
    newswatch started polling the feed): a feed added with only old items is given a full
    silence threshold of its own before it is called silent."""
    if health.disabled_at is not None or health.health_state is HealthState.FAILING:
        return health, []
    if health.last_success_at is None:
        return health, []
    times = [time for time in item_times if time <= now + FUTURE_TOLERANCE]
    gap = typical_gap(times, policy.rhythm_min_items)
    if gap is None:
        return health, []
    newest = max(times)
    reference = newest
    if watched_since is not None and watched_since > reference:
        reference = watched_since
    if health.health_state is HealthState.OK and health.health_since and health.health_since > reference:
        reference = health.health_since  # silence is counted from the last recovery, not before it
    silent_for = (now - reference).total_seconds()
    threshold = silence_threshold(gap, interval, policy)
    if health.health_state is HealthState.OK and silent_for > threshold:
        updated = replace(health, health_state=HealthState.SILENT, health_since=now)
        return updated, [_silent_event(name, url, updated, newest, silent_for, gap, len(times))]
    if health.health_state is HealthState.SILENT and newest > (health.health_since or newest):
        updated = replace(health, health_state=HealthState.OK, health_since=now)
        return updated, [_publishing_again_event(name, url, health, now)]
    return health, []


# --- notices ---------------------------------------------------------------------------------


def _incident(value: datetime | None) -> str:
    return value.isoformat() if value else "unknown"


def _failing_event(name: str, url: str, health: FeedHealth) -> HealthEvent:
    next_try = when_text(health.next_poll_at) if health.next_poll_at else "on its regular schedule"
    return HealthEvent(
        EventKind.FAILING,
        _incident(health.failing_since),
        f"feed '{name}' keeps failing",
        f"newswatch has failed to fetch the feed '{name}' {health.consecutive_failures} times in a row "
        f"since {when_text(health.failing_since)}. It keeps trying, waiting longer each time (next "
        f"attempt: {next_try}). You will get one more notice when it recovers.",
        {
            **_feed_details(name, url, health),
            "Failing since": when_text(health.failing_since),
            "Failed polls": str(health.consecutive_failures),
            "Last error": health.last_error or "-",
            "Last success": when_text(health.last_success_at),
            "Next attempt": next_try,
        },
    )


def _recovered_event(name: str, url: str, before: FeedHealth, when: datetime) -> HealthEvent:
    down_for = human_duration((when - before.failing_since).total_seconds()) if before.failing_since else "?"
    return HealthEvent(
        EventKind.RECOVERED,
        _incident(before.health_since),
        f"feed '{name}' has recovered",
        f"The feed '{name}' was fetched successfully at {when_text(when)} after "
        f"{before.consecutive_failures} failed polls over {down_for}.",
        {
            **_feed_details(name, url, before),
            "Failing since": when_text(before.failing_since),
            "Recovered at": when_text(when),
            "Failed polls": str(before.consecutive_failures),
            "Last error": before.last_error or "-",
        },
    )


def _silent_event(
    name: str, url: str, health: FeedHealth, newest: datetime, silent_for: float, gap: float, items: int
) -> HealthEvent:
    return HealthEvent(
        EventKind.SILENT,
        _incident(health.health_since),
        f"feed '{name}' has gone silent",
        f"No new item from the feed '{name}' for {human_duration(silent_for)}, although it usually "
        f"publishes every {human_duration(gap)} (median gap between its last {items} items). Polls "
        "still succeed, so the publisher may have stopped updating this feed or moved it elsewhere. "
        "You will get one more notice when it publishes again.",
        {
            **_feed_details(name, url, health),
            "Newest item": when_text(newest),
            "Usual gap": human_duration(gap),
            "Last successful poll": when_text(health.last_success_at),
        },
    )


def _publishing_again_event(name: str, url: str, before: FeedHealth, when: datetime) -> HealthEvent:
    return HealthEvent(
        EventKind.PUBLISHING_AGAIN,
        _incident(before.health_since),
        f"feed '{name}' is publishing again",
        f"The feed '{name}', silent since {when_text(before.health_since)}, carried new items again "
        f"at {when_text(when)}.",
        {**_feed_details(name, url, before), "Silent since": when_text(before.health_since)},
    )


def _moved_event(name: str, url: str, health: FeedHealth, moved_to: str) -> HealthEvent:
    return HealthEvent(
        EventKind.MOVED,
        moved_to,
        f"feed '{name}' has moved",
        f"The feed '{name}' answered with a permanent redirect to {moved_to}. newswatch polls the new "
        "address from now on; please update the feed's url in the config (the configured URL stays "
        "the feed's identity until you do).",
        {"Feed": name, "Configured URL": url, "New URL": moved_to},
    )


def _disabled_event(name: str, url: str, health: FeedHealth) -> HealthEvent:
    return HealthEvent(
        EventKind.DISABLED,
        _incident(health.disabled_at),
        f"feed '{name}' is gone and was disabled",
        f"The feed '{name}' answered {health.last_error}. newswatch has stopped polling it. If it comes "
        f"back, re-enable it with: newswatch feeds enable '{name}' (or put a new URL in the config).",
        {**_feed_details(name, url, health), "Disabled at": when_text(health.disabled_at)},
    )


def describe_state(health: FeedHealth, interval: float, now: datetime) -> str:
    """One word or phrase for `newswatch feeds`."""
    if health.disabled_at is not None:
        return "disabled"
    if health.last_polled_at is None:
        return "new"
    if health.health_state is HealthState.FAILING:
        return "failing"
    if health.consecutive_failures:
        return "erroring"
    if health.health_state is HealthState.SILENT:
        return "silent"
    return "ok"
