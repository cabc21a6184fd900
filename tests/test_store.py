"""Schema and migrations on real SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

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
        upgrade_schema(engine, HEAD_REVISION)  # named: the migrations run, one by one
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


def _schema(engine: Engine) -> dict[str, object]:
    """Everything the inspector reports about every table, in a comparable form."""
    found: dict[str, object] = {}
    with engine.connect() as connection:
        inspector = inspect(connection)
        for table in sorted(inspector.get_table_names()):
            found[table] = {
                "columns": sorted(  # by name: a migration adds its columns at the end
                    (column["name"], str(column["type"]), column["nullable"], column.get("default"))
                    for column in inspector.get_columns(table)
                ),
                "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
                "indexes": sorted(
                    (index["name"] or "", tuple(index["column_names"]), bool(index["unique"]))
                    for index in inspector.get_indexes(table)
                ),
                "unique": sorted(
                    (unique["name"] or "", tuple(unique["column_names"]))
                    for unique in inspector.get_unique_constraints(table)
                ),
                "foreign_keys": sorted(
                    (
                        key["name"] or "",
                        tuple(key["constrained_columns"]),
                        key["referred_table"],
                        tuple(key["referred_columns"]),
                        tuple(sorted((key.get("options") or {}).items())),
                    )
                    for key in inspector.get_foreign_keys(table)
                ),
            }
    return found


def test_a_fresh_database_gets_the_schema_the_migrations_build(database_url: str, tmp_path) -> None:
    migrated = create_db_engine(database_url)
    created = create_db_engine(f"sqlite:///{tmp_path / 'created.db'}")
    try:
        upgrade_schema(migrated, HEAD_REVISION)
        upgrade_schema(created)
        assert current_revision(created) == head_revision()
        with created.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        if migrated.dialect.name == "sqlite":
            assert _schema(created) == _schema(migrated)
        upgrade_schema(created, HEAD_REVISION)  # Alembic agrees there is nothing left to do
    finally:
        migrated.dispose()
        created.dispose()


def test_a_database_with_foreign_tables_is_left_to_alembic(tmp_path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'nw.db'}")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY)"))
        upgrade_schema(engine)
        assert stored_revisions(engine) == {HEAD_REVISION}
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) != []  # notes
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
