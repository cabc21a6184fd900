"""When a feed is polled next: `next_poll_at` combines its configured interval, its adaptive interval
(the rhythm of what it publishes), the backoff after failures and a server's Retry-After into the one
time stored in `feeds.next_poll_at`, the only truth the clocks ask ("which feeds are due?").

Operator actions need no arithmetic: "poll now" and "enable" make a feed due at once (the store
writes the time given, and `PollReason.REQUESTED`), and a disabled feed is never due. When a feed's
settings change (a reload, a restart with an edited config), `next_poll_at` is asked again from the
last poll, so a shortened interval applies at once. Pure: callers pass the time and the
feed's history in; nothing here reads a clock or the database."""

from __future__ import annotations

import enum
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.config import FeedConfig, FetchConfig

# A rhythm needs a few gaps to mean anything; below this the configured interval stands.
MIN_GAPS = 3
# Change the interval only for a real difference, so jitter in publishing does not churn it.
RESCHEDULE_TOLERANCE = 0.2


@dataclass(frozen=True, slots=True)
class IntervalBounds:
    minimum: float
    maximum: float


def adaptive_interval(
    item_times: Sequence[datetime], items_in_feed: int, configured: float, bounds: IntervalBounds
) -> float:
    """The poll interval for a feed whose latest items carry `item_times`.

    Polling at the feed's typical gap between items means most polls find something new. A feed
    keeps only its last `items_in_feed` items, so the interval also stays well inside the time
    those items span (half of it), or a burst would push items out before they were seen.
    """
    ordered = sorted(item_times, reverse=True)
    gaps = [(newer - older).total_seconds() for newer, older in pairwise(ordered)]
    gaps = [gap for gap in gaps if gap > 0]
    if len(gaps) < MIN_GAPS:
        return min(max(configured, bounds.minimum), bounds.maximum)
    typical = statistics.median(gaps)
    window = typical * max(items_in_feed, 1) / 2
    return min(max(min(typical, window), bounds.minimum), bounds.maximum)


def worth_rescheduling(current: float, proposed: float) -> bool:
    return abs(proposed - current) > RESCHEDULE_TOLERANCE * current


def backoff_seconds(failures: int, interval: float, max_backoff: float) -> float:
    """The wait before the next poll after `failures` consecutive failures (0 after the first)."""
    if failures < 2:
        return 0.0
    return min(max_backoff, interval * 2 ** (failures - 1))


class PollReason(enum.StrEnum):
    """Why a feed is next polled when it is: stored beside `next_poll_at`, shown by `newswatch feeds`."""

    # Its interval (configured, or adaptive) after a poll; also a first failure, which is not
    # held back beyond the interval.
    SCHEDULE = "schedule"
    BACKOFF = "backoff"
    RETRY_AFTER = "retry_after"
    # Gone (410) or disabled by the operator: never due until re-enabled.
    DISABLED = "disabled"
    # The operator asked for a poll now (console, `request_poll_now`): due at once, whatever else.
    REQUESTED = "requested"

    @property
    def held_back(self) -> bool:
        """The feed must not be polled before its time, even by a one-off `newswatch once`."""
        return self in (PollReason.BACKOFF, PollReason.RETRY_AFTER, PollReason.DISABLED)


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    """One feed's schedule from the config: its interval, adaptive bounds, and the backoff caps."""

    interval: float
    # Adaptive polling when set: the interval follows the feed's rhythm within these bounds.
    bounds: IntervalBounds | None
    max_backoff: float
    max_retry_after: float

    @classmethod
    def for_feed(cls, feed: FeedConfig, fetch: FetchConfig) -> ScheduleSettings:
        bounds = None
        if feed.min_interval is not None and feed.max_interval is not None:
            bounds = IntervalBounds(feed.min_interval, feed.max_interval)
        return cls(feed.interval, bounds, fetch.max_backoff, fetch.max_retry_after)


@dataclass(frozen=True, slots=True)
class PollFacts:
    """What the schedule needs to know about the poll that just ended."""

    polled_at: datetime
    # Consecutive failures including this poll: 0 after a success.
    failures: int = 0
    # Seconds the server asked to wait (429, or 503 with Retry-After).
    retry_after: float | None = None
    disabled: bool = False
    # The interval the feed was polled at until now (stored, so it survives a restart); None: the
    # configured one.
    current_interval: float | None = None
    # Publication times of the feed's latest items and how many items the feed shows, for adaptive
    # polling; read after a successful poll that parsed the feed only (0 items: nothing learnt).
    item_times: Sequence[datetime] = ()
    items_in_feed: int = 0


@dataclass(frozen=True, slots=True)
class NextPoll:
    # None: never (disabled).
    at: datetime | None
    # The interval the feed runs at from now on (stored as `feeds.poll_interval`).
    interval: float
    reason: PollReason


def _running_interval(settings: ScheduleSettings, facts: PollFacts) -> float:
    if settings.bounds is None:
        return settings.interval
    current = facts.current_interval if facts.current_interval is not None else settings.interval
    # Bounds edited in the config apply at once, not after the rhythm next moves.
    current = min(max(current, settings.bounds.minimum), settings.bounds.maximum)
    if facts.failures or facts.items_in_feed <= 0:
        return current  # a failed or not-modified poll says nothing new about the rhythm
    proposed = adaptive_interval(facts.item_times, facts.items_in_feed, settings.interval, settings.bounds)
    return proposed if worth_rescheduling(current, proposed) else current


def next_poll_at(settings: ScheduleSettings, facts: PollFacts) -> NextPoll:
    """When the feed is next due after the poll described by `facts`.

    A success is due again one interval later (the adaptive one when the feed has bounds). After
    failures the feed waits its backoff or the server's Retry-After if longer, which may be sooner
    than its interval when the server names an earlier time; a first failure without Retry-After
    simply waits the interval.
    """
    interval = _running_interval(settings, facts)
    if facts.disabled:
        return NextPoll(None, interval, PollReason.DISABLED)
    backoff = backoff_seconds(facts.failures, interval, settings.max_backoff)
    retry_after = (
        min(facts.retry_after, settings.max_retry_after) if facts.failures and facts.retry_after else 0.0
    )
    if retry_after and retry_after >= backoff:
        return NextPoll(facts.polled_at + timedelta(seconds=retry_after), interval, PollReason.RETRY_AFTER)
    if backoff:
        return NextPoll(facts.polled_at + timedelta(seconds=backoff), interval, PollReason.BACKOFF)
    return NextPoll(facts.polled_at + timedelta(seconds=interval), interval, PollReason.SCHEDULE)
