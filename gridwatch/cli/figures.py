"""`gridwatch report` and `gridwatch eval`: closed-loop figures and detector evaluation."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from gridwatch.cli import database_url_of, main, settings_of


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

    settings = settings_of(ctx)
    with database.connection(database_url_of(settings)) as conn:
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
