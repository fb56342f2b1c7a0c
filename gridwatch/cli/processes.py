"""Commands that run GridWatch's processes: up, ingest, dispatch, maintain, dashboard."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from gridwatch.cli import database_url_of, main, settings_of


@main.command()
@click.option("--no-simulators", is_flag=True, help="Run without the simulated devices.")
@click.option(
    "--tester",
    is_flag=True,
    help="A quiet site driven from the tester console (/tester) instead of the demo's devices.",
)
@click.option("--port", type=int, default=None, help="Dashboard port (default 8050).")
@click.pass_context
def up(ctx: click.Context, no_simulators: bool, tester: bool, port: int | None) -> None:
    """Run the whole system: broker, database, ingest, dispatch, simulators and dashboard."""
    from gridwatch.up import run_everything

    settings = settings_of(ctx)
    if port:
        settings = settings.model_copy(update={"dashboard_port": port})
    sys.exit(run_everything(settings, simulators=not no_simulators, tester=tester))


@main.command()
@click.pass_context
def ingest(ctx: click.Context) -> None:
    """Consume device messages from MQTT: store, detect, raise alerts."""
    from ingest.service import run_ingest

    settings = settings_of(ctx)
    database_url_of(settings)
    run_ingest(settings)


@main.command()
@click.pass_context
def dispatch(ctx: click.Context) -> None:
    """Open and assign work orders for new alerts; escalate, notify."""
    from dispatch.deadlines import DeadlineFileError
    from dispatch.routing import RoutingFileError
    from dispatch.service import run_dispatch

    settings = settings_of(ctx)
    database_url_of(settings)
    try:
        run_dispatch(settings)
    except (DeadlineFileError, RoutingFileError) as err:
        raise click.ClickException(str(err)) from None


@main.command()
@click.option("--once", is_flag=True, help="One round (rollup, then retention) and exit.")
@click.pass_context
def maintain(ctx: click.Context, once: bool) -> None:
    """Keep the storage lifecycle: one-minute rollup, retention (or TimescaleDB's policies)."""
    import signal
    import threading
    from datetime import UTC

    from gridwatch import db as database
    from gridwatch.telemetry_rollup import storage_path
    from ingest.retention import RetentionPolicy, maintain_once, run_maintenance

    settings = settings_of(ctx)
    try:
        policy = RetentionPolicy.from_settings(settings)
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    if not once:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        database_url_of(settings)
        try:
            run_maintenance(settings, stop)
        except KeyboardInterrupt:
            pass
        return
    with database.connection(database_url_of(settings)) as conn:
        if storage_path(conn) == "timescaledb":
            raise click.ClickException(
                "this database uses TimescaleDB, whose own jobs keep the rollup and retention;"
                " run `gridwatch maintain` without --once to set their policies"
            )
        report = maintain_once(conn, policy, datetime.now(UTC), retention=True)
    click.echo(
        f"rollup: {report.minutes_refreshed} minute(s) recomputed; "
        f"retention: {report.rows_deleted} row(s) deleted"
    )


@main.command("deadletters")
@click.option("--hours", type=click.FloatRange(min=0, min_open=True), help="Only the last HOURS.")
@click.option("--examples", type=click.IntRange(min=0), default=1, help="Latest per reason.")
@click.pass_context
def deadletters(ctx: click.Context, hours: float | None, examples: int) -> None:
    """What ingest refused: count by reason code, with the latest examples of each."""
    from datetime import UTC, timedelta

    from gridwatch import db as database
    from ingest.dead_letters import summarize

    since = datetime.now(UTC) - timedelta(hours=hours) if hours else None
    with database.connection(database_url_of(settings_of(ctx))) as conn:
        summary = summarize(conn, since, examples)
    if not summary:
        click.echo("no dead letters" + (f" in the last {hours:g} h" if hours else ""))
        return
    for entry in summary:
        click.echo(f"{entry.count:>8}  {entry.reason_code}")
        for ex in entry.latest:
            click.echo(f"          {ex.received_at:%Y-%m-%d %H:%M:%S%z}  {ex.topic}")
            click.echo(f"            {ex.reason}")
            click.echo(f"            {ex.payload_size} bytes, starting {ex.payload_head!r}")


@main.command()
@click.pass_context
def dashboard(ctx: click.Context) -> None:
    """Serve the Dash big screen on http://HOST:PORT/."""
    from dashboard.app import run_dashboard
    from dispatch.deadlines import DeadlineFileError
    from dispatch.routing import RoutingFileError

    settings = settings_of(ctx)
    database_url_of(settings)
    try:
        run_dashboard(settings)
    except (DeadlineFileError, RoutingFileError) as err:  # the API's reports use both
        raise click.ClickException(str(err)) from None
