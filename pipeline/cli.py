"""The `newswatch` entry point: build the parser, dispatch to a command, map failures to exit codes.

Start-up time is a feature here (`newswatch --help` should answer at once), so this module and
every `pipeline.commands` module import only the standard library at the top; each command's
handler imports the heavy parts (SQLAlchemy, trafilatura, apprise, numpy) it needs when it runs.
tests/test_cli_startup.py fails if that stops being true.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import TextIO

from pipeline.commands import COMMAND_MODULES
from pipeline.commands.common import (
    EXIT_CODES_HELP,
    EXIT_OK,
    EXIT_RUNTIME,
    EXIT_USAGE,
    CommandError,
    VersionAction,
    setup_command_logging,
)

DESCRIPTION = "Self-hosted news monitoring: poll feeds, match topic watchlists, alert on what matters."


def _common_options() -> argparse.ArgumentParser:
    """Options every subcommand accepts, before or after its name."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        default=argparse.SUPPRESS,
        help="config file (default: $NEWSWATCH_CONFIG, ./config/newswatch.yaml, or the user config dir)",
    )
    common.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help="more log output")
    common.add_argument(
        "--log-format",
        choices=["text", "json"],
        default=argparse.SUPPRESS,
        help="log line format (default: the config's)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="newswatch",
        description=DESCRIPTION,
        epilog="first time? try:  newswatch demo\n\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action=VersionAction, help="print the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # Each module registers its own subcommands; adding a command is one module and one line
    # in pipeline/commands/__init__.py.
    for name in COMMAND_MODULES:
        importlib.import_module(f"pipeline.commands.{name}").register(commands, common)
    return parser


def _quiet_closed_pipe() -> None:
    """`newswatch alerts --json | head -1`: the reader left, which is not an error. Point stdout at
    /dev/null so the interpreter's final flush does not raise again on the dead pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.config = getattr(args, "config", None)
    args.verbose = getattr(args, "verbose", None)
    args.log_format = getattr(args, "log_format", None)
    setup_command_logging(args)
    out = out or sys.stdout
    try:
        return int(args.handler(args, out))
    except BrokenPipeError:
        _quiet_closed_pipe()
        return EXIT_OK
    except CommandError as error:
        sys.stderr.write(f"newswatch {args.command}: {error}\n")
        return error.exit_code
    except Exception as error:
        # A config error prints as it is (it already names the file and the key). pipeline.config
        # is only looked up, not imported: if no command loaded it, this cannot be one of its errors.
        config_module = sys.modules.get("pipeline.config")
        if config_module is not None and isinstance(error, config_module.ConfigError):
            sys.stderr.write(f"{error}\n")
            return EXIT_USAGE
        # Anything else is a runtime failure: one line for the operator, the traceback with -v.
        if args.verbose:
            traceback.print_exc()
        sys.stderr.write(f"newswatch {args.command}: {type(error).__name__}: {error}\n")
        return EXIT_RUNTIME


if __name__ == "__main__":
    sys.exit(main())
