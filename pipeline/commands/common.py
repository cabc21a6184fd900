"""What every command shares: exit codes, config loading, logging, database opening and the small
formatting rules (dates, counts, durations) that make the output of one command read like another's.

Standard library only at the top: this module is imported for `newswatch --help`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from pipeline.config import Config
    from pipeline.store import Store

StoreT = TypeVar("StoreT")

EXIT_OK = 0
# Like grep and diff: nothing matched, a golden example failed, the topics would match
# differently, a feed needs attention, every feed failed.
EXIT_NO_MATCH = 1
EXIT_USAGE = 2
EXIT_RUNTIME = 3

EXIT_CODES_HELP = """exit codes:
  0  ok
  1  nothing matched, or something is failing (a feed, a golden example, a changed
     backtest), or there is no database yet
  2  bad input or config (unknown option or topic, missing file, invalid config)
  3  runtime failure (database or network error while running)"""


class CommandError(Exception):
    """A failure the operator can act on, printed as one line without a traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        return package_version("newswatch")
    except PackageNotFoundError:  # run from a source tree without installing
        from pipeline import __version__

        return __version__


class VersionAction(argparse.Action):
    """`--version`, looked up only when asked for: importlib.metadata alone costs 30 ms of start-up."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        sys.stdout.write(f"newswatch {version()}\n")  # stdout, like argparse's own version action
        parser.exit()


def add_command(
    commands: Any,
    name: str,
    common: argparse.ArgumentParser,
    *,
    summary: str,
    example: str,
    details: str = "",
    parents: list[argparse.ArgumentParser] | None = None,
) -> argparse.ArgumentParser:
    """A subcommand whose help has a one-line summary, what it does, an example and the exit codes."""
    epilog = f"example:\n  {example}\n\n{EXIT_CODES_HELP}"
    return commands.add_parser(
        name,
        parents=[common, *(parents or [])],
        help=summary,
        description=f"{summary}.\n\n{details}".rstrip() if details else f"{summary}.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def setup_command_logging(args: argparse.Namespace, config: Config | None = None) -> None:
    """Level from -v, else the config (long-running commands), else the command's default."""
    from pipeline.logs import setup_logging

    if args.verbose is not None:
        level = logging.DEBUG if args.verbose > 1 else logging.INFO
    elif config is not None:
        level = getattr(logging, config.logging.level.upper())
    else:
        level = logging.INFO if getattr(args, "default_verbosity", 0) else logging.WARNING
    log_format = args.log_format or (config.logging.format if config is not None else "text")
    setup_logging(level, json_format=log_format == "json")


def config_path(args: argparse.Namespace) -> str:
    from pipeline.config import resolve_config_path

    return resolve_config_path(args.config)


def load(args: argparse.Namespace) -> Config:
    from pipeline.config import load_config

    return load_config(config_path(args))


def check_topic(config: Config, topic: str | None) -> None:
    if topic and topic not in config.topics:
        raise CommandError(f"unknown topic {topic!r}; known: {', '.join(config.topics)}")


@contextmanager
def opened_store(config: Config, kind: Callable[[Engine], StoreT] | None = None) -> Iterator[StoreT]:
    """The configured database, created or upgraded to the current schema (commands that write),
    behind `kind` (the store of articles and feeds unless another is asked for, e.g. the console's)."""
    from pipeline.store import Store, create_db_engine, upgrade_schema

    engine = create_db_engine(config.database)
    try:
        upgrade_schema(engine)
        yield (kind or Store)(engine)
    finally:
        engine.dispose()


def require_database(config: Config) -> None:
    """Refuse to go on when the configured SQLite file does not exist. Commands that only read
    (matches, alerts, feeds, backtest) must never create one: a missing file means the config points
    somewhere other than the operator thinks, and a new empty database would hide that."""
    from sqlalchemy.engine import make_url

    from pipeline.store.db import normalise_database_url

    url = make_url(normalise_database_url(config.database))
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        path = Path(database).expanduser()
        if not database or database == ":memory:" or not path.is_file():
            raise CommandError(
                f"there is no database yet at {path.resolve() if database else repr(database)} "
                f"(database: {config.database}); run `newswatch once` or `newswatch run` to create it",
                EXIT_NO_MATCH,
            )


@contextmanager
def existing_store(config: Config) -> Iterator[Store]:
    """The configured database, which must exist, at the current schema."""
    from pipeline.store import Store, create_db_engine, upgrade_schema

    require_database(config)
    engine = create_db_engine(config.database)
    try:
        # An existing database from an older release is upgraded like any command would; what must
        # not happen is a new, empty one.
        upgrade_schema(engine)
        yield Store(engine)
    finally:
        engine.dispose()
