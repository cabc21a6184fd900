"""Which database cluster mode runs on: PostgreSQL only, named by the libpq URL psycopg takes."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from pipeline.store.db import normalise_database_url


class NotPostgres(Exception):
    """Cluster mode was asked for on a database that is not PostgreSQL."""


def libpq_url(database_url: str) -> str:
    """The libpq URL psycopg connects with, from the SQLAlchemy URL of the config."""
    url = make_url(normalise_database_url(database_url))
    if url.get_backend_name() != "postgresql":
        raise NotPostgres(
            f"cluster mode needs PostgreSQL (database: postgresql://...), and the config's database is "
            f"{url.get_backend_name()} ({url.render_as_string(hide_password=True)})"
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)
