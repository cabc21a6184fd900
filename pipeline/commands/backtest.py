"""`newswatch backtest`: re-run this config's topics over the stored articles; writes nothing."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from pipeline.commands.common import (
    EXIT_NO_MATCH,
    EXIT_OK,
    EXIT_RUNTIME,
    CommandError,
    add_command,
    check_topic,
    load,
    require_database,
)
from pipeline.commands.progress import progress
from pipeline.humanize import iso_time, plural, text_time


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    backtest = add_command(
        commands,
        "backtest",
        common,
        summary="re-run this config's topics over the stored articles and show what would change",
        details="Shows what would newly match or stop matching. Sends and writes nothing.\n"
        "Exits 0 if nothing changes and 1 if something would, like diff.",
        example="newswatch backtest --config edited.yaml --since 30d --topic usfj-reorganisation",
    )
    backtest.add_argument("--since", help="only articles first seen within this long, e.g. 30d, 12h")
    backtest.add_argument("--topic", help="only this topic")
    backtest.add_argument("--json", action="store_true", help="one JSON object per line per topic")
    backtest.set_defaults(handler=cmd_backtest)


def parse_since(value: str | None) -> datetime | None:
    from pipeline.config import parse_duration

    if not value:
        return None
    try:
        return datetime.now(UTC) - timedelta(seconds=parse_duration(value))
    except ValueError as error:
        raise CommandError(f"--since: {error}") from None


def cmd_backtest(args: argparse.Namespace, out: TextIO) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from pipeline.match import Matcher
    from pipeline.match.backtest import run_backtest
    from pipeline.store import Store
    from pipeline.store.db import create_read_only_engine

    config = load(args)
    check_topic(config, args.topic)
    since = parse_since(args.since)
    require_database(config)
    engine = create_read_only_engine(config.database)
    matcher = Matcher.from_topics(config.topics, config.aliases)
    try:
        stored = progress(Store(engine).stored_articles(since), "re-matching stored articles")
        report = run_backtest(matcher, stored, [args.topic] if args.topic else None)
    except SQLAlchemyError as error:
        raise CommandError(f"cannot read the database: {error}", EXIT_RUNTIME) from None
    finally:
        engine.dispose()
    if args.json:
        for topic in report.topics:
            out.write(json.dumps(_backtest_json(topic), ensure_ascii=False) + "\n")
    else:
        window = f"first seen since {text_time(since)}" if since else "stored"
        out.write(f"backtest: {plural(report.articles, 'article')} {window}; nothing is sent or written\n")
        for topic in report.topics:
            out.write(_backtest_text(topic))
    return EXIT_NO_MATCH if report.changed else EXIT_OK


def _backtest_text(topic: Any) -> str:
    if not topic.in_new_config:
        head = f"{topic.topic}: not in this config; {plural(topic.matched_before, 'stored match')} would stop"
    else:
        head = f"{topic.topic}: matched {topic.matched_before} before, {topic.matches_now} now"
        if topic.changed:
            head += f" (+{len(topic.newly_matching)} newly, -{len(topic.no_longer_matching)} no longer)"
        else:
            head += " (unchanged)"
    lines = [head]
    for sign, changes in (("+", topic.newly_matching), ("-", topic.no_longer_matching)):
        for change in changes:
            lines.append(
                f"  {sign} {text_time(change.first_seen_at)[:10]} {change.title} <{change.url}> "
                f"(score {change.score:g}): {change.why}"
            )
    return "\n".join(lines) + "\n"


def _backtest_json(topic: Any) -> dict[str, Any]:
    def change(item: Any) -> dict[str, Any]:
        return {
            "article_id": item.article_id,
            "title": item.title,
            "url": item.url,
            "first_seen_at": iso_time(item.first_seen_at),
            "score": item.score,
            "why": item.why,
        }

    return {
        "topic": topic.topic,
        "in_config": topic.in_new_config,
        "matched_before": topic.matched_before,
        "matches_now": topic.matches_now,
        "newly_matching": [change(item) for item in topic.newly_matching],
        "no_longer_matching": [change(item) for item in topic.no_longer_matching],
    }
