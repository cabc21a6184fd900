"""Throwaway databases: a SQLite file, or a fresh database on the real PostgreSQL server.

Outside CI a missing PostgreSQL server skips the test with the reason; in CI
(NEWSWATCH_REQUIRE_POSTGRES=1, set by .ci/run) it fails the test instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get(
    "NEWSWATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("NEWSWATCH_REQUIRE_POSTGRES") == "1"


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create `newswatch_test_<random>` on the server, yield its URL, drop it afterwards."""
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    name = f"newswatch_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        admin.dispose()
        reason = f"PostgreSQL at {make_url(ADMIN_URL).render_as_string()} is not reachable: {error}"
        if REQUIRE_POSTGRES:
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
