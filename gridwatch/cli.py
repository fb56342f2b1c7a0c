"""The `gridwatch` command: one way to run every part of the system."""

from __future__ import annotations

import json
import logging
import sys
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
@click.option("--port", type=int, default=None, help="Dashboard port (default 8050).")
@click.pass_context
def up(ctx: click.Context, no_simulators: bool, port: int | None) -> None:
    """Run the whole system: broker, database, ingest, dispatch, simulators and dashboard."""
    from gridwatch.up import run_everything

    settings = _settings(ctx)
    if port:
        settings = settings.model_copy(update={"dashboard_port": port})
    sys.exit(run_everything(settings, simulators=not no_simulators))


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
    """Open and assign work orders for new alerts."""
    from dispatch.service import run_dispatch

    settings = _settings(ctx)
    _database_url(settings)
    run_dispatch(settings)


@main.command()
@click.pass_context
def dashboard(ctx: click.Context) -> None:
    """Serve the Dash big screen on http://HOST:PORT/."""
    from dashboard.app import run_dashboard

    settings = _settings(ctx)
    _database_url(settings)
    run_dashboard(settings)


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
def simulate_dataset(out_dir: Path, detector: str, clips: int, seed: int, clip_format: str) -> None:
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


@main.command("eval")
@click.argument("dataset_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
def evaluate(dataset_dir: Path) -> None:
    """Measure the detectors on a labelled dataset (manifest.jsonl); last line is JSON."""
    from detectors.evaluate import evaluate_dataset

    result = evaluate_dataset(dataset_dir, progress=lambda line: click.echo(line, err=True))
    click.echo(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
