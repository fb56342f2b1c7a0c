"""`gridwatch simulate`: simulated devices, scenarios, load and datasets."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from gridwatch.cli import main, settings_of


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

    settings = settings_of(ctx)
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

    settings = settings_of(ctx)
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

    settings = settings_of(ctx)
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

    settings = settings_of(ctx)
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
