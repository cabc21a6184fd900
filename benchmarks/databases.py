"""Throwaway databases for benchmarks: a SQLite file in a folder, or a fresh PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

ADMIN_URL = os.environ.get(
    "NEWSWATCH_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


class PostgresUnavailable(RuntimeError):
    pass


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create `newswatch_bench_<random>`, yield its URL, drop it afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    name = f"newswatch_bench_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        admin.dispose()
        where = make_url(ADMIN_URL).render_as_string()
        raise PostgresUnavailable(f"PostgreSQL at {where} is not reachable: {error}") from error
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def count_articles(url: str) -> dict[str, int]:
    """Stored articles by extraction method, and the number of matches."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT extraction_method, count(*) FROM articles GROUP BY extraction_method")
            )
            counts = {str(method): int(number) for method, number in rows}
            counts["matches"] = int(connection.execute(text("SELECT count(*) FROM matches")).scalar_one())
    finally:
        engine.dispose()
    return counts
