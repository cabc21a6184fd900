"""`newswatch feeds [enable NAME]`: every configured feed with its state, and re-enabling one."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit

from pipeline.commands.common import (
    EXIT_NO_MATCH,
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    add_command,
    config_path,
    existing_store,
    load,
)
from pipeline.humanize import human_duration, iso_time, plural

if TYPE_CHECKING:
    from pipeline.config import Config, FeedConfig
    from pipeline.feedstatus import FeedStatus
    from pipeline.store import Store
    from pipeline.store.repository import FeedState


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    feeds = add_command(
        commands,
        "feeds",
        common,
        summary="list every feed with its state, last poll, items seen and last error",
        details="Exits 1 if any feed is failing, silent or disabled.",
        example="newswatch feeds   |   newswatch feeds --json",
    )
    feeds.add_argument("--json", action="store_true", help="one JSON object per line and feed")
    feeds.set_defaults(handler=cmd_feeds)
    feeds_commands = feeds.add_subparsers(dest="feeds_command", metavar="FEEDS_COMMAND")
    enable = add_command(
        feeds_commands,
        "enable",
        common,
        summary="poll a disabled (e.g. 410 Gone) or backed-off feed again",
        example="newswatch feeds enable 'Japan Ministry of Defense'",
    )
    enable.add_argument("feed", metavar="NAME_OR_URL")
    enable.set_defaults(handler=cmd_feeds_enable, json=False)
    add = add_command(
        feeds_commands,
        "add",
        common,
        summary="add a feed to the config file, found from its URL or from a page that links to it",
        details='A page\'s <link rel="alternate" type="application/rss+xml"> leads to its feed; the name\n'
        "is the feed's own title unless --name is given. The file's comments and layout are kept,\n"
        "and it is changed only if the result is a valid config.",
        example="newswatch feeds add https://thediplomat.com/ --interval 30m",
    )
    add.add_argument("url", metavar="URL")
    add.add_argument("--name", help="the feed's name (default: the feed's own title)")
    add.add_argument("--interval", help="how often to poll it, e.g. 10m (default: the config's default)")
    add.set_defaults(handler=cmd_feeds_add, json=False)
    opml_import = add_command(
        feeds_commands,
        "import",
        common,
        summary="add the feeds of an OPML file (a feed reader's export) to the config file",
        details="Feeds whose URL is already in the config are skipped, and named. The names are the\n"
        "outlines' titles. The file's comments and layout are kept, and it is changed only if\n"
        "the result is a valid config. Exits 1 when no feed was new.",
        example="newswatch feeds import subscriptions.opml --interval 30m",
    )
    opml_import.add_argument("opml", metavar="OPML", type=Path)
    opml_import.add_argument("--interval", help="how often to poll them, e.g. 30m (default: the config's)")
    opml_import.set_defaults(handler=cmd_feeds_import, json=False)
    export = add_command(
        feeds_commands,
        "export",
        common,
        summary="print the configured feeds as OPML 2.0, for a feed reader",
        example="newswatch feeds export > newswatch.opml",
    )
    export.set_defaults(handler=cmd_feeds_export, json=False)


def _next_poll(state: FeedState | None, now: datetime) -> datetime | None:
    """When the feed is next due, from its stored `next_poll_at`: None when disabled (never)."""
    if state is None:
        return now
    if state.health.disabled_at is not None:
        return None
    due = state.health.next_poll_at
    return now if due is None else max(now, due)


def feed_json(feed: FeedConfig, status: FeedStatus, state: FeedState | None, now: datetime) -> str:
    """The table's row as JSON, with times as ISO 8601 UTC (null: never) instead of the table's text."""
    record = status.as_json()
    health = state.health if state else None
    record.update(
        interval=human_duration(feed.interval),
        last_poll=iso_time(health.last_polled_at if health else None),
        last_success=iso_time(health.last_success_at if health else None),
        next_poll=iso_time(_next_poll(state, now)),
    )
    return json.dumps(record, ensure_ascii=False)


def cmd_feeds(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.feedstatus import ATTENTION, feed_statuses, render_table
    from pipeline.store.tables import utcnow

    config = load(args)
    now = utcnow()
    with existing_store(config) as store:
        states = store.feed_states([(feed.url, feed.name) for feed in config.feeds], register=False)
    statuses = feed_statuses(config.feeds, states, now)
    if args.json:
        for feed, status in zip(config.feeds, statuses, strict=True):
            out.write(feed_json(feed, status, states.get(feed.url), now) + "\n")
    else:
        out.write(render_table(statuses))
    return EXIT_NO_MATCH if any(status.state in ATTENTION for status in statuses) else EXIT_OK


def cmd_feeds_add(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.commands.feeds_add import add_feed_to_file, find_feed

    config = load(args)
    _check_interval(args.interval)
    found = find_feed(args.url, config)
    known = next((feed for feed in config.feeds if found.url in (feed.url, feed.url.rstrip("/"))), None)
    if known is not None:
        raise CommandError(f"{found.url} is already in the config as {known.name!r}", EXIT_NO_MATCH)
    name = args.name or found.title or urlsplit(found.url).hostname or found.url
    if any(feed.name == name for feed in config.feeds):
        raise CommandError(f"a feed named {name!r} is already in the config; give another with --name")
    add_feed_to_file(Path(config_path(args)), name, found.url, args.interval)
    via = f" (found on {found.discovered_from})" if found.discovered_from else ""
    out.write(f"added feed {name!r}: {found.url}{via}\n")
    out.write(f"polled from the next cycle on; see it with: newswatch feeds --config {config_path(args)}\n")
    return EXIT_OK


def _check_interval(interval: str | None) -> None:
    from pipeline.config import parse_duration

    if interval:
        try:
            parse_duration(interval)
        except ValueError as error:
            raise CommandError(f"--interval: {error}") from None


def cmd_feeds_import(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.commands.feeds_add import add_feeds_to_file
    from pipeline.commands.feeds_opml import PROGRESS_FROM, plan_import, read_opml
    from pipeline.commands.progress import progress

    config = load(args)
    _check_interval(args.interval)
    plan = plan_import(read_opml(args.opml), config.feeds)
    for feed, why in plan.skipped:
        out.write(f"skipped {feed.url}" + (f" ({feed.title!r})" if feed.title else "") + f": {why}\n")
    if not plan.add:
        out.write(f"no new feed in {args.opml}; the config is unchanged\n")
        return EXIT_NO_MATCH
    # Each feed is one edit of the file's text (ruamel locates the end of the list anew), which is
    # what takes the time in an import of hundreds.
    feeds: Iterable[tuple[str, str]] = plan.add
    if len(plan.add) >= PROGRESS_FROM:
        feeds = progress(plan.add, "adding feeds", total=len(plan.add))
    add_feeds_to_file(Path(config_path(args)), feeds, args.interval)
    for name, url in plan.add:
        out.write(f"added feed {name!r}: {url}\n")
    skipped = f" ({plural(len(plan.skipped), 'feed')} skipped)" if plan.skipped else ""
    out.write(
        f"{plural(len(plan.add), 'feed')} added to {config_path(args)}{skipped}; "
        "polled from the next cycle on\n"
    )
    return EXIT_OK


def cmd_feeds_export(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.commands.feeds_opml import export_opml

    out.write(export_opml(load(args).feeds))
    return EXIT_OK


def cmd_feeds_enable(args: argparse.Namespace, out: TextIO) -> int:
    config = load(args)
    with existing_store(config) as store:
        return _enable_feed(config, store, args.feed, out)


def _enable_feed(config: Config, store: Store, wanted: str, out: TextIO) -> int:
    feed = next((feed for feed in config.feeds if wanted in (feed.name, feed.url)), None)
    if feed is None:
        sys.stderr.write(f"newswatch feeds enable: no feed named {wanted!r} in the config\n")
        return EXIT_USAGE
    if not store.enable_feed(feed.url):
        out.write(f"feed {feed.name!r} has never been polled; nothing to enable\n")
        return EXIT_OK
    out.write(f"feed {feed.name!r} enabled: it will be polled on the next cycle\n")
    return EXIT_OK
