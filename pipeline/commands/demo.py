"""`newswatch demo`: one real cycle against a feed served from this machine, then what matched and why."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any, TextIO

from pipeline.commands.common import (
    EXIT_NO_MATCH,
    EXIT_OK,
    add_command,
    setup_command_logging,
)
from pipeline.humanize import plural


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    demo = add_command(
        commands,
        "demo",
        common,
        summary="see newswatch work in seconds: poll a demo feed served locally, match, explain",
        details="Serves a sample feed and its pages on 127.0.0.1, runs one cycle into a throwaway\n"
        "SQLite database with a two-topic config, and prints each match with why it matched.\n"
        "Needs no config file and no network; nothing outside a temporary directory is written.",
        example="newswatch demo   |   newswatch demo --keep ./demo",
    )
    demo.add_argument(
        "--keep",
        metavar="DIR",
        help="write the demo's config and database to DIR and keep them (default: a temporary directory)",
    )
    demo.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    if args.keep:
        directory = Path(args.keep)
        directory.mkdir(parents=True, exist_ok=True)
        return _run_demo(args, directory, out)
    with tempfile.TemporaryDirectory(prefix="newswatch-demo-") as temporary:
        return _run_demo(args, Path(temporary), out)


def _run_demo(args: argparse.Namespace, directory: Path, out: TextIO) -> int:
    from pipeline.commands.matches import match_text
    from pipeline.config import load_config
    from pipeline.cycle import Pipeline
    from pipeline.demo import serve_site, write_config
    from pipeline.store import Store, create_db_engine

    with serve_site() as base_url:
        setup = write_config(directory, base_url)
        config = load_config(setup.config_path)
        setup_command_logging(args, config)
        out.write(f"demo: serving a sample feed at {setup.feed_url}\n")
        out.write(f"demo: config {setup.config_path}, database {setup.database_url}\n")
        out.flush()
        with Pipeline.open(config) as pipeline:
            report = pipeline.run_cycle()
    out.write(report.summary() + "\n")
    for feed in report.failed_feeds:
        out.write(f"  feed {feed.feed!r} ({feed.url}): {feed.error}\n")
    engine = create_db_engine(setup.database_url)
    try:
        found = Store(engine).recent_matches(limit=50)
    finally:
        engine.dispose()
    # The alerts above came through the real console channel; the store has the matches too.
    out.write(
        f"\nstored: {plural(len(found), 'match', 'matches')}, newest first "
        "(`newswatch matches` lists them), each with why it matched:\n\n"
    )
    for match in found:
        out.write(match_text(match, explain=True) + "\n")
    if found:
        out.write(
            "The console channel printed the alerts above; in your own setup email, a webhook or\n"
            "any Apprise service can receive them as well.\n"
            "Next: write a config (the demo's is a start, see --keep) and run "
            "`newswatch check-config`, then `newswatch once`.\n"
        )
    return EXIT_OK if found else EXIT_NO_MATCH
