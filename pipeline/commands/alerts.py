"""`newswatch alerts [list|retry|send]`: the alert outbox as the operator sees it."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from pipeline.commands.common import (
    EXIT_NO_MATCH,
    EXIT_OK,
    EXIT_USAGE,
    add_command,
    existing_store,
    load,
    opened_store,
)
from pipeline.humanize import iso_time, plural

if TYPE_CHECKING:
    from pipeline.alert.secrets import Redactor
    from pipeline.config import Config
    from pipeline.store.outbox import AlertListing, Outbox

# The outbox's statuses (pipeline.store.outbox.STATUSES, which imports SQLAlchemy); a test checks
# that the two agree.
STATUSES = ("pending", "sending", "sent", "failed", "digested")


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    listing = argparse.ArgumentParser(add_help=False)
    listing.add_argument(
        "--status",
        action="append",
        choices=STATUSES,
        default=argparse.SUPPRESS,
        help="only alerts in this status (repeatable)",
    )
    listing.add_argument("--channel", default=argparse.SUPPRESS, help="only this channel")
    listing.add_argument("--topic", default=argparse.SUPPRESS, help="only this topic")
    listing.add_argument("--limit", type=int, default=argparse.SUPPRESS, help="newest N (default 50)")
    listing.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="one JSON object per line"
    )

    alerts = add_command(
        commands,
        "alerts",
        common,
        parents=[listing],
        summary="list the alert outbox with retry schedules; re-queue failed alerts; send now",
        example="newswatch alerts --status failed   |   newswatch alerts retry --failed",
    )
    alerts.set_defaults(handler=cmd_alerts_list)
    alert_commands = alerts.add_subparsers(dest="alerts_command", metavar="ALERTS_COMMAND")
    add_command(
        alert_commands,
        "list",
        common,
        parents=[listing],
        summary="list alerts, newest first (the default)",
        example="newswatch alerts list --json --limit 10",
    )
    retry = add_command(
        alert_commands,
        "retry",
        common,
        summary="re-queue failed alerts, or make pending ones due now",
        example="newswatch alerts retry 12 13   |   newswatch alerts retry --failed --channel ops-webhook",
    )
    retry.add_argument("ids", nargs="*", type=int, metavar="ID")
    retry.add_argument("--failed", action="store_true", help="every failed alert")
    retry.add_argument("--channel", help="with --failed: only this channel's")
    retry.set_defaults(handler=cmd_alerts_retry)
    send = add_command(
        alert_commands,
        "send",
        common,
        summary="deliver due alerts and digests now, then exit",
        example="newswatch alerts send",
    )
    send.set_defaults(handler=cmd_alerts_send, default_verbosity=1)


@contextmanager
def _existing_outbox(config: Config) -> Iterator[Outbox]:
    from pipeline.store.outbox import Outbox

    with existing_store(config) as store:
        yield Outbox(store)


def alert_json(row: AlertListing, redact: Redactor) -> str:
    """One outbox row as JSON: times in the one ISO style of every --json output, secrets masked."""
    record: dict[str, Any] = {"id": row.alert_id}
    for key, value in asdict(row).items():
        if key != "alert_id":
            record[key] = iso_time(value) if isinstance(value, datetime) else value
    return redact(json.dumps(record, ensure_ascii=False))


def cmd_alerts_list(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.alert.admin import format_listing
    from pipeline.alert.secrets import Redactor

    config = load(args)
    redact = Redactor.for_channels(config.channels)
    with _existing_outbox(config) as outbox:
        statuses = getattr(args, "status", None) or []
        rows = outbox.listing(
            statuses, getattr(args, "channel", None), getattr(args, "topic", None), getattr(args, "limit", 50)
        )
        if getattr(args, "json", False):
            for row in rows:
                out.write(alert_json(row, redact) + "\n")
        else:
            out.write(
                format_listing(
                    rows, outbox.counts(), outbox.stream_states(), config.alerts.max_attempts, redact
                )
            )
    return EXIT_OK


def cmd_alerts_retry(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.store.outbox import Outbox

    if bool(args.ids) == bool(args.failed):
        sys.stderr.write("newswatch alerts retry: give alert IDs or --failed (not both)\n")
        return EXIT_USAGE
    with existing_store(load(args)) as store:
        outcomes = Outbox(store).requeue(
            datetime.now(UTC), args.ids, all_failed=args.failed, channel=args.channel
        )
    for outcome in outcomes:
        out.write(f"alert {outcome.alert_id}: {outcome.message}\n")
    requeued = sum(outcome.ok for outcome in outcomes)
    out.write(f"{requeued} re-queued\n")
    return EXIT_OK if requeued or (args.failed and not outcomes) else EXIT_NO_MATCH


def cmd_alerts_send(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.alert import build_channels
    from pipeline.alert.dispatch import Dispatcher

    config = load(args)
    channels = build_channels(config.channels)
    try:
        with opened_store(config) as store:
            report = Dispatcher(store, channels, config).run()
    finally:
        for channel in channels.values():
            channel.close()
    out.write(
        f"alerts: {report.sent} sent, {report.retrying} to retry, {report.failed} failed, "
        f"{plural(report.digests, 'digest')}, {report.rolled_over} rolled into digests by rate limits\n"
    )
    return EXIT_OK
