"""What `gridwatch simulate run` prints: a progress line while playing, a verdict at the end."""

from __future__ import annotations

from simulators.player import Progress, Report

BAR_WIDTH = 24


def progress_line(progress: Progress) -> str:
    """`[#####......] 45%  scene 90/200 s  412 frames  20 readings  1 alert`."""
    figures = (
        f"{progress.frames} frames  {progress.readings} readings  "
        f"{progress.alerts} alert{'s' if progress.alerts != 1 else ''} raised"
    )
    if not progress.duration_s:
        return f"scene {progress.scene_t:.0f} s  {figures}"
    done = min(1.0, progress.scene_t / progress.duration_s)
    filled = round(done * BAR_WIDTH)
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    return (
        f"[{bar}] {done * 100:3.0f}%  scene {progress.scene_t:.0f}/{progress.duration_s:.0f} s  "
        + figures
    )


def report_lines(report: Report) -> list[str]:
    """One line per expectation, then the verdict."""
    lines = [outcome.line() for outcome in report.outcomes]
    failed = sum(not outcome.passed for outcome in report.outcomes)
    verdict = "all passed" if not failed else f"{failed} of {len(report.outcomes)} failed"
    lines.append(
        f"{report.scenario}: {verdict} ({report.frames} frames, {report.readings} readings "
        f"in {report.wall_s:.1f} s)"
    )
    return lines


def load_line(figures: dict[str, float]) -> str:
    """`[#####.....] 12/30 s  sent 29,870/s  acked 29,500/s  frames 200/s  errors 0`."""
    done = min(1.0, figures["elapsed_s"] / figures["duration_s"])
    filled = round(done * BAR_WIDTH)
    return (
        f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] "
        f"{figures['elapsed_s']:.0f}/{figures['duration_s']:.0f} s  "
        f"sent {figures['sent_per_s']:,.0f}/s  acked {figures['acked_per_s']:,.0f}/s  "
        f"frames {figures['frames_per_s']:,.0f}/s  "
        f"acked in all {figures['telemetry_acked'] + figures['frames_acked']:,.0f}  "
        f"errors {figures['errors']:.0f}"
    )
