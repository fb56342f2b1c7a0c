"""Detector evaluation on a labelled dataset: the contract behind `gridwatch eval DATASET_DIR`.

`DATASET_DIR/manifest.jsonl` holds one clip per line::

    {"clip": "relative/path", "fps": 10, "detector": "fire_lane", "positive": true,
     "zones": {"lane": [[x, y], ...]}, "events": [{"t_start": s, "t_end": s}]}

A clip is a video file, a folder of image frames (taken in name order, numbers compared as
numbers) or a single image (fire lane and elevator only: a fall or a flame's flicker cannot
be seen in one picture, so such clips are skipped with that reason). Frame times are
index / fps. "zones" (normalised 0..1) and "events" are optional; events are read and
checked but clips are judged as a whole: a clip is predicted positive when the detector
raised at least one (non-cleared) detection.

Two optional keys go beyond the contract:
- "config": detector settings for this clip, e.g. {"dwell_seconds": 30} for short clips.
- "background": a relative path to an image of the empty scene. A single image is judged on
  presence (dwell time 0), and presence needs something to compare with: without a
  background the image is skipped, with the reason given.

For fire_lane the "lane" zone is used; if there is no zone of that name, the only zone given,
or else the whole frame. Detectors that do not exist yet are skipped with a reason, never an
error; a malformed manifest line is an error naming the line.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from detectors.base import Detection, Detector
from detectors.registry import DETECTOR_DEVICE_KINDS, create_detector
from detectors.zones import parse_zones

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
# The setting that holds how long a condition must last, per detector that can judge a single
# image (set to 0 there). A fall and a flame's flicker need frames: single images are skipped.
SINGLE_IMAGE_DWELL = {"fire_lane": "dwell_seconds", "elevator_ebike": "min_seconds"}
WHOLE_FRAME = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]


class ManifestError(ValueError):
    """A manifest line that cannot be used; the message names the file and line."""


class ClipSkipped(Exception):
    """A clip that cannot be judged (unreadable, or not judgeable by this detector)."""


@dataclass(frozen=True)
class ClipEntry:
    line: int
    clip: str
    path: Path
    detector: str
    positive: bool
    fps: float | None = None
    zones: Mapping[str, Any] = field(default_factory=dict)
    events: tuple[tuple[float, float], ...] = ()
    background: Path | None = None
    config: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class _Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    frames: int = 0
    seconds: float = 0.0
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def add(self, positive: bool, predicted: bool) -> None:
        if positive and predicted:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif positive:
            self.fn += 1
        else:
            self.tn += 1

    def summary(self) -> dict[str, Any]:
        clips = self.tp + self.fp + self.fn + self.tn
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else None
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else None
        f1 = None
        if precision is not None and recall is not None:
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {
            "clips": clips,
            "precision": _round(precision),
            "recall": _round(recall),
            "f1": _round(f1),
            "fps": _round(self.frames / self.seconds if self.seconds > 0 else None, 1),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "skipped": len(self.skipped),
            "skip_reasons": self.skipped,
        }


def evaluate_dataset(
    dataset_dir: Path, progress: Callable[[str], None] = lambda s: None, workers: int = 1
) -> dict[str, Any]:
    """Run each clip of the dataset through its detector; per-detector precision, recall, F1
    and frames/s (detector time only, not decoding). Precision, recall or F1 is None where it
    is undefined (no positive predictions, or no positive clips). `workers` processes judge
    clips side by side (each clip has its own detector, so the verdicts do not change)."""
    dataset_dir = Path(dataset_dir)
    entries = read_manifest(dataset_dir)
    progress(f"{len(entries)} clips in {dataset_dir / 'manifest.jsonl'}")
    tallies: dict[str, _Tally] = {}
    parallel = None
    if workers > 1 and len(entries) > 1:
        parallel = get_context("spawn").Pool(min(workers, len(entries)))
    with parallel or nullcontext():
        judged = parallel.imap(_judge, entries) if parallel else map(_judge, entries)
        for number, (entry, outcome) in enumerate(zip(entries, judged, strict=True), 1):
            tally = tallies.setdefault(entry.detector, _Tally())
            _count(tally, entry, outcome, f"[{number}/{len(entries)}] {entry.clip}", progress)
    result = {"eval": str(dataset_dir), "detectors": {k: t.summary() for k, t in tallies.items()}}
    for name, summary in result["detectors"].items():
        progress(
            f"{name}: {summary['clips']} clips, precision {summary['precision']}, "
            f"recall {summary['recall']}, f1 {summary['f1']}, {summary['fps']} frames/s, "
            f"{summary['skipped']} skipped"
        )
    return result


def _judge(entry: ClipEntry) -> tuple[bool, int, float] | ClipSkipped:
    """A clip's verdict (predicted, frames, detector seconds), or why it was skipped."""
    try:
        return _run_clip(entry)
    except ClipSkipped as skip:
        return skip


def _count(
    tally: _Tally,
    entry: ClipEntry,
    outcome: tuple[bool, int, float] | ClipSkipped,
    prefix: str,
    progress: Callable[[str], None],
) -> None:
    if isinstance(outcome, ClipSkipped):
        tally.skipped.append({"clip": entry.clip, "line": entry.line, "reason": str(outcome)})
        progress(f"{prefix}: skipped, {outcome}")
        return
    predicted, frames, seconds = outcome
    tally.add(entry.positive, predicted)
    tally.frames += frames
    tally.seconds += seconds
    verdict = "ok" if predicted == entry.positive else "WRONG"
    progress(
        f"{prefix}: {entry.detector} "
        f"positive={entry.positive} predicted={predicted} {verdict} ({frames} frames)"
    )


def read_manifest(dataset_dir: Path) -> list[ClipEntry]:
    """Parse and check `manifest.jsonl`; raise ManifestError naming the first bad line."""
    manifest = Path(dataset_dir) / "manifest.jsonl"
    try:
        text = manifest.read_text(encoding="utf-8")
    except OSError as err:
        raise ManifestError(f"cannot read {manifest}: {err.strerror or err}") from err
    entries = []
    for number, raw in enumerate(text.splitlines(), 1):
        if raw.strip():
            try:
                entries.append(_parse_line(json.loads(raw), number, Path(dataset_dir)))
            except (json.JSONDecodeError, ValueError) as err:
                raise ManifestError(f"{manifest}, line {number}: {err}") from err
    return entries


def _parse_line(item: Any, line: int, root: Path) -> ClipEntry:
    if not isinstance(item, dict):
        raise ValueError(f"expected a JSON object, got {type(item).__name__}")
    for key, kind in (("clip", str), ("detector", str), ("positive", bool)):
        if not isinstance(item.get(key), kind):
            raise ValueError(f"'{key}' is required and must be a {kind.__name__}")
    if item["detector"] not in DETECTOR_DEVICE_KINDS:
        known = ", ".join(DETECTOR_DEVICE_KINDS)
        raise ValueError(f"unknown detector {item['detector']!r} (known: {known})")
    fps = item.get("fps")
    if fps is not None and (
        not isinstance(fps, (int, float)) or isinstance(fps, bool) or not 0 < fps < 10_000
    ):
        raise ValueError(f"'fps' must be a positive number, got {fps!r}")
    zones = item.get("zones") or {}
    parse_zones(zones, field_name="zones")
    events = []
    for event in item.get("events") or []:
        start, end = (
            event.get(k) if isinstance(event, dict) else None for k in ("t_start", "t_end")
        )
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (start, end)):
            raise ValueError(f"each event needs numeric 't_start' and 't_end', got {event!r}")
        events.append((float(start), float(end)))  # type: ignore[arg-type]
    config = item.get("config") or {}
    if not isinstance(config, dict):
        raise ValueError(f"'config' must be an object of detector settings, got {config!r}")
    background = item.get("background")
    if background is not None and not isinstance(background, str):
        raise ValueError(f"'background' must be a relative path, got {background!r}")
    return ClipEntry(
        line=line,
        clip=item["clip"],
        path=root / item["clip"],
        detector=item["detector"],
        positive=item["positive"],
        fps=None if fps is None else float(fps),
        zones=zones,
        events=tuple(events),
        background=None if background is None else root / background,
        config=config,
    )


def _run_clip(entry: ClipEntry) -> tuple[bool, int, float]:
    """(predicted positive, frames processed, seconds spent in the detector)."""
    single = entry.path.is_file() and entry.path.suffix.lower() in IMAGE_SUFFIXES
    config = _detector_config(entry, single)
    try:
        detector = create_detector(DETECTOR_DEVICE_KINDS[entry.detector], config)
    except ValueError as err:
        raise ManifestError(f"line {entry.line}: {err}") from err
    if detector is None:
        raise ClipSkipped(f"detector '{entry.detector}' is not implemented yet")
    if single and entry.detector not in SINGLE_IMAGE_DWELL:
        raise ClipSkipped(
            f"a single image cannot be judged by {entry.detector} (it needs the motion "
            "between frames); give a video or a folder of frames"
        )
    if single and "background" not in config:
        raise ClipSkipped(
            "a single image has nothing to compare with; add a 'background' image of the "
            "empty scene to this manifest line"
        )
    predicted, frames, spent = False, 0, 0.0
    for ts, frame in _frames(entry, single):
        started = time.perf_counter()
        detections = _update(detector, frame, ts)
        spent += time.perf_counter() - started
        frames += 1
        predicted = predicted or any(not d.cleared for d in detections)
    if frames == 0:
        raise ClipSkipped(f"no frames could be read from {entry.clip}")
    return predicted, frames, spent


def _update(detector: Detector, frame: np.ndarray, ts: float) -> list[Detection]:
    try:
        return detector.update(frame, ts)
    except ValueError as err:  # e.g. a background image that does not fit the frames
        raise ClipSkipped(f"the detector refused the frame at {ts:.2f} s: {err}") from err


def _detector_config(entry: ClipEntry, single: bool) -> dict[str, Any]:
    config: dict[str, Any] = dict(entry.config)
    if entry.detector == "fire_lane":
        zones = dict(entry.zones)
        lane = zones.get("lane") or (next(iter(zones.values())) if len(zones) == 1 else WHOLE_FRAME)
        config["zones"] = {"lane": lane}
    elif entry.zones:
        config.setdefault("zones", dict(entry.zones))
    if single and entry.detector in SINGLE_IMAGE_DWELL:
        config[SINGLE_IMAGE_DWELL[entry.detector]] = 0  # a single image is judged on presence
    if entry.background is not None:
        image = cv2.imread(str(entry.background), cv2.IMREAD_COLOR)
        if image is None:
            raise ClipSkipped(f"cannot read background image {entry.background}")
        config["background"] = image
    return config


def _frames(entry: ClipEntry, single: bool) -> Iterator[tuple[float, np.ndarray]]:
    """(frame time, BGR frame) pairs of a clip; frame time = index / fps."""
    path = entry.path
    if not path.exists():
        raise ClipSkipped(f"{entry.clip} does not exist")
    if single:
        yield 0.0, _read_image(path)
    elif path.is_dir():
        if entry.fps is None:
            raise ManifestError(f"line {entry.line}: a folder of frames needs 'fps'")
        names = sorted(
            (p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
            key=lambda p: [
                int(part) if part.isdigit() else part for part in re.split(r"(\d+)", p.name)
            ],
        )
        for index, name in enumerate(names):
            yield index / entry.fps, _read_image(name)
    else:
        yield from _video_frames(entry)


def _video_frames(entry: ClipEntry) -> Iterator[tuple[float, np.ndarray]]:
    capture = cv2.VideoCapture(str(entry.path))
    try:
        if not capture.isOpened():
            raise ClipSkipped(f"cannot open {entry.clip} as a video")
        fps = entry.fps or capture.get(cv2.CAP_PROP_FPS)
        if not fps or not math.isfinite(fps) or fps <= 0:
            raise ManifestError(f"line {entry.line}: the video has no frame rate; give 'fps'")
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            yield index / fps, frame
            index += 1
    finally:
        capture.release()


def _read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ClipSkipped(f"cannot read image {path.name}")
    return image


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)
