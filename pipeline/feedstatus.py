"""What `newswatch feeds` shows: every configured feed with its state, from stored feed rows. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from pipeline.config import FeedConfig
from pipeline.health import describe_state, next_poll_text, when_text
from pipeline.models import FeedHealth, FeedState

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
                next_poll=next_poll_text(health, feed.interval, now),
                last_error=health.last_error,
                last_error_kind=health.last_error_kind,
                moved_to=health.moved_to,
                disabled_reason=health.disabled_reason,
                parse_warning=health.parse_warning,
            )
        )
    return statuses


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
