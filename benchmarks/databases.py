"""Throwaway PostgreSQL databases (for the benchmarks and, through tests/support, the tests), and
what a run stored."""

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
def fresh_postgres_database(admin_url: str = ADMIN_URL, prefix: str = "newswatch_bench") -> Iterator[str]:
    """Create `<prefix>_<random>` on the server, yield its URL, drop it afterwards (so repeated
    and parallel runs never collide). Raises PostgresUnavailable, with the reason, before yielding
    if the server cannot be reached."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        admin.dispose()
        where = make_url(admin_url).render_as_string()
        raise PostgresUnavailable(f"PostgreSQL at {where} is not reachable: {error}") from error
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
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
