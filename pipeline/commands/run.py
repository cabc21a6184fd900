"""`newswatch run` (the daemon) and `newswatch once` (one cycle)."""

from __future__ import annotations

import argparse
import gc
from typing import TYPE_CHECKING, Any, TextIO

from pipeline.commands.common import (
    EXIT_NO_MATCH,
    EXIT_OK,
    CommandError,
    add_command,
    config_path,
    load,
    setup_command_logging,
)
from pipeline.commands.progress import working
from pipeline.humanize import plural

if TYPE_CHECKING:
    from pipeline.config import Config


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    run = add_command(
        commands,
        "run",
        common,
        summary="run the daemon: poll every feed on its interval and alert, until SIGINT/SIGTERM",
        details="SIGHUP re-reads the config file.",
        example="newswatch run --config config/newswatch.yaml",
    )
    run.set_defaults(handler=cmd_run, default_verbosity=1)
    once = add_command(
        commands,
        "once",
        common,
        summary="run one full cycle (poll, extract, match, store, alert), then exit",
        details="Exits 1 when every feed failed, so a cron job or a first try notices.",
        example="newswatch once --config config/newswatch.yaml",
    )
    once.set_defaults(handler=cmd_once, default_verbosity=1)


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.config import load_config
    from pipeline.heap import cap_arenas

    cap_arenas()  # before the poll threads exist
    path = config_path(args)
    config = load_config(path)
    refuse_cluster_on_sqlite(config)
    start_extraction_server(config)
    from pipeline.cycle import Pipeline
    from pipeline.daemon import Daemon

    setup_command_logging(args, config)
    Daemon(Pipeline.open(config), path).run()
    return EXIT_OK


def refuse_cluster_on_sqlite(config: Config) -> None:
    """`run` on SQLite is the single-machine mode: a cluster section there is a mistake to name."""
    from pipeline.cluster.database import NotPostgres, libpq_url

    if config.cluster is None:
        return
    try:
        libpq_url(config.database)
    except NotPostgres as error:
        raise CommandError(
            f"cluster: {error}; `newswatch run` on SQLite is the single-machine mode: remove the "
            "cluster section, or point database at PostgreSQL and start `newswatch worker` processes"
        ) from None


def freeze_start_up() -> None:
    """Put every object start-up made (modules, the config, the store's statements) out of the garbage
    collector's sight. A one-shot process frees none of them before it exits, yet each full
    collection walked them all, the one at interpreter exit too: 0.3-0.8 s of an all-304 `once`
    over 1,000 feeds (issue 16). Objects made later are collected as before."""
    gc.freeze()


def start_extraction_server(config: Config) -> None:
    """Start the extraction workers' fork server before the pipeline's own imports, which it then
    runs beside (pipeline/extract_server.py)."""
    if config.fetch.fetch_pages and config.extract.workers > 0 and config.cluster is None:
        from pipeline.extract_server import start_worker_server

        start_worker_server()


def cmd_once(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.heap import cap_arenas

    cap_arenas()  # before the poll threads exist
    config = load(args)
    start_extraction_server(config)
    from pipeline.cycle import Pipeline

    setup_command_logging(args, config)
    with Pipeline.open(config) as pipeline, working(f"polling {plural(len(config.feeds), 'feed')}"):
        freeze_start_up()
        report = pipeline.run_cycle()
    out.write(report.summary() + "\n")
    for feed in report.failed_feeds:
        out.write(f"  feed {feed.feed!r} ({feed.url}): {feed.error}\n")
    attempted = [feed for feed in report.feeds if not feed.skipped]
    if attempted and len(report.failed_feeds) == len(attempted):
        out.write("every feed failed: check the URLs and the network (newswatch feeds shows each one)\n")
        return EXIT_NO_MATCH
    return EXIT_OK
