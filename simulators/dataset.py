"""Labelled datasets for detector evaluation, written from the synthetic cameras.

`write_dataset` films short clips of one camera kind and writes them in the evaluation format
(`manifest.jsonl`, one clip per line; see "Detector evaluation" in the design), so
`gridwatch eval OUT` can measure a detector on them. The layout::

    OUT/manifest.jsonl
    OUT/clips/fire_lane_0000_parked/00000.jpg, 00001.jpg, ...   (--format frames)
    OUT/clips/fire_lane_0001_traffic.avi                          (--format video)

Half the clips are positives, half negatives full of the distractions that look most like
the incident. Each clip has its own scene seed (lighting, sensor noise, camera pose and the
look of the place), size where the renderer allows, and JPEG quality. Event times come from
the renderer's ground truth. The same seed writes the same bytes.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from simulators.dataset_clips import SCRIPTS, ClipPlan
from simulators.scenes.fire_lane import encode_jpeg

FORMATS = ("frames", "video")
JPEG_QUALITY = (60, 95)
# Motion-JPEG in AVI is written by OpenCV itself (no codec library involved), so it opens
# everywhere OpenCV does and the same frames always give the same bytes.
VIDEO_SUFFIX, VIDEO_FOURCC = ".avi", "MJPG"


def write_dataset(
    out_dir: Path,
    detector: str,
    clips: int,
    seed: int,
    progress: Callable[[str], None] = lambda line: None,
    *,
    clip_format: str = "frames",
    workers: int = 1,
) -> dict[str, Any]:
    """Write `clips` clips for `detector` and their manifest into `out_dir`; a summary back.

    `clip_format` is "frames" (a folder of JPEG frames per clip) or "video" (one Motion-JPEG
    AVI per clip). `out_dir` must be empty or not exist yet, so no stale clip is left over.
    `workers` processes film clips side by side; the bytes written do not depend on it.
    """
    if detector not in SCRIPTS:
        raise ValueError(f"unknown detector {detector!r} (known: {', '.join(SCRIPTS)})")
    if clip_format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {clip_format!r}")
    if clips < 1:
        raise ValueError(f"clips must be at least 1, got {clips}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ValueError(f"{out_dir} is not empty; give a new or empty folder for the dataset")
    (out_dir / "clips").mkdir(parents=True, exist_ok=True)

    lines, frames_total, started = [], 0, time.perf_counter()
    jobs = [(out_dir, detector, clips, seed, index, clip_format) for index in range(clips)]
    parallel = get_context("spawn").Pool(min(workers, clips)) if workers > 1 else None
    with parallel or nullcontext():
        # imap keeps the clips in order, so the manifest does not depend on `workers`.
        filmed = parallel.imap(film_clip, jobs) if parallel else map(film_clip, jobs)
        for index, (line, count, report) in enumerate(filmed):
            frames_total += count
            lines.append(line)
            progress(f"[{index + 1}/{clips}] {report}")
    manifest = out_dir / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return {
        "dataset": str(out_dir),
        "manifest": str(manifest),
        "detector": detector,
        "format": clip_format,
        "clips": clips,
        "positives": sum(line["positive"] for line in lines),
        "frames": frames_total,
        "seconds": round(time.perf_counter() - started, 1),
    }


def film_clip(job: tuple[Path, str, int, int, int, str]) -> tuple[dict[str, Any], int, str]:
    """Plan and film clip `index` of a dataset: its manifest line, frame count and a report."""
    out_dir, detector, clips, seed, index, clip_format = job
    clip_started = time.perf_counter()
    clip = plan_clip(detector, clips, seed, index)
    plan = clip.plan
    frames = _frames(plan)
    if clip_format == "video":
        relative = f"clips/{clip.name}{VIDEO_SUFFIX}"
        count = _write_video(out_dir / relative, frames, plan.fps, clip.jpeg_quality)
    else:
        relative = f"clips/{clip.name}"
        count = _write_frames(out_dir / relative, frames, clip.jpeg_quality)
    report = (
        f"{relative}: {'positive' if plan.positive else 'negative'} "
        f"({plan.scenario}), {count} frames at {plan.fps:g} fps, "
        f"JPEG quality {clip.jpeg_quality}, {time.perf_counter() - clip_started:.1f} s"
    )
    return manifest_line(clip, relative), count, report


@dataclass(frozen=True)
class PlannedClip:
    """A clip of the dataset before it is filmed: its name, script and JPEG quality."""

    name: str
    detector: str
    plan: ClipPlan
    jpeg_quality: int


def plan_dataset(detector: str, clips: int, seed: int) -> Iterator[PlannedClip]:
    """The clips `write_dataset` films, in order: positives at even places, negatives at odd
    ones (so any prefix is balanced too). One at a time, as a scene holds megabytes of
    pictures; cheap: scenes are set up, nothing is rendered."""
    for index in range(clips):
        yield plan_clip(detector, clips, seed, index)


def plan_clip(detector: str, clips: int, seed: int, index: int) -> PlannedClip:
    """Clip `index` of a dataset of `clips` clips, without setting up the others."""
    script = SCRIPTS.get(detector)
    if script is None:
        raise ValueError(f"unknown detector {detector!r} (known: {', '.join(SCRIPTS)})")
    if not 0 <= index < clips:
        raise ValueError(f"clip index {index} is outside 0..{clips - 1}")
    rng = _clip_generator(seed, detector, index)
    plan = script(rng, index % 2 == 0)
    quality = int(rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1))
    label = re.sub(r"[^a-z0-9]+", "_", plan.scenario.split(",")[0].lower()).strip("_")
    return PlannedClip(f"{detector}_{index:04d}_{label}", detector, plan, quality)


def _clip_generator(seed: int, detector: str, index: int) -> np.random.Generator:
    """Clip `index`'s own generator, independent of the others: clip k is the same clip
    whatever the number of clips, and datasets for different detectors do not share scenes.
    (The k-th child of SeedSequence([seed, kind]), as `spawn` would give it.)"""
    kind = list(SCRIPTS).index(detector)
    return np.random.default_rng(np.random.SeedSequence([seed, kind], spawn_key=(index,)))


def _frames(plan: ClipPlan) -> Iterator[np.ndarray]:
    for index in range(plan.frames):
        yield plan.scene.render(index / plan.fps)


def _write_frames(folder: Path, frames: Iterator[np.ndarray], quality: int) -> int:
    folder.mkdir(parents=True)
    count = 0
    for count, frame in enumerate(frames, 1):
        (folder / f"{count - 1:05d}.jpg").write_bytes(encode_jpeg(frame, quality))
    return count


def _write_video(path: Path, frames: Iterator[np.ndarray], fps: float, quality: int) -> int:
    writer: cv2.VideoWriter | None = None
    count = 0
    try:
        for frame in frames:
            if writer is None:
                height, width = frame.shape[:2]
                writer = cv2.VideoWriter(
                    str(path),
                    cv2.CAP_OPENCV_MJPEG,
                    cv2.VideoWriter_fourcc(*VIDEO_FOURCC),
                    fps,
                    (width, height),
                )
                if not writer.isOpened():
                    raise OSError(f"OpenCV cannot write {VIDEO_FOURCC} video to {path}")
                writer.set(cv2.VIDEOWRITER_PROP_QUALITY, quality)
            writer.write(frame)
            count += 1
    finally:
        if writer is not None:
            writer.release()
    return count


def manifest_line(clip: PlannedClip, relative: str) -> dict[str, Any]:
    """The manifest entry of a clip written at `relative` (a path inside the dataset)."""
    plan = clip.plan
    line: dict[str, Any] = {
        "clip": relative,
        "fps": int(plan.fps) if plan.fps.is_integer() else plan.fps,
        "detector": clip.detector,
        "positive": plan.positive,
        "events": [
            {"t_start": round(start, 3), "t_end": min(round(end, 3), plan.seconds)}
            for start, end in plan.events
        ],
    }
    if plan.zones:
        line["zones"] = plan.zones
    if plan.config:
        line["config"] = plan.config
    line["scenario"] = plan.scenario
    line["jpeg_quality"] = clip.jpeg_quality
    return line
