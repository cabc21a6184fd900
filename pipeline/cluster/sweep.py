"""The sweep: which feeds to hand to the queue now, and whether a poll job is still wanted.

The database says when each feed is due (`Store.due_feeds`); the sweep turns that into poll orders,
one per configured due feed, each naming the due time it answers. Deferring twice for one due time
polls once: the queue refuses a second waiting job for a feed (its queueing lock), and a job whose
due time a poll already answered does nothing (`already_polled`), which covers a second sweep that
read the due list before the first poll finished.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from pipeline.config import FeedConfig

# The due time of a feed that was never polled.
NEVER_POLLED = "never-polled"


@dataclass(frozen=True, slots=True)
class PollOrder:
    feed_url: str
    # ISO 8601, or NEVER_POLLED: job arguments are JSON.
    due_at: str


@dataclass(frozen=True, slots=True)
class SweepReport:
    due: int
    deferred: int
    # Already waiting in the queue (another sweep deferred them first).
    already_queued: int
    # Due in the database but no longer in the config.
    not_configured: int


def poll_orders(
    due: Iterable[tuple[str, datetime | None]], configured: Mapping[str, FeedConfig]
) -> tuple[list[PollOrder], int]:
    """Orders for the due feeds that are still configured, oldest due first as given; and how many
    due feeds are not configured any more."""
    orders, not_configured = [], 0
    for url, due_at in due:
        if url not in configured:
            not_configured += 1
            continue
        orders.append(PollOrder(url, due_at.isoformat() if due_at is not None else NEVER_POLLED))
    return orders, not_configured


def already_polled(last_polled_at: datetime | None, due_at: str) -> bool:
    """True when a poll at or after the order's due time happened: this order is answered."""
    if last_polled_at is None:
        return False
    if due_at == NEVER_POLLED:
        return True
    return last_polled_at >= datetime.fromisoformat(due_at)


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
