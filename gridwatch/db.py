"""Database access: connections and the migration runner."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from gridwatch.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

SQL_DIR = PROJECT_ROOT / "sql"
TIMESCALE_SUFFIX = ".timescale.sql"
# Any constant works; it keeps two processes from migrating the same database at once.
MIGRATION_LOCK_ID = 7_402_115
# NOTIFY channel on which alert changes wake dispatch and the dashboard.
ALERTS_CHANNEL = "gridwatch_alerts"


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=autocommit, row_factory=dict_row)


@contextmanager
def connection(url: str) -> Iterator[psycopg.Connection]:
    conn = connect(url)
    try:
        yield conn
    finally:
        conn.close()


def timescaledb_available(conn: psycopg.Connection) -> bool:
    row = conn.execute(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
    ).fetchone()
    return row is not None


def migration_files(sql_dir: Path = SQL_DIR) -> list[Path]:
    """Numbered migrations in order; TimescaleDB-only steps end in .timescale.sql."""
    return sorted(p for p in sql_dir.glob("*.sql") if p.name[:3].isdigit())


def migrate(url: str, sql_dir: Path = SQL_DIR) -> list[str]:
    """Apply migrations not applied yet, each in its own transaction; return their names."""
    applied: list[str] = []
    with connection(url) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.commit()
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_ID,))
        try:
            done = {r["name"] for r in conn.execute("SELECT name FROM schema_migrations")}
            timescale = timescaledb_available(conn)
            for path in migration_files(sql_dir):
                if path.name in done:
                    continue
                if path.name.endswith(TIMESCALE_SUFFIX) and not timescale:
                    log.info("skipping %s: TimescaleDB is not available", path.name)
                    continue
                with conn.transaction():
                    conn.execute(path.read_text(encoding="utf-8"))  # type: ignore[arg-type]
                    conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (path.name,))
                applied.append(path.name)
                log.info("applied %s", path.name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_ID,))
            conn.commit()
    return applied
