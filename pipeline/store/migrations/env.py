"""Alembic environment: runs against the engine newswatch hands over (never a URL from an ini file)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from pipeline.store.tables import Base

engine = context.config.attributes["engine"]


def _sqlite_foreign_keys(connection: Connection, enabled: bool) -> None:
    """SQLite alters a table by copying it and dropping the original; with foreign keys on, that
    drop cascades (ON DELETE CASCADE) and empties every child table. The pragma only takes
    effect outside a transaction, so it goes straight to the driver, before SQLAlchemy begins one."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if enabled else 'OFF'}")
    finally:
        cursor.close()


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _sqlite_foreign_keys(connection, enabled=False)
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                # What foreign keys would have enforced is checked once, at the end.
                problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise RuntimeError(f"migration left rows that break foreign keys: {problems[:5]}")
        connection.commit()
    finally:
        if sqlite:
            _sqlite_foreign_keys(connection, enabled=True)
