"""Deferring jobs on a connection the caller holds, inside the caller's transaction.

A job inserted this way commits or rolls back with the rows the same transaction writes: a poll's
recorded result and its items' jobs, an article's alert rows and their delivery job. procrastinate
(3.10) runs the INSERT on a psycopg connection given to `configure(connection=...)`; the
synchronous connector does it on the caller's thread, whereas the worker's own (asynchronous)
connector would need an asynchronous connection, so deferring has a connector of its own. It is
never opened: it has no pool and only ever runs queries on the connections it is given.
"""

from __future__ import annotations

from typing import Any

import psycopg
from procrastinate import SyncPsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.manager import JobManager
from procrastinate.tasks import configure_task


class TransactionalDeferrer:
    def __init__(self) -> None:
        self._manager = JobManager(SyncPsycopgConnector())

    def defer_once(
        self,
        connection: psycopg.Connection[Any],
        name: str,
        *,
        queueing_lock: str,
        lock: str | None = None,
        **arguments: Any,
    ) -> bool:
        """Insert a job in the transaction open on `connection` unless one with the same queueing
        lock is waiting; True if inserted. Under a savepoint: the refused INSERT (a unique
        violation) must not abort the caller's transaction."""
        # A plain statement, not psycopg's transaction(): on a connection with no statement run yet,
        # that would BEGIN and COMMIT on its own; SAVEPOINT first opens the caller's transaction.
        connection.execute("SAVEPOINT newswatch_defer")
        try:
            configure_task(
                name=name,
                job_manager=self._manager,
                queueing_lock=queueing_lock,
                lock=lock,
                connection=connection,
            ).defer(**arguments)
        except AlreadyEnqueued:
            connection.execute("ROLLBACK TO SAVEPOINT newswatch_defer")
            return False
        connection.execute("RELEASE SAVEPOINT newswatch_defer")
        return True
