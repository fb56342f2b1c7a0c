"""`gridwatch db` and `gridwatch site`: the schema and the site model."""

from __future__ import annotations

import json
from pathlib import Path

import click

from gridwatch.cli import database_url_of, main, settings_of


@main.group()
def db() -> None:
    """Database schema."""


@db.command("migrate")
@click.pass_context
def db_migrate(ctx: click.Context) -> None:
    """Apply the migrations in sql/ that are not applied yet."""
    from gridwatch import db as database

    applied = database.migrate(database_url_of(settings_of(ctx)))
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

    settings = settings_of(ctx)
    try:
        model = load_site(site_dir or settings.site_dir)
    except SiteError as err:
        raise click.ClickException(str(err)) from None
    with database.connection(database_url_of(settings)) as conn:
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

    settings = settings_of(ctx)
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
        model = load_site(site_dir or settings_of(ctx).site_dir)
    except SiteError as err:
        raise click.ClickException(str(err)) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    for grid in model.grids:
        (out_dir / f"{grid.id}.png").write_bytes(qr_png(report_url(base_url, grid.id)))
    click.echo(f"wrote {len(model.grids)} QR codes to {out_dir}")
