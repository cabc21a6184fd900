"""What the operator sees of alert delivery: channel descriptions (secrets masked), the outbox
listing with each alert's retry schedule, and digest streams. Plain functions returning text;
cli.py only wires them to commands."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pipeline.alert.base import duration_text
from pipeline.alert.schedule import CronSchedule
from pipeline.alert.secrets import Redactor
from pipeline.config import ChannelConfigBase, Config
from pipeline.store.outbox import AlertListing, StreamState


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def describe_channel(name: str, config: ChannelConfigBase) -> str:
    text = config.describe()  # each channel type describes itself, secrets masked
    if config.rate_limit is not None:
        limit = config.rate_limit
        text += (
            f"; at most {limit.max} alerts per {duration_text(limit.per)}, "
            f"the rest in a digest '{limit.schedule}' {limit.timezone}"
        )
    return f"channel {name}: {text}"


def describe_delivery(config: Config, now: datetime) -> list[str]:
    """One line per channel and per topic's routes, for `check-config`. No secret appears."""
    redact = Redactor.for_channels(config.channels)
    lines = [describe_channel(name, channel) for name, channel in config.channels.items()]
    for topic_name, topic in config.topics.items():
        routes = []
        for route in topic.channels:
            if route.mode == "digest" and route.schedule:
                schedule = CronSchedule(route.schedule, route.timezone)
                next_tick = schedule.next_after(now).astimezone(schedule.zone)
                routes.append(
                    f"{route.channel} (digest {schedule.describe()}, next {next_tick:%Y-%m-%d %H:%M %Z})"
                )
            else:
                routes.append(f"{route.channel} (immediate)")
        lines.append(f"topic {topic_name} -> {', '.join(routes) or 'no channels'}")
    return [redact(line) for line in lines]


def _when_and_notes(row: AlertListing, streams: dict[str, StreamState]) -> tuple[str, list[str]]:
    """The time that matters for the row's status, and what the operator should know about it."""
    notes = []
    if row.status == "pending" and row.digest_key:
        stream = streams.get(row.digest_key)
        _, schedule, timezone = row.digest_key.rsplit("|", 2)
        notes.append(f"waits for the digest '{schedule}' {timezone}")
        when = _when(stream.next_tick_at) if stream else "next tick"
    elif row.status == "pending":
        when = _when(row.next_attempt_at)
    elif row.status == "sending":
        notes.append(f"being sent by {row.claimed_by} (lease until {_when(row.claimed_until)})")
        when = _when(row.claimed_until)
    elif row.status == "sent":
        when = _when(row.sent_at)
    elif row.status == "failed":
        notes.append(f"re-queue with: newswatch alerts retry {row.alert_id}")
        when = _when(row.failed_at)
    else:  # digested
        notes.append(f"carried by digest alert {row.digest_id}")
        when = ""
    if row.last_error and row.status != "sent":
        notes.insert(0, f"last error: {row.last_error}")
    return when, notes


def _what(row: AlertListing) -> str:
    if row.kind == "match":
        return f"{row.topic}: {' '.join((row.title or row.url or '').split())}"
    if row.kind == "digest":
        return f"digest: {row.title or ''}"
    return f"notice: {row.title or ''}"


def format_listing(
    rows: Iterable[AlertListing],
    counts: dict[str, int],
    streams: Iterable[StreamState],
    max_attempts: int,
    redact: Redactor,
) -> str:
    """A table of alerts, newest first. WHEN is the next attempt (pending), the next digest tick
    (waiting for a digest), the lease end (sending), or when it was sent or failed."""
    by_key = {stream.key: stream for stream in streams}
    lines = [f"{'ID':>6}  {'STATUS':<9} {'CHANNEL':<18} {'TRIES':>6}  {'WHEN (UTC)':<19}  WHAT"]
    for row in rows:
        when, notes = _when_and_notes(row, by_key)
        what = _what(row)
        what = what if len(what) <= 60 else what[:59] + "…"
        tries = f"{row.attempts}/{max_attempts}"
        lines.append(f"{row.alert_id:>6}  {row.status:<9} {row.channel:<18} {tries:>6}  {when:<19}  {what}")
        lines += [f"{'':>8}{note}" for note in notes]
    total = ", ".join(f"{status} {counts.get(status, 0)}" for status in sorted(counts)) or "none"
    lines += ["", f"alerts: {total}"]
    for stream in by_key.values():
        channel, schedule, timezone = stream.key.rsplit("|", 2)
        lines.append(
            f"digest {channel} '{schedule}' {timezone}: {stream.waiting} waiting, "
            f"next tick {_when(stream.next_tick_at)} UTC"
        )
    return redact("\n".join(lines)) + "\n"


def listing_json(row: AlertListing, redact: Redactor) -> str:
    record: dict[str, Any] = {
        "id": row.alert_id,
        "kind": row.kind,
        "status": row.status,
        "channel": row.channel,
        "topic": row.topic,
        "title": row.title,
        "url": row.url,
        "idempotency_key": row.idempotency_key,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at,
        "last_error": row.last_error,
        "created_at": row.created_at,
        "sent_at": row.sent_at,
        "failed_at": row.failed_at,
        "claimed_by": row.claimed_by,
        "claimed_until": row.claimed_until,
        "digest_key": row.digest_key,
        "digest_id": row.digest_id,
    }
    for key, value in record.items():
        if isinstance(value, datetime):
            record[key] = value.isoformat()
    return redact(json.dumps(record, ensure_ascii=False))
