"""When a feed is polled next: its adaptive interval (the rhythm of what it publishes), the backoff
after failures, a server's Retry-After, and how early a due poll may start. Pure: callers pass the
time and the feed's history in; nothing here reads a clock or the database."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

# A rhythm needs a few gaps to mean anything; below this the configured interval stands.
MIN_GAPS = 3
# Change the schedule only for a real difference, so jitter in publishing does not churn jobs.
RESCHEDULE_TOLERANCE = 0.2
# A feed due "now" may fire a little early (scheduler jitter, the previous poll's duration).
SCHEDULE_GRACE_FRACTION = 0.2
SCHEDULE_GRACE_MAX = 300.0


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


def failure_delay(
    failures: int, interval: float, retry_after: float | None, max_backoff: float, max_retry_after: float
) -> float:
    """Seconds a failing feed is held back: its backoff, or the server's Retry-After if longer (each
    capped, so a hostile server cannot park a feed for a year)."""
    delay = backoff_seconds(failures, interval, max_backoff)
    if retry_after is not None:
        delay = max(delay, min(retry_after, max_retry_after))
    return delay


def schedule_grace(interval: float) -> float:
    """How early a poll due now may start and still count as on schedule."""
    return min(interval * SCHEDULE_GRACE_FRACTION, SCHEDULE_GRACE_MAX)
