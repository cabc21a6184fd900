"""Schema and migrations on real SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from pipeline.store.db import (
    HEAD_REVISION,
    create_db_engine,
    current_revision,
    head_revision,
    normalise_database_url,
    stored_revisions,
    upgrade_schema,
)
from pipeline.store.tables import Base


def test_upgrade_creates_the_schema_the_models_describe(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        upgrade_schema(engine)
        upgrade_schema(engine)  # a second upgrade is a no-op
        assert current_revision(engine) == head_revision()
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert differences == []
    finally:
        engine.dispose()


def test_the_cheap_head_revision_is_alembics_head() -> None:
    assert head_revision() == HEAD_REVISION


def test_a_current_schema_is_recognised_without_alembic(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        assert stored_revisions(engine) == set()
        upgrade_schema(engine, "0004_console_users_feedback")
        assert stored_revisions(engine) == {"0004_console_users_feedback"}
        upgrade_schema(engine)  # behind HEAD_REVISION: Alembic upgrades it
        assert stored_revisions(engine) == {HEAD_REVISION} == {current_revision(engine)}
    finally:
        engine.dispose()


def test_starting_on_a_current_database_does_not_import_alembic(tmp_path) -> None:
    database = f"sqlite:///{tmp_path / 'nw.db'}"
    engine = create_db_engine(database)
    upgrade_schema(engine)
    engine.dispose()
    probe = (
        "import sys\n"
        "from pipeline.store.db import create_db_engine, upgrade_schema\n"
        f"upgrade_schema(create_db_engine({database!r}))\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('alembic', 'mako')))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_sqlite_runs_in_wal_mode(tmp_path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'sub' / 'dir' / 'nw.db'}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()
    assert (tmp_path / "sub" / "dir" / "nw.db").exists()


def test_postgres_urls_use_psycopg3() -> None:
    assert normalise_database_url("postgresql://u@db/nw") == "postgresql+psycopg://u@db/nw"
    assert normalise_database_url("postgres://u:p@db/nw") == "postgresql+psycopg://u:p@db/nw"
    assert normalise_database_url("sqlite:///data/x.db") == "sqlite:///data/x.db"
