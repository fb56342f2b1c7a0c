from gridwatch import db


def test_migrations_are_recorded_and_a_second_run_applies_nothing(database_url: str) -> None:
    assert db.migrate(database_url) == []
    with db.connection(database_url) as conn:
        names = [r["name"] for r in conn.execute("SELECT name FROM schema_migrations")]
        tables = {
            r["table_name"]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema='public'"
            )
        }
    assert "001_core.sql" in names
    for table in ("areas", "devices", "telemetry", "alerts", "work_orders", "dead_letters"):
        assert table in tables


def test_timescale_steps_are_applied_only_where_the_extension_exists(database_url: str) -> None:
    with db.connection(database_url) as conn:
        available = db.timescaledb_available(conn)
        names = {r["name"] for r in conn.execute("SELECT name FROM schema_migrations")}
    timescale_files = [p.name for p in db.migration_files() if p.name.endswith(".timescale.sql")]
    assert timescale_files, "the TimescaleDB steps should exist as their own files"
    for name in timescale_files:
        assert (name in names) == available
