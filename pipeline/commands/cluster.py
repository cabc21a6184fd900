"""`newswatch cluster status`: the job queue of cluster mode at a glance."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from pipeline.commands.common import EXIT_NO_MATCH, EXIT_OK, CommandError, add_command, load


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    cluster = add_command(
        commands,
        "cluster",
        common,
        summary="inspect cluster mode's job queue",
        example="newswatch cluster status --json",
    )
    actions = cluster.add_subparsers(dest="cluster_action", metavar="ACTION", required=True)
    status = add_command(
        actions,
        "status",
        common,
        summary="queue depth per task, stalled jobs and workers alive",
        details="Exits 1 when jobs are stalled or no worker is alive.",
        example="newswatch cluster status --config config/newswatch.yaml",
    )
    status.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    status.set_defaults(handler=cmd_status)


def cmd_status(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.cluster.database import NotPostgres
    from pipeline.cluster.status import read_status
    from pipeline.config import ClusterConfig

    config = load(args)
    settings = config.cluster or ClusterConfig()
    try:
        status = read_status(config.database, settings.stalled_after)
    except NotPostgres as error:
        raise CommandError(f"database: {error}") from None
    if args.json:
        out.write(json.dumps(status.as_json()) + "\n")
    elif not status.schema_installed:
        out.write("no job queue in this database yet: start a `newswatch worker` to create it\n")
    else:
        out.write(
            f"workers alive: {status.workers_alive} (silent: {status.workers_silent}); "
            f"stalled jobs: {status.stalled_jobs}\n"
        )
        out.write(f"{'task':<32} {'waiting':>8} {'running':>8} {'failed':>8} {'done':>8}\n")
        for depth in status.tasks:
            out.write(
                f"{depth.task:<32} {depth.waiting:>8} {depth.running:>8} {depth.failed:>8} {depth.done:>8}\n"
            )
    healthy = status.schema_installed and status.workers_alive > 0 and status.stalled_jobs == 0
    return EXIT_OK if healthy else EXIT_NO_MATCH
