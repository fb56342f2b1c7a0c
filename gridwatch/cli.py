"""The `gridwatch` command: one way to run every part of the system."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime
from pathlib import Path

import click

from gridwatch.settings import Settings, load_settings


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]  # type: ignore[no-any-return]


def _database_url(settings: Settings) -> str:
    if not settings.database_url:
        raise click.UsageError(
            "GRIDWATCH_DATABASE_URL is not set. Set it, or run `gridwatch up`, which starts "
            "an embedded PostgreSQL when none is configured."
        )
    return settings.database_url


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """GridWatch: monitoring and closed-loop dispatch for grid-based community governance."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-5s %(name)s: %(message)s",
    )
    ctx.ensure_object(dict)
    ctx.obj["settings"] = load_settings()


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

    settings = _settings(ctx)
    if port:
        settings = settings.model_copy(update={"dashboard_port": port})
    sys.exit(run_everything(settings, simulators=not no_simulators, tester=tester))


@main.command()
@click.pass_context
def ingest(ctx: click.Context) -> None:
    """Consume device messages from MQTT: store, detect, raise alerts."""
    from ingest.service import run_ingest

    settings = _settings(ctx)
    _database_url(settings)
    run_ingest(settings)


@main.command()
@click.pass_context
def dispatch(ctx: click.Context) -> None:
    """Open and assign work orders for new alerts; escalate, notify."""
    from dispatch.deadlines import DeadlineFileError
    from dispatch.routing import RoutingFileError
    from dispatch.service import run_dispatch

    settings = _settings(ctx)
    _database_url(settings)
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

    settings = _settings(ctx)
    try:
        policy = RetentionPolicy.from_settings(settings)
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    if not once:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        _database_url(settings)
        try:
            run_maintenance(settings, stop)
        except KeyboardInterrupt:
            pass
        return
    with database.connection(_database_url(settings)) as conn:
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
    with database.connection(_database_url(_settings(ctx))) as conn:
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

    settings = _settings(ctx)
    _database_url(settings)
    try:
        run_dashboard(settings)
    except (DeadlineFileError, RoutingFileError) as err:  # the API's reports use both
        raise click.ClickException(str(err)) from None


@main.group()
def simulate() -> None:
    """Simulated devices: cameras and sensors over MQTT."""


@simulate.command("devices")
@click.option("--speed", type=float, default=1.0, help="Scene seconds per wall second.")
@click.option("--duration", type=float, default=None, help="Stop after this many wall seconds.")
@click.option("--seed", type=int, default=1, help="Random seed for the scenes.")
@click.option("--max-fps", type=float, default=None, help="Cap every camera's frame rate.")
@click.pass_context
def simulate_devices(
    ctx: click.Context, speed: float, duration: float | None, seed: int, max_fps: float | None
) -> None:
    """Run every simulated device of the site continuously, with incidents every few minutes."""
    from simulators.runner import run_site_simulation

    settings = _settings(ctx)
    run_site_simulation(settings, speed=speed, duration_s=duration, seed=seed, max_fps=max_fps)


@simulate.command("run")
@click.argument("scenario_file")
@click.option("--check", is_flag=True, help="Judge the expectations; exit 1 unless all pass.")
@click.option("--speed", type=click.FloatRange(min=0.01), default=None, help="Scene x wall.")
@click.pass_context
def simulate_run(ctx: click.Context, scenario_file: str, check: bool, speed: float | None) -> None:
    """Play a scenario (a file, or a name in simulators/scenarios/) against a running system."""
    import time

    from gridwatch.site import SiteError, load_site
    from simulators.player import Progress, ScenarioPlayer
    from simulators.report import progress_line, report_lines
    from simulators.scenario import ScenarioError, find_scenario, load_scenario

    settings = _settings(ctx)
    try:
        site = load_site(settings.site_dir)
        scenario = load_scenario(find_scenario(scenario_file), site)
    except (ScenarioError, SiteError) as err:
        raise click.ClickException(str(err)) from None
    player = ScenarioPlayer(settings, site, scenario, speed=speed)
    click.echo(f"playing {scenario.name!r} at {player.speed:g}x", err=True)
    live = sys.stderr.isatty()
    shown = [0.0]

    def show(progress: Progress) -> None:
        # On a terminal the line redraws in place; in a log, a line every 5 s (and the last).
        done = progress.scene_t >= (progress.duration_s or float("inf"))
        if not live and not done and time.monotonic() - shown[0] < 5.0:
            return
        shown[0] = time.monotonic()
        line = progress_line(progress)
        click.echo(("\r" + line) if live else line, err=True, nl=not live)

    try:
        report = player.run(progress=show)
    except RuntimeError as err:
        raise click.ClickException(str(err)) from None
    if live:
        click.echo("", err=True)
    if not check:
        click.echo(f"played {scenario.name!r}: {report.frames} frames, {report.readings} readings")
        return
    for line in report_lines(report):
        click.echo(line)
    sys.exit(0 if report.passed else 1)


@simulate.command("serve")
@click.option("--speed", type=click.FloatRange(min=0.01), default=10.0, help="Scene x wall.")
@click.pass_context
def simulate_serve(ctx: click.Context, speed: float) -> None:
    """Simulate for the tester console: incidents and scenarios on request over MQTT."""
    import signal
    import threading

    from gridwatch.site import SiteError, load_site
    from simulators.control import SimulationControl

    settings = _settings(ctx)
    try:
        site = load_site(settings.site_dir)
    except SiteError as err:
        raise click.ClickException(str(err)) from None
    stop = threading.Event()
    # `gridwatch up` stops its parts with SIGTERM: leave no stale state behind.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        SimulationControl(settings, site, speed=speed).serve(stop)
    except KeyboardInterrupt:
        stop.set()


@simulate.command("load")
@click.option("--devices", type=click.IntRange(min=0), default=100, help="Sensors sending.")
@click.option("--rate", type=float, default=10.0, help="Telemetry messages a second per sensor.")
@click.option("--cameras", type=click.IntRange(min=0), default=0, help="Cameras sending frames.")
@click.option("--fps", type=click.FloatRange(min=0.1), default=5.0, help="Frames a second each.")
@click.option("--duration", type=click.FloatRange(min=1), default=30.0, help="Wall seconds.")
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="Processes (default: CPUs)."
)
@click.pass_context
def simulate_load(
    ctx: click.Context,
    devices: int,
    rate: float,
    cameras: int,
    fps: float,
    duration: float,
    workers: int | None,
) -> None:
    """Offer a fixed load of telemetry and frames; the last line is the measured JSON."""
    import os

    from gridwatch.site import SiteError, load_site
    from simulators.load import LoadError, plan_load, run_load
    from simulators.report import load_line

    settings = _settings(ctx)
    try:
        site = load_site(settings.site_dir)
        plan = plan_load(
            site,
            devices=devices,
            rate=rate,
            cameras=cameras,
            fps=fps,
            duration_s=duration,
            workers=workers or os.cpu_count() or 1,
        )
    except (LoadError, SiteError) as err:
        raise click.ClickException(str(err)) from None
    click.echo(
        f"offering {plan.offered_per_s:,.0f} telemetry msgs/s from {len(plan.sensors)} sensors"
        f" and {len(plan.cameras)} cameras at {fps:g} fps for {duration:g} s"
        f" ({plan.workers} processes)",
        err=True,
    )
    live = sys.stderr.isatty()
    result = run_load(
        settings,
        plan,
        progress=lambda p: click.echo(("\r" if live else "") + load_line(p), err=True, nl=not live),
    )
    if live:
        click.echo("", err=True)
    click.echo(json.dumps(result))


@simulate.command("dataset")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--detector",
    required=True,
    type=click.Choice(["fire_lane", "elevator_ebike", "falling_object", "charging_shed"]),
    help="Which detector the clips are labelled for.",
)
@click.option("--clips", type=click.IntRange(min=1), default=20, help="How many clips in all.")
@click.option("--seed", type=int, default=1, help="Random seed; the same seed, the same bytes.")
@click.option(
    "--format",
    "clip_format",
    type=click.Choice(["frames", "video"]),
    default="frames",
    help="A folder of JPEG frames per clip, or one Motion-JPEG AVI per clip.",
)
@click.option(
    "--workers", type=click.IntRange(min=1), default=1, help="Processes filming clips at once."
)
def simulate_dataset(
    out_dir: Path, detector: str, clips: int, seed: int, clip_format: str, workers: int
) -> None:
    """Write a labelled dataset of synthetic clips (manifest.jsonl) for `gridwatch eval`."""
    from simulators.dataset import write_dataset

    try:
        summary = write_dataset(
            out_dir,
            detector,
            clips,
            seed,
            progress=lambda line: click.echo(line, err=True),
            clip_format=clip_format,
            workers=workers,
        )
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    click.echo(json.dumps(summary, ensure_ascii=False))


@main.group()
def db() -> None:
    """Database schema."""


@db.command("migrate")
@click.pass_context
def db_migrate(ctx: click.Context) -> None:
    """Apply the migrations in sql/ that are not applied yet."""
    from gridwatch import db as database

    applied = database.migrate(_database_url(_settings(ctx)))
    click.echo(
        f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else "")
    )


@main.group()
def site() -> None:
    """The site model: hierarchy, grids, buildings, devices, people."""


@site.command("load")
@click.argument(
    "site_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=False
)
@click.pass_context
def site_load(ctx: click.Context, site_dir: Path | None) -> None:
    """Validate a site folder and store it in the database (safe to repeat)."""
    from gridwatch import db as database
    from gridwatch.site import SiteError, load_site, store_site

    settings = _settings(ctx)
    try:
        model = load_site(site_dir or settings.site_dir)
    except SiteError as err:
        raise click.ClickException(str(err)) from None
    with database.connection(_database_url(settings)) as conn:
        counts = store_site(conn, model)
    click.echo("loaded " + ", ".join(f"{n} {what}" for what, n in counts.items()))


@site.command("generate")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", type=int, default=7)
@click.option("--grids", type=int, default=45, help="How many grids in all.")
@click.option("--devices", type=int, default=180, help="How many devices in all, roughly.")
def site_generate(out_dir: Path, seed: int, grids: int, devices: int) -> None:
    """Write a fictional district in the site-folder format (the demo site is one)."""
    from gridwatch.sitegen import generate_site

    summary = generate_site(out_dir, seed=seed, grids=grids, devices=devices)
    click.echo(json.dumps(summary, ensure_ascii=False))


@site.command("mqtt-acl")
@click.argument(
    "site_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=False
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the `passwd` and `acl` files (created if missing).",
)
@click.option(
    "--secret-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File holding the site secret (default: the GRIDWATCH_MQTT_SECRET variable).",
)
@click.option("--integrator", is_flag=True, help="Add the read-only `integrator` user (alerts).")
@click.option(
    "--print-passwords",
    is_flag=True,
    help="Print `username<TAB>password` for every account on stdout, for provisioning.",
)
@click.pass_context
def site_mqtt_acl(
    ctx: click.Context,
    site_dir: Path | None,
    out_dir: Path,
    secret_file: Path | None,
    integrator: bool,
    print_passwords: bool,
) -> None:
    """Write Mosquitto's password and ACL files for the site: one account per device."""
    from gridwatch.broker import (
        AccountError,
        SecretError,
        derive_password,
        load_secret,
        write_broker_files,
    )
    from gridwatch.site import SiteError, load_site

    settings = _settings(ctx)
    try:
        secret = load_secret(secret_file)
        model = load_site(site_dir or settings.site_dir)
        files = write_broker_files(model, secret, out_dir, integrator=integrator)
    except (SecretError, SiteError, AccountError) as err:
        raise click.ClickException(str(err)) from None
    users = ", ".join(a.username for a in files.accounts if a.role != "device")
    click.echo(
        f"wrote {files.password_file} and {files.acl_file} for site {model.id}: "
        f"{len(model.devices)} devices and {users}",
        err=True,
    )
    if model.id != settings.site_id:
        click.echo(
            f"warning: GRIDWATCH_SITE_ID is {settings.site_id!r} but the site model's id is "
            f"{model.id!r}; GridWatch would subscribe to topics these files give it no access to",
            err=True,
        )
    if print_passwords:
        for account in files.accounts:
            password = derive_password(secret, model.id, account.username)
            click.echo(f"{account.username}\t{password}")
    else:
        click.echo(
            "passwords are derived from the secret and stored nowhere; "
            "--print-passwords lists them for provisioning",
            err=True,
        )


@site.command("qr")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--base-url",
    default="http://127.0.0.1:8050",
    show_default=True,
    help="Where residents reach the dashboard's server; the codes open BASE/report/GRID.",
)
@click.option("--site-dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.pass_context
def site_qr(ctx: click.Context, out_dir: Path, base_url: str, site_dir: Path | None) -> None:
    """Write a printable report-form QR code PNG per grid (扫码报事) into OUT_DIR."""
    from dispatch.api.report_form import qr_png, report_url
    from gridwatch.site import SiteError, load_site

    try:
        model = load_site(site_dir or _settings(ctx).site_dir)
    except SiteError as err:
        raise click.ClickException(str(err)) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    for grid in model.grids:
        (out_dir / f"{grid.id}.png").write_bytes(qr_png(report_url(base_url, grid.id)))
    click.echo(f"wrote {len(model.grids)} QR codes to {out_dir}")


@main.group()
def auth() -> None:
    """Logins and API tokens for the REST and Open311 API."""


@auth.command("demo-logins")
@click.pass_context
def auth_demo_logins(ctx: click.Context) -> None:
    """Give every stored person the demo login and token (docs/API.md); demo sites only."""
    from dispatch.api.accounts import DEMO_PASSWORD, DEMO_TOKEN_PREFIX, ensure_demo_logins
    from gridwatch import db as database

    with database.connection(_database_url(_settings(ctx))) as conn:
        count = ensure_demo_logins(conn)
        conn.commit()
    click.echo(
        f"{count} people: login = person id, password {DEMO_PASSWORD!r},"
        f" token {DEMO_TOKEN_PREFIX}<person id>"
    )


@auth.command("password")
@click.argument("person_id")
@click.option("--login", help="Login name (default: the person id).")
@click.password_option(help="The new password (asked for when not given).")
@click.pass_context
def auth_password(ctx: click.Context, person_id: str, login: str | None, password: str) -> None:
    """Set a person's login and password."""
    from dispatch.api.accounts import set_password
    from gridwatch import db as database

    with database.connection(_database_url(_settings(ctx))) as conn:
        try:
            set_password(conn, person_id, password, login)
        except (LookupError, ValueError) as err:
            raise click.ClickException(str(err)) from None
        conn.commit()
    click.echo(f"{person_id} can log in as {login or person_id}")


@auth.command("token")
@click.argument("person_id", required=False)
@click.option("--label", default="cli", show_default=True, help="What the token is for.")
@click.pass_context
def auth_token(ctx: click.Context, person_id: str | None, label: str) -> None:
    """Print a new API token for PERSON_ID (none: an application key for Open311 reports)."""
    from dispatch.api.accounts import issue_token
    from gridwatch import db as database

    with database.connection(_database_url(_settings(ctx))) as conn:
        try:
            token = issue_token(conn, person_id, label)
        except LookupError as err:
            raise click.ClickException(str(err)) from None
        conn.commit()
    click.echo(token)


@main.group()
def channels() -> None:
    """Notification channels (apprise URLs) of people and communities."""


@channels.command("add")
@click.argument("url")
@click.option("--person", "person_id", help="The person the channel reaches.")
@click.option("--community", "community_id", help="The community (its group chat, say).")
@click.option("--label", help="What the channel is, for people reading the list.")
@click.pass_context
def channels_add(
    ctx: click.Context,
    url: str,
    person_id: str | None,
    community_id: str | None,
    label: str | None,
) -> None:
    """Add URL as a channel of a person or a community (checked before it is stored)."""
    from dispatch.notifications import add_channel
    from gridwatch import db as database

    with database.connection(_database_url(_settings(ctx))) as conn:
        try:
            channel_id = add_channel(
                conn, url, person_id=person_id, community_id=community_id, label=label
            )
        except (LookupError, ValueError) as err:
            raise click.ClickException(str(err)) from None
        conn.commit()
    click.echo(f"channel {channel_id} added for {person_id or community_id}")


@channels.command("list")
@click.option("--person", "person_id", help="Only this person's (with the site model's).")
@click.option("--community", "community_id", help="Only this community's.")
@click.pass_context
def channels_list(ctx: click.Context, person_id: str | None, community_id: str | None) -> None:
    """List channels, secrets masked."""
    from dispatch.notifications import list_channels
    from gridwatch import db as database

    with database.connection(_database_url(_settings(ctx))) as conn:
        rows = list_channels(conn, person_id=person_id, community_id=community_id)
    if not rows:
        click.echo("no channels")
    for row in rows:
        channel_id = "-" if row["id"] is None else str(row["id"])
        owner = row["person_id"] or f"community:{row['community_id']}"
        extra = f"  ({row['label']})" if row["label"] else ""
        extra += "  [site model]" if row["source"] == "site model" else ""
        click.echo(f"{channel_id:>6}  {owner}  {row['channel']}{extra}")


@channels.command("remove")
@click.argument("channel_id", type=int)
@click.pass_context
def channels_remove(ctx: click.Context, channel_id: int) -> None:
    """Remove a stored channel by its id (see `gridwatch channels list`)."""
    from dispatch.notifications import remove_channel
    from gridwatch import db as database

    with database.connection(_database_url(_settings(ctx))) as conn:
        if not remove_channel(conn, channel_id):
            raise click.ClickException(f"there is no stored channel {channel_id}")
        conn.commit()
    click.echo(f"channel {channel_id} removed")


@main.command("report")
@click.option(
    "--from", "first", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day."
)
@click.option(
    "--to", "last", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day, included."
)
@click.option(
    "--by",
    type=click.Choice(["grid", "community", "street", "worker"]),
    default="community",
    show_default=True,
    help="What each row of the figures is.",
)
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path))
@click.pass_context
def report(ctx: click.Context, first: datetime, last: datetime, by: str, out_dir: Path) -> None:
    """Work-order figures for a period (local days): a CSV and a printable HTML report."""
    from datetime import UTC

    from dispatch.figures import GroupBy
    from dispatch.figures_report import Period, make_report
    from dispatch.service import site_timezone_of
    from gridwatch import db as database

    settings = _settings(ctx)
    with database.connection(_database_url(settings)) as conn:
        tz = site_timezone_of(conn, settings.site_id)
        try:
            period = Period(first.date(), last.date(), tz)
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="--to") from None
        paths = make_report(conn, period, GroupBy(by), out_dir, datetime.now(UTC))
    for path in paths:
        click.echo(path)


@main.command("eval")
@click.argument("dataset_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--workers", type=click.IntRange(min=1), default=1, help="Processes judging clips at once."
)
def evaluate(dataset_dir: Path, workers: int) -> None:
    """Measure the detectors on a labelled dataset (manifest.jsonl); last line is JSON."""
    from detectors.evaluate import ManifestError, evaluate_dataset

    try:
        result = evaluate_dataset(
            dataset_dir, progress=lambda line: click.echo(line, err=True), workers=workers
        )
    except ManifestError as err:
        raise click.ClickException(str(err)) from None
    click.echo(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
