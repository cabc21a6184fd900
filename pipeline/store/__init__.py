"""Persistence: tables, migrations and the queries the application needs."""

from pipeline.store.db import create_db_engine, upgrade_schema
from pipeline.store.repository import Store

__all__ = ["Store", "create_db_engine", "upgrade_schema"]
