"""The `gridwatch` command: one way to run every part of the system."""

from __future__ import annotations

import logging

import click

from gridwatch.settings import Settings, load_settings


def settings_of(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]  # type: ignore[no-any-return]


def database_url_of(settings: Settings) -> str:
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


# The subcommands register themselves on `main` when imported.
from gridwatch.cli import access, figures, processes, simulate, site  # noqa: E402, F401
