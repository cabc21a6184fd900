"""The procrastinate app: its connection to PostgreSQL and its schema, installed once."""

from __future__ import annotations

import select
import time
import weakref
from typing import Any

import psycopg
from procrastinate import App, PsycopgConnector
from procrastinate.schema import SchemaManager
from psycopg_pool import AsyncConnectionPool

from pipeline.cluster.database import libpq_url

# Any constant: it only has to be the same in every worker that might install the schema at once.
_SCHEMA_LOCK = 0x6E657773
# A pooled connection unused this long gets a round trip to the server before it is handed out.
IDLE_CHECK_SECONDS = 30.0


def build_app(database_url: str) -> App:
    """An app that is not open yet: `run_worker` opens it, or `with app.open(): ...`.

    Each job costs the queue two queries (fetch, finish). procrastinate's pool runs each in a
    transaction of its own (BEGIN, query, COMMIT) after an empty query that checks the connection:
    eight round trips a job. Its queries are single statements, so the pool's connections are in
    autocommit, and a connection is checked with a round trip only when it looks broken or has been
    idle: two round trips a job (docs/cluster.md, "Capacity, measured"). Successful jobs are deleted
    when they end: nothing reads them afterwards, the delete writes half the WAL of the update that
    would keep them, and the tables hold only what waits, runs or failed (failed jobs stay for
    `cluster status` until pruned)."""
    return App(
        connector=PsycopgConnector(conninfo=libpq_url(database_url), pool_factory=_pool),
        worker_defaults={"delete_jobs": "successful"},
    )


async def _autocommit(connection: psycopg.AsyncConnection[Any]) -> None:
    await connection.set_autocommit(True)


_handed_out: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], float] = weakref.WeakKeyDictionary()


def looks_sound(connection: psycopg.AsyncConnection[Any], idle_limit: float = IDLE_CHECK_SECONDS) -> bool:
    """True if a pooled connection can be handed out without asking the server: it is open, it was
    handed out less than `idle_limit` ago, and nothing waits to be read on its socket. A server that
    closes a connection (restart, `pg_terminate_backend`, idle timeout) sends an error and closes
    the socket, which makes it readable; an idle pooled connection otherwise receives nothing."""
    now = time.monotonic()
    last = _handed_out.get(connection)
    _handed_out[connection] = now
    if connection.closed or last is None or now - last > idle_limit:
        return False
    readable, _, _ = select.select([connection.fileno()], [], [], 0)
    return not readable


async def check_when_suspect(connection: psycopg.AsyncConnection[Any]) -> None:
    """The pool's `check`: the empty query of psycopg_pool's own check, only for a connection that
    does not look sound. It raises if the connection is broken, and the pool replaces it."""
    if not looks_sound(connection):
        await AsyncConnectionPool.check_connection(connection)


def _pool(**arguments: Any) -> AsyncConnectionPool:
    # Here, not as the connector's `configure`: procrastinate passes that to its synchronous pool too,
    # and to the connection it listens on, which it opens in autocommit itself.
    arguments["configure"] = _autocommit
    # procrastinate passes psycopg_pool's check_connection as `check`, a round trip each time.
    arguments["check"] = check_when_suspect
    return AsyncConnectionPool(**arguments)


def install_schema(database_url: str) -> bool:
    """Create procrastinate's tables and functions unless they are there; True if it created them.
    Under an advisory lock, so workers starting together do not install it twice."""
    with psycopg.connect(libpq_url(database_url), autocommit=True) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        try:
            found = connection.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
            if found is not None and found[0] is not None:
                return False
            with connection.transaction():
                connection.execute(SchemaManager.get_schema())  # type: ignore[arg-type]
            return True
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))
