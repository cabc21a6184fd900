"""The procrastinate app: its connection to PostgreSQL and its schema, installed once."""

from __future__ import annotations

import psycopg
from procrastinate import App, PsycopgConnector
from procrastinate.schema import SchemaManager

from pipeline.cluster.database import libpq_url

# Any constant: it only has to be the same in every worker that might install the schema at once.
_SCHEMA_LOCK = 0x6E657773


def build_app(database_url: str) -> App:
    """An app that is not open yet: `run_worker` opens it, or `with app.open(): ...`."""
    return App(connector=PsycopgConnector(conninfo=libpq_url(database_url)))


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
