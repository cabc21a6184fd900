"""One `newswatch worker` process: the pipeline, the queue's schema and tasks, then the job loop."""

from __future__ import annotations

import logging
import os
import socket

from sqlalchemy.exc import IntegrityError

from pipeline.cluster.app import build_app, install_schema
from pipeline.cluster.defer import TransactionalDeferrer
from pipeline.cluster.tasks import Runtime, register_tasks, wire_pipeline
from pipeline.config import ClusterConfig, Config
from pipeline.cycle import Pipeline

log = logging.getLogger(__name__)


def register_feeds(pipeline: Pipeline, config: Config) -> None:
    """A configured feed is due once it has its row (never polled: due at once). Workers started
    together race to insert the same rows: the loser finds them there on its next try."""
    feeds = [(feed.url, feed.name) for feed in config.feeds]
    for attempt in range(3):
        try:
            pipeline.store.feed_states(feeds)
            return
        except IntegrityError:
            if attempt == 2:
                raise


def worker_config(config: Config) -> Config:
    """`config` as a worker runs it: its extraction sized by `cluster.extraction_processes`.

    By default a worker extracts in its own process. A worker with an extraction process keeps
    more than one core busy on its own (its own process spent 15-19 ms of CPU an article beside the
    extraction's 50 ms), so a second worker on the next core adds less than a first; a worker that
    is one process is one core's worth of work, and N of them carry about N times one
    (docs/cluster.md, "Capacity, measured")."""
    settings = config.cluster or ClusterConfig()
    extract = config.extract.model_copy(update={"workers": settings.extraction_processes})
    return config.model_copy(update={"extract": extract})


def run_worker(config: Config, concurrency: int | None = None) -> None:
    """Run jobs until SIGINT/SIGTERM (procrastinate finishes the running ones first)."""
    config = worker_config(config)
    settings = config.cluster or ClusterConfig()
    if not log.isEnabledFor(logging.DEBUG):
        # procrastinate logs every job's start and end with its arguments (a whole feed item) at INFO:
        # the pipeline's own lines say what happened, more briefly.
        logging.getLogger("procrastinate").setLevel(logging.WARNING)
    app = build_app(config.database)
    # Our schema first: on an empty database it is created from the models in one step, which only
    # happens while the database holds no table (not even the queue's).
    pipeline = Pipeline.open(config)
    if install_schema(config.database):
        log.info("installed the job queue's tables in %s", config.database.rsplit("@", 1)[-1])
    register_feeds(pipeline, config)
    new_items = wire_pipeline(pipeline, TransactionalDeferrer(), config.fetch.fetch_pages)
    if config.fetch.fetch_pages:
        pipeline.extractor.start()
    runtime = Runtime(config, pipeline, new_items)
    register_tasks(app, settings, lambda: runtime)
    name = f"newswatch-{socket.gethostname()}-{os.getpid()}"
    processes = config.extract.workers
    log.info(
        "worker %s: %d jobs at once, pages extracted in %s",
        name,
        concurrency or settings.concurrency,
        f"{processes} extraction processes" if processes else "this process",
    )
    try:
        app.run_worker(
            concurrency=concurrency or settings.concurrency,
            name=name,
            update_heartbeat_interval=settings.heartbeat,
            stalled_worker_timeout=settings.stalled_after,
            wait=True,
        )
    finally:
        pipeline.close()
