"""`newswatch db upgrade`: create the database or bring its schema up to date."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from pipeline.commands.common import EXIT_OK, add_command, load, opened_store


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    db = add_command(
        commands,
        "db",
        common,
        summary="database maintenance",
        example="newswatch db upgrade --config config/newswatch.yaml",
    )
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    upgrade = add_command(
        db_commands,
        "upgrade",
        common,
        summary="create the database or upgrade its schema to this release's",
        example="newswatch db upgrade",
    )
    upgrade.set_defaults(handler=cmd_db_upgrade)


def cmd_db_upgrade(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.store.db import current_revision

    with opened_store(load(args)) as store:
        out.write(f"database schema at revision {current_revision(store.engine)}\n")
    return EXIT_OK
