"""Adaptive polling: how often to poll a feed, from the rhythm of what it publishes. Pure."""

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
