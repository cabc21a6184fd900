"""Throwaway databases: a SQLite file, or a fresh database on the real PostgreSQL server.

Outside CI a missing PostgreSQL server skips the test with the reason; in CI
(NEWSWATCH_REQUIRE_POSTGRES=1, set by .ci/run) it fails the test instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from benchmarks.databases import PostgresUnavailable
from benchmarks.databases import fresh_postgres_database as shared_fresh_database

ADMIN_URL = os.environ.get(
    "NEWSWATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("NEWSWATCH_REQUIRE_POSTGRES") == "1"


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create `newswatch_test_<random>` on the server, yield its URL, drop it afterwards."""
    database = shared_fresh_database(ADMIN_URL, prefix="newswatch_test")
    try:
        url = database.__enter__()
    except PostgresUnavailable as error:
        if REQUIRE_POSTGRES:
            pytest.fail(str(error))
        pytest.skip(str(error))
    try:
        yield url
    finally:
        database.__exit__(None, None, None)
