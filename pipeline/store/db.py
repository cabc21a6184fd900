"""Engines and schema upgrades. SQLite gets WAL and immediate write locks; PostgreSQL uses psycopg 3."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

# Alembic (about 0.3 s of CPU and 10 MB at start-up) is imported only when a database is not yet
# at HEAD_REVISION: every other start of `newswatch once` or the daemon asks one SELECT instead.
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The newest migration's revision. tests/test_store.py checks it against Alembic's own head, so a
# migration added without updating it fails the tests instead of being skipped at start-up.
HEAD_REVISION = "0006_login_failures"


def normalise_database_url(url: str) -> str:
    """Operators write `postgresql://...`; SQLAlchemy would pick psycopg2, which we do not ship."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module so that BEGIN IMMEDIATE below is ours:
        # a deferred transaction that later writes can fail at once with "database is locked".
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_db_engine(url: str) -> Engine:
    url = normalise_database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def create_read_only_engine(url: str) -> Engine:
    """An engine that cannot write: for commands that only read (backtest). SQLite opens the file
    read-only (and must exist); PostgreSQL sessions default to read-only transactions."""
    url = normalise_database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if not database or database == ":memory:" or not Path(database).expanduser().is_file():
            raise FileNotFoundError(f"no SQLite database at {database!r}")
        path = quote(str(Path(database).expanduser().resolve()))  # a URI: '?' or '#' in a path is escaped
        return create_engine(f"sqlite:///file:{path}?mode=ro&uri=true", connect_args={"timeout": 30})
    return create_engine(url, connect_args={"options": "-c default_transaction_read_only=on"})


def _alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


# Any constant: the same in every process that may upgrade one PostgreSQL database at once.
_UPGRADE_LOCK = 0x6E777363


def upgrade_schema(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`. At "head", a database already there costs one SELECT, and an
    empty one is created from the models (tests/test_store.py checks that both ways give the same
    schema); Alembic runs only to migrate a database that holds an older schema.

    On PostgreSQL, under an advisory lock: processes started together on one database (workers of a
    cluster, `docker compose up --scale worker=4`) would otherwise both create the schema, and the
    loser exits on a duplicate table."""
    if engine.dialect.name != "postgresql":
        _upgrade_schema(engine, revision)
        return
    with engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _UPGRADE_LOCK})
        try:
            _upgrade_schema(engine, revision)
        finally:
            holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _UPGRADE_LOCK})
            holder.commit()


def _upgrade_schema(engine: Engine, revision: str) -> None:
    if revision == "head":
        stored = stored_revisions(engine)
        if stored == {HEAD_REVISION} or (not stored and _created_fresh(engine)):
            return
    from alembic import command

    command.upgrade(_alembic_config(engine), revision)


def stored_revisions(engine: Engine) -> set[str]:
    """The revisions in the database's alembic_version table (none for an empty database), read
    without Alembic."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return set()
        return {str(row[0]) for row in connection.execute(text("SELECT version_num FROM alembic_version"))}


def _created_fresh(engine: Engine) -> bool:
    """Create the head schema in an empty database, stamped as Alembic would stamp it; False (and
    nothing done) if the database holds any table. Migrations replayed one by one on an empty
    database end in the same schema, at several times the cost: this is every first start."""
    from pipeline.store.tables import Base

    with engine.begin() as connection:
        if inspect(connection).get_table_names():
            return False
        Base.metadata.create_all(connection)
        versions = MetaData()
        # Alembic's own definition of its version table.
        table = Table(
            "alembic_version",
            versions,
            Column("version_num", String(32), nullable=False),
            PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
        )
        versions.create_all(connection)
        connection.execute(table.insert().values(version_num=HEAD_REVISION))
    return True


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """Alembic's own view of the newest migration (HEAD_REVISION is the cheap copy)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
