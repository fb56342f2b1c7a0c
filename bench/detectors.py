"""Detector throughput on 1280×720 JPEG frames: decode + all four detectors against decode
alone, and the latency from a frame's publish to its alert's (bench.frame_to_alert).

    python -m bench.detectors [--cameras 8] [--seconds 60] [--latency-seconds 60]

Frames come from the simulated cameras of the four kinds (scene time; 5 fps, 10 fps for the
facade cameras), are encoded once, then replayed through a process pool of one worker per
core; each worker owns whole cameras (as ingest does), so detector state stays with its
camera. The baseline decodes the same frames with the same pool, at full size. Decode + detect
decodes as ingest does: no larger than each detector's processing width (detectors/jpeg.py);
`decode_at_detector_size_fps` is that decoding alone. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from detectors.jpeg import decode_jpeg, frame_width_needed, reduction_for
from detectors.registry import DETECTOR_DEVICE_KINDS, create_detector
from gridwatch.sitegen.devices import facade_camera_view
from simulators.scenes import charging_shed, elevator, facade, fire_lane
from simulators.scenes.fire_lane import encode_jpeg

WIDTH, HEIGHT = 1280, 720
KINDS = tuple(DETECTOR_DEVICE_KINDS)  # fire_lane, elevator_ebike, falling_object, charging_shed
LANE = [[0.0, 0.46], [1.0, 0.45], [1.0, 0.86], [0.0, 0.87]]


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class BenchCamera:
    """One simulated camera: its detector (by kind and config), frame rate and scene."""

    kind: str  # detector name, as in DETECTOR_DEVICE_KINDS
    config: dict[str, Any]
    fps: float
    scene: Any

    @property
    def device_kind(self) -> str:
        return DETECTOR_DEVICE_KINDS[self.kind]

    def frames(self, seconds: float, quality: int = 85) -> list[tuple[float, bytes]]:
        return [
            (k / self.fps, encode_jpeg(self.scene.render(k / self.fps), quality))
            for k in range(int(seconds * self.fps))
        ]


def bench_camera(
    kind: str, index: int, seconds: float, width: int = WIDTH, height: int = HEIGHT
) -> BenchCamera:
    """A camera of `kind` with a busy scene: its everyday distractions, and the incident it
    watches for early and often (so a minute of frames has alerts of every kind)."""
    seed = 100 + index
    if kind == "fire_lane":
        lane = fire_lane.FireLaneScene(LANE, seed=seed, width=width, height=height)
        fire_lane.schedule_random_incidents(
            lane, seed=seed, duration_s=seconds, park_every_s=25.0, park_stay_s=12.0,
            first_park_at=3.0 + index,
        )  # fmt: skip
        config = {"zones": {"lane": LANE}, "dwell_seconds": 5.0, "clear_seconds": 2.0}
        return BenchCamera(kind, config, 5.0, lane)
    if kind == "elevator_ebike":
        car = elevator.ElevatorScene(seed=seed, width=width, height=height)
        elevator.schedule_random_incidents(
            car, seed=seed, duration_s=seconds, ebike_every_s=30.0, first_ebike_at=4.0 + index
        )
        return BenchCamera(kind, {}, 5.0, car)
    if kind == "falling_object":
        floor_lines, polygon = facade_camera_view(20, 24.0, 0.22, 0.78, 0.08)
        front = facade.FacadeScene(
            floor_lines, polygon, seed=seed, width=width, height=height, fps_hint=10.0
        )
        facade.schedule_random_incidents(
            front, seed=seed, duration_s=seconds, drop_every_s=8.0, first_drop_at=2.0 + index
        )
        config = {"floor_lines": floor_lines, "zones": {"facade": polygon}, "fps": 10}
        return BenchCamera(kind, config, 10.0, front)
    if kind == "charging_shed":
        shed = charging_shed.ChargingShedScene(seed=seed, sockets=5, width=width, height=height)
        charging_shed.schedule_random_incidents(
            shed, seed=seed, duration_s=seconds, fire_every_s=30.0, first_fire_at=5.0 + index,
            fire_lasts_s=12.0,
        )  # fmt: skip
        boxes = [[round(v, 4) for v in shed.socket_box(s)] for s in range(5)]
        return BenchCamera(kind, {"socket_boxes": boxes}, 5.0, shed)
    raise ValueError(f"unknown detector {kind!r}; expected one of {', '.join(KINDS)}")


def held_bytes(obj: Any, seen: set[int] | None = None) -> int:
    """Memory reachable from obj (a detector's state): numpy data, bytes and Python objects.

    Modules, classes and functions are not followed: they are shared, not per camera.
    """
    seen = seen if seen is not None else set()
    if id(obj) in seen or isinstance(obj, type | type(sys) | type(say)):
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        # getsizeof counts the data only for an array that owns it; a view counts its base.
        if isinstance(obj.base, np.ndarray):
            return sys.getsizeof(obj) + held_bytes(obj.base, seen)
        return sys.getsizeof(obj) + (0 if obj.flags.owndata else obj.nbytes)
    size = sys.getsizeof(obj)
    children: Any = ()
    if isinstance(obj, Mapping):
        children = [*obj.keys(), *obj.values()]
    elif isinstance(obj, list | tuple | set | frozenset) or type(obj).__name__ == "deque":
        children = obj
    elif hasattr(obj, "__dict__"):
        children = vars(obj).values()
    if hasattr(type(obj), "__slots__"):
        children = [*children, *(getattr(obj, s, None) for s in type(obj).__slots__)]
    return size + sum(held_bytes(child, seen) for child in children)


Stream = tuple[str, dict[str, Any], list[tuple[float, bytes]]]  # detector, config, frames


def render_stream(job: tuple[str, int, float]) -> Stream:
    """(detector, config, frames) of bench camera (kind, index) over `seconds`."""
    kind, index, seconds = job
    camera = bench_camera(kind, index, seconds)
    return camera.kind, camera.config, camera.frames(seconds)


def _decode_only(streams: list[Stream]) -> int:
    frames = 0
    for _, _, stream in streams:
        for _, jpeg in stream:
            cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
            frames += 1
    return frames


def _decode_at_detector_size(streams: list[Stream]) -> int:
    frames = 0
    for kind, config, stream in streams:
        width = frame_width_needed(create_detector(DETECTOR_DEVICE_KINDS[kind], config))
        for _, jpeg in stream:
            decode_jpeg(jpeg, reduction_for(jpeg, width))
            frames += 1
    return frames


def _decode_and_detect(streams: list[Stream]) -> tuple[int, dict[str, int], float]:
    frames = 0
    alerts: dict[str, int] = {}
    state_mb = 0.0
    for kind, config, stream in streams:
        detector = create_detector(DETECTOR_DEVICE_KINDS[kind], config)
        assert detector is not None
        width = frame_width_needed(detector)
        for ts, jpeg in stream:
            image = decode_jpeg(jpeg, reduction_for(jpeg, width))
            assert image is not None
            for detection in detector.update(image, ts):
                if not detection.cleared:
                    alerts[kind] = alerts.get(kind, 0) + 1
            frames += 1
        state_mb = max(state_mb, held_bytes(detector) / 1e6)
    return frames, alerts, state_mb


def _timed(pool: ProcessPoolExecutor, fn: Any, shares: list[list[Stream]]) -> tuple[float, list]:
    start = time.perf_counter()
    results = list(pool.map(fn, shares))
    return time.perf_counter() - start, results


def throughput(cameras: int, seconds: float, workers: int) -> dict[str, Any]:
    """fps of decode + detect and of decode alone, same frames, same pool."""
    jobs = [(KINDS[i % len(KINDS)], i // len(KINDS), seconds) for i in range(cameras)]
    say(f"rendering {cameras} cameras × {seconds:.0f} s at {WIDTH}×{HEIGHT} ({', '.join(KINDS)})")
    with ProcessPoolExecutor(workers) as pool:
        streams: list[Stream] = list(pool.map(render_stream, jobs))
        # Whole cameras per worker, kinds spread over the workers.
        shares = [streams[w::workers] for w in range(workers)]
        total = sum(len(s[2]) for s in streams)
        _timed(pool, _decode_only, [[(k, c, f[:5]) for k, c, f in s] for s in shares])  # warm up
        say(f"decoding {total} frames on {workers} workers (baseline)")
        decode_s, _ = _timed(pool, _decode_only, shares)
        say("decoding them at the detectors' processing size")
        reduced_s, _ = _timed(pool, _decode_at_detector_size, shares)
        say(f"decoding and detecting {total} frames")
        detect_s, results = _timed(pool, _decode_and_detect, shares)
    alerts: dict[str, int] = {kind: 0 for kind in KINDS}
    for _, by_kind, _ in results:
        for kind, n in by_kind.items():
            alerts[kind] += n
    return {
        "frames": total,
        "fps": round(total / detect_s, 1),
        "alerts": alerts,
        "detector_state_mb": round(max(r[2] for r in results), 2),
        "decode_only_fps": round(total / decode_s, 1),
        "decode_at_detector_size_fps": round(total / reduced_s, 1),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cameras", type=int, default=8, help="spread over the four kinds")
    parser.add_argument("--seconds", type=float, default=60.0, help="scene seconds per camera")
    parser.add_argument(
        "--latency-seconds",
        type=float,
        default=60.0,
        help="seconds of live feed for p95_frame_to_alert_ms (needs a broker and PostgreSQL "
        "or starts embedded ones); 0 skips it",
    )
    args = parser.parse_args(argv)
    workers = os.cpu_count() or 2
    figures = throughput(args.cameras, args.seconds, workers)
    latency: dict[str, Any] = {"p95_frame_to_alert_ms": None}
    if args.latency_seconds > 0:
        from bench.frame_to_alert import measure_latency

        latency = measure_latency(args.latency_seconds)
    result = {
        "bench": "detectors",
        "frames": figures["frames"],
        "workers": workers,
        "fps": figures["fps"],
        "alerts": figures["alerts"],
        "detector_state_mb": figures["detector_state_mb"],
        "decode_at_detector_size_fps": figures["decode_at_detector_size_fps"],
        "detectors": list(KINDS),
        **latency,
        "baseline": {"decode_only_fps": figures["decode_only_fps"]},
    }
    result["fps_vs_decode_only"] = round(result["fps"] / figures["decode_only_fps"], 3)
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
