"""What the queue holds, for `newswatch cluster status`: read straight from procrastinate's tables."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from pipeline.cluster.database import libpq_url


@dataclass(frozen=True, slots=True)
class TaskDepth:
    task: str
    waiting: int
    running: int
    failed: int
    # Succeeded and kept: none of newswatch's own workers' jobs, which are deleted as they succeed
    # (pipeline/cluster/app.py); a job run by a worker that keeps them, until pruned.
    done: int


@dataclass(frozen=True, slots=True)
class ClusterStatus:
    tasks: list[TaskDepth] = field(default_factory=list)
    # Running jobs whose worker stopped sending heartbeats; `retry_stalled_jobs` runs them again.
    stalled_jobs: int = 0
    workers_alive: int = 0
    # Registered workers whose last heartbeat is older than `stalled_after`.
    workers_silent: int = 0
    schema_installed: bool = True

    def as_json(self) -> dict[str, object]:
        return {
            "schema_installed": self.schema_installed,
            "workers_alive": self.workers_alive,
            "workers_silent": self.workers_silent,
            "stalled_jobs": self.stalled_jobs,
            "tasks": {
                depth.task: {
                    "waiting": depth.waiting,
                    "running": depth.running,
                    "failed": depth.failed,
                    "done": depth.done,
                }
                for depth in self.tasks
            },
        }


_DEPTHS = """
SELECT task_name,
       count(*) FILTER (WHERE status = 'todo'),
       count(*) FILTER (WHERE status = 'doing'),
       count(*) FILTER (WHERE status = 'failed'),
       count(*) FILTER (WHERE status = 'succeeded')
  FROM procrastinate_jobs
 GROUP BY task_name
 ORDER BY task_name
"""
_STALLED = """
SELECT count(*)
  FROM procrastinate_jobs job
  LEFT JOIN procrastinate_workers worker ON worker.id = job.worker_id
 WHERE job.status = 'doing'
   AND (worker.id IS NULL OR worker.last_heartbeat < now() - make_interval(secs => %(stalled_after)s))
"""
_WORKERS = """
SELECT count(*) FILTER (WHERE last_heartbeat >= now() - make_interval(secs => %(stalled_after)s)),
       count(*) FILTER (WHERE last_heartbeat < now() - make_interval(secs => %(stalled_after)s))
  FROM procrastinate_workers
"""


def count_live_workers(connection: psycopg.Connection, stalled_after: float) -> int:
    """Workers with a heartbeat within `stalled_after`; 0 where the queue's schema is not installed."""
    installed = connection.execute("SELECT to_regclass('procrastinate_workers')").fetchone()
    if installed is None or installed[0] is None:
        return 0
    row = connection.execute(_WORKERS, {"stalled_after": stalled_after}).fetchone()
    assert row is not None
    return int(row[0])


def read_status(database_url: str, stalled_after: float) -> ClusterStatus:
    with psycopg.connect(libpq_url(database_url)) as connection:
        installed = connection.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
        if installed is None or installed[0] is None:
            return ClusterStatus(schema_installed=False)
        depths = [TaskDepth(*row) for row in connection.execute(_DEPTHS)]
        parameters = {"stalled_after": stalled_after}
        stalled_row = connection.execute(_STALLED, parameters).fetchone()
        workers_row = connection.execute(_WORKERS, parameters).fetchone()
    assert stalled_row is not None and workers_row is not None
    return ClusterStatus(depths, stalled_row[0], workers_row[0], workers_row[1])
