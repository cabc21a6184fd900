"""The sweep: which feeds to hand to the queue now, and whether a poll job is still wanted.

The database says which feeds are due (`Store.due_feeds`: `next_poll_at <= now`); the sweep turns
them into poll orders, each carrying the feed's last poll time as the sweep saw it. Deferring twice
for one due time polls once: the queue refuses a second waiting job for a feed (its queueing lock),
and a job whose feed was polled since its sweep looked does nothing (`already_polled`), which covers
a second clock that read the due list before the first poll finished.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from pipeline.config import FeedConfig

# The last poll of a feed that was never polled.
NEVER_POLLED = "never-polled"


@dataclass(frozen=True, slots=True)
class PollOrder:
    feed_url: str
    # The feed's last poll when the sweep found it due: ISO 8601, or NEVER_POLLED (arguments are JSON).
    polled_before: str


@dataclass(frozen=True, slots=True)
class SweepReport:
    due: int
    deferred: int
    # Already waiting in the queue (another clock deferred them first).
    already_queued: int
    # Due in the database but no longer in the config.
    not_configured: int


def poll_orders(
    due: Iterable[tuple[str, datetime | None]], configured: Mapping[str, FeedConfig]
) -> tuple[list[PollOrder], int]:
    """Orders for the due feeds, given as (url, last polled at), that are still configured, in the
    order given; and how many due feeds are not configured any more."""
    orders, not_configured = [], 0
    for url, last_polled_at in due:
        if url not in configured:
            not_configured += 1
            continue
        orders.append(PollOrder(url, last_polled_at.isoformat() if last_polled_at else NEVER_POLLED))
    return orders, not_configured


def already_polled(last_polled_at: datetime | None, polled_before: str) -> bool:
    """True when the feed was polled after its sweep looked: the order is answered."""
    if last_polled_at is None:
        return False
    return polled_before == NEVER_POLLED or last_polled_at > datetime.fromisoformat(polled_before)


def sweep(
    due: Iterable[tuple[str, datetime | None]],
    configured: Mapping[str, FeedConfig],
    defer: Callable[[PollOrder], bool],
) -> SweepReport:
    """Hand each due feed to `defer`, which returns False when the queue already holds its poll."""
    due = list(due)
    orders, not_configured = poll_orders(due, configured)
    deferred = sum(1 for order in orders if defer(order))
    return SweepReport(len(due), deferred, len(orders) - deferred, not_configured)
