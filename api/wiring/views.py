"""Wires the read models to the configured store: SQLite files beside the event store, or
tables in the same PostgreSQL database and schema."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit, urlunsplit

from api.wiring.settings import Settings
from domain.application import FengqiaoApplication
from projections.db import PostgresViews, SqliteViews, ViewDatabase
from projections.viewset import VIEWS_FILE, ViewSet


def build_views(settings: Settings, app: FengqiaoApplication) -> ViewSet:
    if settings.database_url is None:
        return ViewSet.sqlite(app, settings.data_dir)
    conninfo, schema = split_schema(settings.database_url)
    return ViewSet.postgres(app, conninfo, schema)


def deadlines_database(settings: Settings) -> ViewDatabase:
    """The deadlines view's database alone, where the sweep heartbeat is kept: for a process
    that keeps no views but watches the one that does (``serve --workers``' supervisor)."""
    if settings.database_url is None:
        return SqliteViews(settings.data_dir / VIEWS_FILE, prefix="deadlines")
    conninfo, schema = split_schema(settings.database_url)
    return PostgresViews(conninfo, schema, "deadlines", pool_size=1)


def split_schema(url: str) -> tuple[str, str]:
    """A libpq URL without its ``schema`` parameter, and that schema (default ``public``)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    schema = query.pop("schema", ["public"])[0]
    rest = "&".join(f"{key}={value}" for key, values in query.items() for value in values)
    return urlunsplit(parts._replace(query=rest)), schema
