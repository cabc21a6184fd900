"""What `newswatch feeds` shows: every configured feed with its state, from stored feed rows. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from pipeline.config import FeedConfig
from pipeline.health import describe_state, when_text
from pipeline.humanize import human_duration, plural
from pipeline.models import FeedHealth, FeedState
from pipeline.schedule import PollReason

# States an operator should look at; `newswatch feeds` exits 1 when any feed is in one.
ATTENTION = ("failing", "silent", "disabled")


@dataclass(frozen=True, slots=True)
class FeedStatus:
    name: str
    url: str
    state: str
    last_poll: str
    last_success: str
    items_seen: int
    failures: int
    next_poll: str
    # Why it is due then: schedule, backoff, retry_after or disabled (None: never polled).
    next_poll_reason: str | None
    last_error: str | None
    last_error_kind: str | None
    moved_to: str | None
    disabled_reason: str | None
    parse_warning: str | None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def feed_statuses(
    feeds: Sequence[FeedConfig], states: Mapping[str, FeedState], now: datetime
) -> list[FeedStatus]:
    statuses = []
    for feed in feeds:
        state = states.get(feed.url)
        health = state.health if state else FeedHealth()
        statuses.append(
            FeedStatus(
                name=feed.name,
                url=feed.url,
                state=describe_state(health, feed.interval, now),
                last_poll=when_text(health.last_polled_at),
                last_success=when_text(health.last_success_at),
                items_seen=state.items_seen if state else 0,
                failures=health.consecutive_failures,
                next_poll=next_poll_text(health, now),
                next_poll_reason=health.next_poll_reason.value if health.next_poll_reason else None,
                last_error=health.last_error,
                last_error_kind=health.last_error_kind,
                moved_to=health.moved_to,
                disabled_reason=health.disabled_reason,
                parse_warning=health.parse_warning,
            )
        )
    return statuses


def _in(seconds: float) -> str:
    if seconds < 60:
        return f"in {max(1, round(seconds))} s"
    if seconds < 3600:
        return f"in {round(seconds / 60)} min"
    return f"in {human_duration(seconds)}"


def next_poll_text(health: FeedHealth, now: datetime) -> str:
    """When the feed is next polled, from its stored `next_poll_at`: "in 4 min", "due now",
    "held back until … (Retry-After)", "never (disabled)"."""
    if health.disabled_at is not None:
        return "never (disabled)"
    due = health.next_poll_at
    if due is None or due <= now:
        return "due now"
    if health.next_poll_reason is PollReason.RETRY_AFTER:
        return f"held back until {when_text(due)} (Retry-After)"
    if health.next_poll_reason is PollReason.BACKOFF:
        failures = plural(health.consecutive_failures, "failure")
        return f"held back until {when_text(due)} (backoff after {failures})"
    return _in((due - now).total_seconds())


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render_table(statuses: Sequence[FeedStatus]) -> str:
    header = ("FEED", "STATE", "LAST POLL", "LAST SUCCESS", "ITEMS", "FAILS", "NEXT POLL", "LAST ERROR")
    rows = [
        (
            _cut(status.name, 32),
            status.state,
            status.last_poll,
            status.last_success,
            str(status.items_seen),
            str(status.failures),
            status.next_poll,
            _cut(status.last_error or "-", 70),
        )
        for status in statuses
    ]
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    numeric = {4, 5}
    lines = []
    for row in [header, *rows]:
        cells = [
            cell.rjust(widths[column])
            if column in numeric and row is not header
            else cell.ljust(widths[column])
            for column, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    notes = []
    for status in statuses:
        if status.state == "disabled":
            notes.append(
                f"  {status.name} ({status.url}): disabled: {status.disabled_reason or 'by the operator'}; "
                f"re-enable with: newswatch feeds enable '{status.name}'"
            )
        elif status.state in ("failing", "erroring") and status.last_error:
            notes.append(f"  {status.name} ({status.url}): {status.last_error}")
        if status.moved_to:
            notes.append(
                f"  {status.name}: moved permanently to {status.moved_to}; newswatch polls it there, "
                "please update the url in the config"
            )
        if status.parse_warning:
            notes.append(f"  {status.name}: malformed but usable: {status.parse_warning}")
    if notes:
        lines += ["", "notes:", *notes]
    return "\n".join(lines) + "\n"
