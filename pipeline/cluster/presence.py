"""Whether cluster workers are at work on a database, for the single-machine daemon sharing it.

`docker compose up --scale worker=4` starts the `newswatch` service (`newswatch run`) next to the
workers. Both would be clocks for the same feeds; so while workers are alive (a heartbeat within
`cluster.stalled_after`), the daemon stands back from polling and leaves the feeds to their sweep,
and keeps serving the console, /healthz and /metrics. When the last worker stops, it polls again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from pipeline.cluster.database import NotPostgres, libpq_url
from pipeline.config import ClusterConfig, Config

log = logging.getLogger(__name__)


class ClusterPresence:
    """Workers alive on the database, asked at most once per `every` seconds (the daemon's tick
    asks up to ten times a second; a worker's heartbeat comes every few seconds anyway)."""

    def __init__(
        self,
        database_url: str,
        stalled_after: float,
        every: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.conninfo = libpq_url(database_url)
        self.stalled_after = stalled_after
        self.every = every
        self.clock = clock
        self._asked_at: float | None = None
        self._alive = 0

    def workers_alive(self) -> int:
        now = self.clock()
        if self._asked_at is not None and now - self._asked_at < self.every:
            return self._alive
        self._asked_at = now
        # Imported here: the daemon imports this module on SQLite too, where psycopg (9 MB of
        # resident memory and about 0.4 s of imports) is never used.
        import psycopg

        from pipeline.cluster.status import count_live_workers

        try:
            with psycopg.connect(self.conninfo, connect_timeout=5) as connection:
                alive = count_live_workers(connection, self.stalled_after)
        except psycopg.Error:
            # The daemon's own store reports an unreachable database; polling goes on meanwhile.
            log.warning("could not ask the job queue whether cluster workers are alive", exc_info=True)
            alive = 0
        if (alive > 0) != (self._alive > 0):
            if alive:
                log.info("%d cluster workers alive: they poll the feeds; this daemon stands back", alive)
            else:
                log.info("no cluster worker alive: this daemon polls the feeds")
        self._alive = alive
        return alive


def presence_for(config: Config) -> ClusterPresence | None:
    """None on SQLite (no cluster there); otherwise asked as often as workers send heartbeats."""
    try:
        libpq_url(config.database)
    except NotPostgres:
        return None
    settings = config.cluster or ClusterConfig()
    return ClusterPresence(config.database, settings.stalled_after, settings.heartbeat)
