"""`newswatch check-config`: validate the config and run every topic's golden examples."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from pipeline.commands.common import (
    EXIT_NO_MATCH,
    EXIT_OK,
    add_command,
    config_path,
    load,
)
from pipeline.humanize import plural


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    check = add_command(
        commands,
        "check-config",
        common,
        summary="validate the config file and run every topic's golden examples",
        details="Exits 2 if the config is invalid, 1 if a golden example no longer behaves as listed.",
        example="newswatch check-config --config config/newswatch.yaml",
    )
    check.add_argument("--skip-examples", action="store_true", help="only validate, do not run the examples")
    check.set_defaults(handler=cmd_check_config)


def cmd_check_config(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.alert.admin import describe_delivery  # alert routes, secrets masked
    from pipeline.commands.match import read_input
    from pipeline.match import Matcher
    from pipeline.match.examples import check_examples

    config = load(args)
    path = config_path(args)
    out.write(
        f"{path}: OK ({plural(len(config.feeds), 'feed')}, {plural(len(config.topics), 'topic')}, "
        f"{plural(len(config.channels), 'channel')})\n"
    )
    out.writelines(f"  {line}\n" for line in describe_delivery(config, datetime.now(UTC)))
    if args.skip_examples:
        return EXIT_OK
    results = check_examples(
        Matcher.from_topics(config.topics, config.aliases),
        config.topics,
        Path(path).resolve().parent,
        lambda source: read_input(source, config),
    )
    # An example file that is not there (a config copied to /etc without the fixtures) is a
    # warning, never a failed start.
    skipped = [result for result in results if result.skipped]
    for result in skipped:
        out.write(f"WARNING {result.key}: {result.source}: no such file; example skipped\n")
    checked = len(results) - len(skipped)
    note = f" ({len(skipped)} skipped: file not found)" if skipped else ""
    failed = [result for result in results if not result.passed]
    for result in failed:
        out.write(f"FAIL {result.key}: {result.source}: {result.detail}\n")
    if failed:
        out.write(f"golden examples: {len(failed)} of {checked} FAILED{note}\n")
        return EXIT_NO_MATCH
    out.write(f"golden examples: {checked} of {checked} as expected{note}\n")
    return EXIT_OK
