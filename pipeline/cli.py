"""`newswatch` command line: argument parsing and calls into the modules that do the work."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit

from sqlalchemy.exc import SQLAlchemyError

from pipeline.config import Config, ConfigError, load_config, resolve_config_path
from pipeline.extract import article_from_page, article_from_text
from pipeline.fetch import Fetcher
from pipeline.logs import setup_logging
from pipeline.match import Matcher
from pipeline.models import Article, Verdict

if TYPE_CHECKING:
    from pipeline.store import Store
    from pipeline.store.outbox import Outbox

log = logging.getLogger("newswatch")

EXIT_OK = 0
EXIT_NO_MATCH = 1
EXIT_USAGE = 2
# check-config: the config is valid but a golden example no longer behaves as listed.
EXIT_EXAMPLES_FAILED = 1
# backtest: like diff(1), 1 means the edited topics would match differently.
EXIT_DIFFERENT = 1


def _setup_logging(args: argparse.Namespace, config: Config | None = None) -> None:
    """Level from -v, else the config (long-running commands), else the command's default."""
    if args.verbose is not None:
        level = logging.DEBUG if args.verbose > 1 else logging.INFO
    elif config is not None:
        level = getattr(logging, config.logging.level.upper())
    else:
        level = logging.INFO if getattr(args, "default_verbosity", 0) else logging.WARNING
    log_format = args.log_format or (config.logging.format if config is not None else "text")
    setup_logging(level, json_format=log_format == "json")


@contextmanager
def _opened_store(config: Config) -> Iterator[Store]:
    """The configured database, upgraded to the current schema, for one command."""
    from pipeline.store import Store, create_db_engine, upgrade_schema

    engine = create_db_engine(config.database)
    try:
        upgrade_schema(engine)
        yield Store(engine)
    finally:
        engine.dispose()


def _load(args: argparse.Namespace) -> Config:
    return load_config(resolve_config_path(args.config))


# --- subcommands ------------------------------------------------------------------


def cmd_check_config(args: argparse.Namespace, out: TextIO) -> int:
    config = _load(args)
    path = resolve_config_path(args.config)
    out.write(
        f"{path}: OK ({len(config.feeds)} feeds, {len(config.topics)} topics, "
        f"{len(config.channels)} channels)\n"
    )
    from pipeline.alert.admin import describe_delivery  # alert routes, secrets masked

    out.writelines(f"  {line}\n" for line in describe_delivery(config, datetime.now(UTC)))
    if args.skip_examples:
        return EXIT_OK
    from pipeline.match.examples import check_examples

    results = check_examples(
        Matcher.from_topics(config.topics, config.aliases),
        config.topics,
        Path(path).resolve().parent,
        lambda source: _read_input(source, config),
    )
    failed = [result for result in results if not result.passed]
    for result in failed:
        out.write(f"FAIL {result.key}: {result.source}: {result.detail}\n")
    if failed:
        out.write(f"golden examples: {len(failed)} of {len(results)} FAILED\n")
        return EXIT_EXAMPLES_FAILED
    out.write(f"golden examples: {len(results)} of {len(results)} as expected\n")
    return EXIT_OK


def cmd_db_upgrade(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.store.db import current_revision

    with _opened_store(_load(args)) as store:
        out.write(f"database schema at revision {current_revision(store.engine)}\n")
    return EXIT_OK


def cmd_once(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.cycle import Pipeline

    config = _load(args)
    _setup_logging(args, config)
    with Pipeline.open(config) as pipeline:
        report = pipeline.run_cycle()
    out.write(report.summary() + "\n")
    for feed in report.failed_feeds:
        out.write(f"  feed {feed.feed!r} ({feed.url}): {feed.error}\n")
    return EXIT_OK


def cmd_feeds(args: argparse.Namespace, out: TextIO) -> int:
    """List every configured feed with its state; exit 1 if any needs the operator's attention."""
    from pipeline.feedstatus import ATTENTION, feed_statuses, render_table
    from pipeline.store.tables import utcnow

    config = _load(args)
    with _opened_store(config) as store:
        if getattr(args, "feeds_command", None) == "enable":
            return _enable_feed(config, store, args.feed, out)
        feeds = [(feed.url, feed.name) for feed in config.feeds]
        statuses = feed_statuses(config.feeds, store.feed_states(feeds, register=False), utcnow())
    if args.json:
        for status in statuses:
            out.write(json.dumps(status.as_json(), ensure_ascii=False) + "\n")
    else:
        out.write(render_table(statuses))
    return EXIT_NO_MATCH if any(status.state in ATTENTION for status in statuses) else EXIT_OK


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


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.cycle import Pipeline
    from pipeline.daemon import Daemon

    config_path = resolve_config_path(args.config)
    config = load_config(config_path)
    _setup_logging(args, config)
    Daemon(Pipeline.open(config), config_path).run()
    return EXIT_OK


def _read_input(source: str, config: Config) -> Article:
    if source.startswith(("http://", "https://")):
        from pipeline.cycle import fetch_limits

        # The operator typed this URL, so its own host is trusted like a configured feed's;
        # redirects elsewhere are still checked against private addresses.
        host = urlsplit(source).hostname or ""
        with Fetcher(fetch_limits(config), trusted_hosts=[host]) as fetcher:
            result = fetcher.fetch(source, trusted=True)
        if not result.ok:
            raise OSError(f"cannot fetch {source}: {result.error}")
        return article_from_page(result.body, result.final_url)
    data = Path(source).read_bytes()
    looks_like_html = Path(source).suffix.lower() in (".html", ".htm") or data.lstrip()[:1] == b"<"
    if looks_like_html:
        return article_from_page(data, source)
    return article_from_text(data.decode("utf-8", errors="replace"), source)


def _verdict_json(source: str, verdict: Verdict) -> str:
    return json.dumps(
        {
            "input": source,
            "topic": verdict.topic,
            "matched": verdict.matched,
            "score": verdict.score,
            "explanation": {**verdict.explanation, "snippet": verdict.snippet_text},
        },
        ensure_ascii=False,
    )


def _clause_lines(clause: dict[str, Any], depth: int) -> list[str]:
    mark = "yes" if clause["matched"] else "no "
    line = f"{'    ' * depth}{mark} {clause['clause']}"
    if "terms" in clause:
        line += f": {', '.join(clause['terms']) or '-'} ({clause['count']})"
    elif clause["count"]:
        line += f" ({clause['count']} hits)"
    lines = [line]
    # A term or alias is one line; a NOT shows what it excludes only when that is present.
    if clause["op"] not in ("term", "alias", "not"):
        for child in clause.get("children", []):
            lines.extend(_clause_lines(child, depth + 1))
    return lines


def _verdict_text(source: str, article: Article, verdict: Verdict) -> str:
    label = "MATCH   " if verdict.matched else "no match"
    explanation = verdict.explanation
    lines = [
        f"{label} {verdict.topic} (score {verdict.score:g}, minimum {explanation['min_score']:g}) "
        f"{source}: {article.title}",
        f"    query: {explanation['query']}",
    ]
    lines.extend(_clause_lines(explanation["clauses"], 1))
    for reason in explanation.get("reasons_not_matched", []):
        lines.append(f"    why not: {reason}")
    if verdict.snippet:
        snippet = "".join(f"[{text}]" if flagged else text for text, flagged in verdict.snippet)
        lines.append(f"    snippet: {snippet}")
    return "\n".join(lines) + "\n"


def cmd_match(args: argparse.Namespace, out: TextIO) -> int:
    config = _load(args)
    if args.topic and args.topic not in config.topics:
        sys.stderr.write(
            f"newswatch match: unknown topic {args.topic!r}; known: {', '.join(config.topics)}\n"
        )
        return EXIT_USAGE
    matcher = Matcher.from_topics(config.topics, config.aliases)
    topics = [args.topic] if args.topic else None
    anything_matched = False
    for source in args.inputs:
        try:
            article = _read_input(source, config)
        except OSError as error:
            sys.stderr.write(f"newswatch match: {error}\n")
            continue
        for verdict in matcher.evaluate(article, topics):
            anything_matched = anything_matched or verdict.matched
            out.write(
                _verdict_json(source, verdict) + "\n"
                if args.json
                else _verdict_text(source, article, verdict)
            )
    return EXIT_OK if anything_matched else EXIT_NO_MATCH


def cmd_eval(args: argparse.Namespace, out: TextIO) -> int:
    """Precision and recall of the topics on labelled articles (exit 1 below a threshold)."""
    from pipeline.match.quality import LabelError, format_report, measure, parse_labels

    config = _load(args)
    topics = [args.topic] if args.topic else list(config.topics)
    unknown = [topic for topic in topics if topic not in config.topics]
    if unknown:
        sys.stderr.write(f"newswatch eval: unknown topic {unknown[0]!r}; known: {', '.join(config.topics)}\n")
        return EXIT_USAGE
    try:
        with open(args.labels, encoding="utf-8") as handle:
            items = parse_labels(handle, args.labels)
    except OSError as error:
        sys.stderr.write(f"newswatch eval: cannot read the labels: {error}\n")
        return EXIT_USAGE
    except LabelError as error:
        sys.stderr.write(f"newswatch eval: {error}\n")
        return EXIT_USAGE
    if args.split:
        items = [item for item in items if item.split == args.split]
        if not items:
            sys.stderr.write(f"newswatch eval: no item of {args.labels} is in split {args.split!r}\n")
            return EXIT_USAGE
    matcher = Matcher.from_topics(config.topics, config.aliases)
    possible = None
    if args.model:
        from pipeline.match.relevance import ModelError, load_model

        try:
            model = load_model(Path(args.model))
        except ModelError as error:
            sys.stderr.write(f"newswatch eval: {error}\n")
            return EXIT_USAGE
        possible = model.possible
    report = measure(lambda article: matcher.evaluate(article, topics), items, topics, possible)
    if args.json:
        document = {
            "labels": args.labels,
            "split": args.split,
            "items": report.items,
            "scores": [found.to_json() for found in report.scores],
            "with_possible_matches": [found.to_json() for found in report.possible.values()],
            "mistakes": [mistake.to_json() for mistake in report.mistakes],
        }
        out.write(json.dumps(document, ensure_ascii=False) + "\n")
    else:
        out.write(format_report(report, source=args.labels, split=args.split) + "\n")
    failures = report.below(args.min_precision, args.min_recall)
    for failure in failures:
        sys.stderr.write(f"newswatch eval: below the threshold: {failure}\n")
    return EXIT_NO_MATCH if failures else EXIT_OK


def cmd_model_train(args: argparse.Namespace, out: TextIO) -> int:
    """Train the second tier on labelled items and say what cross-validation found."""
    from pipeline.match.quality import LabelError, parse_labels

    config = _load(args)
    try:
        from pipeline.match.relevance import train
    except ImportError:  # pragma: no cover - the dev and model extras install it
        sys.stderr.write("newswatch model train: needs scikit-learn: pip install 'newswatch[model]'\n")
        return EXIT_USAGE
    try:
        with open(args.labels, encoding="utf-8") as handle:
            items = parse_labels(handle, args.labels)
    except (OSError, LabelError) as error:
        sys.stderr.write(f"newswatch model train: {error}\n")
        return EXIT_USAGE
    if args.split:
        items = [item for item in items if item.split == args.split]
    matcher = Matcher.from_topics(config.topics, config.aliases)
    model = train(items, list(config.topics), lambda item: {v.topic for v in matcher.match(item.article())})
    model.save(Path(args.output))
    size = Path(args.output).stat().st_size
    out.write(f"trained on {len(items)} items; wrote {args.output} ({size / 1e6:.1f} MB)\n")
    for name in config.topics:
        if name not in model.topics:
            out.write(f"  {name}: too few labelled examples; no model\n")
            continue
        found = model.topics[name]
        out.write(
            f"  {name}: threshold {found.threshold:.2f}; cross-validated, it caught {found.cv_caught} of "
            f"the {found.cv_missed_by_rules} positives the rules missed, with {found.cv_false_possibles} "
            "wrong possible matches\n"
        )
    return EXIT_OK


# --- alerts: the outbox as the operator sees it --------------------------------------------


@contextmanager
def _opened_outbox(config: Config) -> Iterator[Outbox]:
    from pipeline.store.outbox import Outbox

    with _opened_store(config) as store:
        yield Outbox(store)


def cmd_alerts_list(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.alert.admin import format_listing, listing_json
    from pipeline.alert.secrets import Redactor

    config = _load(args)
    redact = Redactor.for_channels(config.channels)
    with _opened_outbox(config) as outbox:
        statuses = getattr(args, "status", None) or []
        rows = outbox.listing(
            statuses, getattr(args, "channel", None), getattr(args, "topic", None), getattr(args, "limit", 50)
        )
        if getattr(args, "json", False):
            out.writelines(listing_json(row, redact) + "\n" for row in rows)
        else:
            out.write(
                format_listing(
                    rows, outbox.counts(), outbox.stream_states(), config.alerts.max_attempts, redact
                )
            )
    return EXIT_OK


def cmd_alerts_retry(args: argparse.Namespace, out: TextIO) -> int:
    if bool(args.ids) == bool(args.failed):
        sys.stderr.write("newswatch alerts retry: give alert IDs or --failed (not both)\n")
        return EXIT_USAGE
    with _opened_outbox(_load(args)) as outbox:
        outcomes = outbox.requeue(datetime.now(UTC), args.ids, all_failed=args.failed, channel=args.channel)
    for outcome in outcomes:
        out.write(f"alert {outcome.alert_id}: {outcome.message}\n")
    requeued = sum(outcome.ok for outcome in outcomes)
    out.write(f"{requeued} re-queued\n")
    return EXIT_OK if requeued or (args.failed and not outcomes) else EXIT_NO_MATCH


def cmd_alerts_send(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.alert import build_channels
    from pipeline.alert.dispatch import Dispatcher

    config = _load(args)
    channels = build_channels(config.channels)
    try:
        with _opened_store(config) as store:
            report = Dispatcher(store, channels, config).run()
    finally:
        for channel in channels.values():
            channel.close()
    out.write(
        f"alerts: {report.sent} sent, {report.retrying} to retry, {report.failed} failed, "
        f"{report.digests} digests, {report.rolled_over} rolled into digests by rate limits\n"
    )
    return EXIT_OK


def _add_alerts_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    from pipeline.store.outbox import STATUSES

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

    alerts = commands.add_parser(
        "alerts", parents=[common, listing], help="list the alert outbox with retry schedules; retry; send"
    )
    alerts.set_defaults(handler=cmd_alerts_list)
    alert_commands = alerts.add_subparsers(dest="alerts_command", metavar="ALERTS_COMMAND")
    alert_commands.add_parser("list", parents=[common, listing], help="list alerts (the default)")
    retry = alert_commands.add_parser(
        "retry", parents=[common], help="re-queue failed alerts, or make one due now"
    )
    retry.add_argument("ids", nargs="*", type=int, metavar="ID")
    retry.add_argument("--failed", action="store_true", help="every failed alert")
    retry.add_argument("--channel", help="with --failed: only this channel's")
    retry.set_defaults(handler=cmd_alerts_retry)
    send = alert_commands.add_parser(
        "send", parents=[common], help="deliver due alerts and digests now, then exit"
    )
    send.set_defaults(handler=cmd_alerts_send, default_verbosity=1)


def cmd_backtest(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.config import parse_duration
    from pipeline.match.backtest import run_backtest
    from pipeline.store import Store
    from pipeline.store.db import create_read_only_engine

    config = _load(args)
    if args.topic and args.topic not in config.topics:
        sys.stderr.write(
            f"newswatch backtest: unknown topic {args.topic!r}; known: {', '.join(config.topics)}\n"
        )
        return EXIT_USAGE
    since = None
    if args.since:
        try:
            since = datetime.now(UTC) - timedelta(seconds=parse_duration(args.since))
        except ValueError as error:
            sys.stderr.write(f"newswatch backtest: --since: {error}\n")
            return EXIT_USAGE
    try:
        engine = create_read_only_engine(config.database)
    except FileNotFoundError as error:
        sys.stderr.write(f"newswatch backtest: {error}\n")
        return EXIT_USAGE
    matcher = Matcher.from_topics(config.topics, config.aliases)
    try:
        report = run_backtest(
            matcher, Store(engine).stored_articles(since), [args.topic] if args.topic else None
        )
    except SQLAlchemyError as error:
        sys.stderr.write(f"newswatch backtest: cannot read the database: {error}\n")
        return EXIT_USAGE
    finally:
        engine.dispose()
    window = f"first seen since {since:%Y-%m-%d %H:%M} UTC" if since else "stored"
    if args.json:
        for topic in report.topics:
            out.write(json.dumps(_backtest_json(topic), ensure_ascii=False) + "\n")
    else:
        out.write(f"backtest: {report.articles} articles {window}; nothing is sent or written\n")
        for topic in report.topics:
            out.write(_backtest_text(topic))
    return EXIT_DIFFERENT if report.changed else EXIT_OK


def _backtest_text(topic: Any) -> str:
    if not topic.in_new_config:
        head = f"{topic.topic}: not in this config; {topic.matched_before} stored matches would stop"
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
                f"  {sign} {change.first_seen_at:%Y-%m-%d} {change.title} <{change.url}> "
                f"(score {change.score:g}): {change.why}"
            )
    return "\n".join(lines) + "\n"


def _backtest_json(topic: Any) -> dict[str, Any]:
    def change(item: Any) -> dict[str, Any]:
        return {
            "article_id": item.article_id,
            "title": item.title,
            "url": item.url,
            "first_seen_at": item.first_seen_at.isoformat(),
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


# --- argument parsing ----------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        default=argparse.SUPPRESS,
        help="config file (default: $NEWSWATCH_CONFIG or config/newswatch.yaml)",
    )
    common.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help="more log output")
    common.add_argument(
        "--log-format",
        choices=["text", "json"],
        default=argparse.SUPPRESS,
        help="log line format (default: config)",
    )

    parser = argparse.ArgumentParser(prog="newswatch", description=__doc__, parents=[common])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", parents=[common], help="run the daemon until SIGINT/SIGTERM")
    run.set_defaults(handler=cmd_run, default_verbosity=1)
    once = commands.add_parser("once", parents=[common], help="run one full cycle, then exit")
    once.set_defaults(handler=cmd_once, default_verbosity=1)
    check = commands.add_parser(
        "check-config",
        parents=[common],
        help="validate the config file and run every topic's golden examples "
        "(exit 2 if invalid, 1 if an example fails)",
    )
    check.add_argument("--skip-examples", action="store_true", help="only validate, do not run the examples")
    check.set_defaults(handler=cmd_check_config)

    match = commands.add_parser(
        "match",
        parents=[common],
        help="match files or URLs against the topics and explain why (exit 0 if anything matched, 1 if not)",
    )
    match.add_argument("inputs", nargs="+", metavar="FILE_OR_URL")
    match.add_argument("--topic", help="only this topic")
    match.add_argument("--json", action="store_true", help="one JSON object per line per (input, topic)")
    match.set_defaults(handler=cmd_match)

    feeds = commands.add_parser(
        "feeds",
        parents=[common],
        help="list every feed with its state, last poll, items seen and last error "
        "(exit 1 if any is failing, silent or disabled)",
    )
    feeds.add_argument("--json", action="store_true", help="one JSON object per line and feed")
    feeds.set_defaults(handler=cmd_feeds)
    feeds_commands = feeds.add_subparsers(dest="feeds_command", metavar="FEEDS_COMMAND")
    enable = feeds_commands.add_parser(
        "enable", parents=[common], help="poll a disabled (e.g. 410 Gone) or backed-off feed again"
    )
    enable.add_argument("feed", metavar="NAME_OR_URL")
    enable.set_defaults(handler=cmd_feeds, json=False)
    backtest = commands.add_parser(
        "backtest",
        parents=[common],
        help="re-run this config's topics over the stored articles and show what would newly match "
        "or stop matching (sends and writes nothing; exit 0 if unchanged, 1 if different)",
    )
    backtest.add_argument("--since", help="only articles first seen within this long, e.g. 30d, 12h")
    backtest.add_argument("--topic", help="only this topic")
    backtest.add_argument("--json", action="store_true", help="one JSON object per line per topic")
    backtest.set_defaults(handler=cmd_backtest)

    evaluation = commands.add_parser(
        "eval",
        parents=[common],
        help="measure the topics on labelled articles (JSON lines: id, title, body, lang, topics, split): "
        "precision, recall and F1 per topic and language, every miss and false alarm with its reason "
        "(exit 1 if a topic is below --min-precision or --min-recall)",
    )
    evaluation.add_argument("labels", metavar="LABELS.jsonl")
    evaluation.add_argument("--topic", help="only this topic")
    evaluation.add_argument("--split", help="only the items of this split (e.g. dev, check)")
    evaluation.add_argument("--json", action="store_true", help="one JSON object: scores and mistakes")
    evaluation.add_argument("--min-precision", type=float, metavar="P", help="exit 1 if any topic is below")
    evaluation.add_argument("--min-recall", type=float, metavar="R", help="exit 1 if any topic is below")
    evaluation.add_argument(
        "--model", metavar="PATH", help="also score the possible matches of this relevance model"
    )
    evaluation.set_defaults(handler=cmd_eval)

    model = commands.add_parser("model", parents=[common], help="the second tier: a relevance model")
    model_commands = model.add_subparsers(dest="model_command", required=True, metavar="MODEL_COMMAND")
    train = model_commands.add_parser(
        "train",
        parents=[common],
        help="train a per-topic relevance model on labelled items (needs scikit-learn: pip install "
        "'newswatch[model]'); thresholds are chosen by cross-validation on the same items",
    )
    train.add_argument("labels", metavar="LABELS.jsonl")
    train.add_argument("--split", help="only the items of this split (e.g. dev)")
    train.add_argument("--output", required=True, metavar="PATH", help="where to write the model")
    train.set_defaults(handler=cmd_model_train)

    db = commands.add_parser("db", parents=[common], help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    upgrade = db_commands.add_parser("upgrade", parents=[common], help="create or upgrade the schema")
    upgrade.set_defaults(handler=cmd_db_upgrade)
    _add_alerts_commands(commands, common)
    from pipeline.console.commands import register as register_console_commands

    register_console_commands(commands, common)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.config = getattr(args, "config", None)
    args.verbose = getattr(args, "verbose", None)
    args.log_format = getattr(args, "log_format", None)
    _setup_logging(args)
    out = out or sys.stdout
    try:
        return int(args.handler(args, out))
    except ConfigError as error:
        sys.stderr.write(f"{error}\n")
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
