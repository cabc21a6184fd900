"""`newswatch worker`: run the cluster's jobs (cluster mode, PostgreSQL only)."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from pipeline.commands.common import EXIT_OK, CommandError, add_command, load, setup_command_logging


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    worker = add_command(
        commands,
        "worker",
        common,
        summary="run cluster jobs (polls, extraction, alerts) from the PostgreSQL job queue, until SIGTERM",
        details=(
            "Start as many as you like, on as many machines: they share the work through the database.\n"
            "Settings: the cluster section of the config (docs/cluster.md)."
        ),
        example="newswatch worker --config config/newswatch.yaml --concurrency 8",
    )
    worker.add_argument(
        "--concurrency",
        type=int,
        metavar="N",
        help="jobs run at once by this worker (default: cluster.concurrency, 4)",
    )
    worker.set_defaults(handler=cmd_worker, default_verbosity=1)


def cmd_worker(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.cluster.database import NotPostgres, libpq_url

    config = load(args)
    if args.concurrency is not None and args.concurrency < 1:
        raise CommandError(f"--concurrency must be at least 1, not {args.concurrency}")
    try:
        libpq_url(config.database)
    except NotPostgres as error:
        raise CommandError(f"database: {error}") from None
    setup_command_logging(args, config)
    from pipeline.cluster.worker import run_worker

    run_worker(config, args.concurrency)
    return EXIT_OK
