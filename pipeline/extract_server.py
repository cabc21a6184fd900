"""How extraction workers are started: forked from a fork server that has imported and run
trafilatura (pipeline/extract_preload.py), where the platform has one; else spawned.

Kept apart from pipeline/extract.py so that a command can start the server before its own heavy
imports (SQLAlchemy, the pipeline): the server's import of trafilatura, about a second of CPU,
then runs on the other core while the parent starts, instead of after it.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import multiprocessing.forkserver

# The module the fork server imports before forking any worker.
WORKER_PRELOAD = "pipeline.extract_preload"


def worker_context() -> multiprocessing.context.BaseContext:
    """The start method for extraction workers. Never plain fork: the parent runs threads (HTTP,
    scheduler, database pools), and a forked copy of a held lock stays held."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # Read when the server starts; one server serves every pool of the process after that.
    context.set_forkserver_preload([WORKER_PRELOAD])
    return context


def start_worker_server() -> None:
    """Start the fork server now, without waiting for it to load trafilatura (no-op where workers
    are spawned, or when it runs already)."""
    if worker_context().get_start_method() == "forkserver":
        multiprocessing.forkserver.ensure_running()
