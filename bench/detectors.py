"""Detector throughput on 1280×720 JPEG frames: decode + detect against decode alone.

    python -m bench.detectors [--cameras 8] [--seconds 60]

Frames come from the simulated cameras (scene time, 5 fps per camera), are encoded once,
then replayed through a process pool of one worker per core; each worker owns whole cameras
(as ingest does), so detector state stays with its camera. The baseline decodes the same
frames with the same pool. Ends with one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import cv2
import numpy as np

from detectors.registry import create_detector
from simulators.scenes.fire_lane import FireLaneScene, encode_jpeg, schedule_random_incidents

WIDTH, HEIGHT, FPS = 1280, 720, 5.0
LANE = [[0.0, 0.46], [1.0, 0.45], [1.0, 0.86], [0.0, 0.87]]


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def camera_frames(camera: int, seconds: float) -> list[bytes]:
    """One fire-lane camera's stream: traffic, pedestrians and a car that parks."""
    scene = FireLaneScene(LANE, seed=100 + camera, width=WIDTH, height=HEIGHT)
    schedule_random_incidents(
        scene,
        seed=100 + camera,
        duration_s=seconds,
        first_park_at=seconds * 0.1,
        park_stay_s=seconds,
    )
    return [encode_jpeg(scene.render(i / FPS), 85) for i in range(int(seconds * FPS))]


def _decode_only(streams: list[list[bytes]]) -> int:
    frames = 0
    for stream in streams:
        for jpeg in stream:
            cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
            frames += 1
    return frames


def _decode_and_detect(streams: list[list[bytes]]) -> tuple[int, int, float]:
    frames = alerts = 0
    state_mb = 0.0
    config = {"zones": {"lane": LANE}, "dwell_seconds": 20.0}
    for stream in streams:
        detector = create_detector("fire_lane_camera", config)
        assert detector is not None
        for index, jpeg in enumerate(stream):
            image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
            alerts += sum(not d.cleared for d in detector.update(image, index / FPS))
            frames += 1
        state_mb = max(state_mb, _array_bytes(detector) / 1e6)
    return frames, alerts, state_mb


def _array_bytes(obj: Any, seen: set[int] | None = None) -> int:
    """Bytes held in numpy arrays reachable from a detector: its state's size, roughly."""
    seen = seen if seen is not None else set()
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    children: Any = ()
    if isinstance(obj, dict):
        children = obj.values()
    elif isinstance(obj, list | tuple | set):
        children = obj
    elif hasattr(obj, "__dict__"):
        children = vars(obj).values()
    elif hasattr(obj, "__slots__"):
        children = [getattr(obj, s, None) for s in obj.__slots__]
    return sum(_array_bytes(child, seen) for child in children)


def _timed(
    pool: ProcessPoolExecutor, fn: Any, shares: list[list[list[bytes]]]
) -> tuple[float, list]:
    start = time.perf_counter()
    results = list(pool.map(fn, shares))
    return time.perf_counter() - start, results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0, help="scene seconds per camera")
    args = parser.parse_args(argv)
    workers = os.cpu_count() or 2
    say(f"rendering {args.cameras} cameras × {args.seconds:.0f} s, {FPS:.0f} fps, {WIDTH}×{HEIGHT}")
    streams = []
    for camera in range(args.cameras):
        streams.append(camera_frames(camera, args.seconds))
        say(f"  camera {camera + 1}/{args.cameras}: {len(streams[-1])} frames")
    shares = [streams[w::workers] for w in range(workers)]  # whole cameras per worker
    total = sum(len(s) for s in streams)
    with ProcessPoolExecutor(workers) as pool:
        _timed(pool, _decode_only, [s[:1] for s in shares])  # warm the workers up
        say(f"decoding {total} frames on {workers} workers (baseline)")
        decode_s, _ = _timed(pool, _decode_only, shares)
        say(f"decoding and detecting {total} frames")
        detect_s, results = _timed(pool, _decode_and_detect, shares)
    result = {
        "bench": "detectors",
        "frames": total,
        "workers": workers,
        "fps": round(total / detect_s, 1),
        "alerts": sum(r[1] for r in results),
        "detector_state_mb": round(max(r[2] for r in results), 2),
        "detectors": ["fire_lane"],
        "p95_frame_to_alert_ms": None,  # needs broker and ingest: not measured here yet
        "baseline": {"decode_only_fps": round(total / decode_s, 1)},
    }
    result["fps_vs_decode_only"] = round(result["fps"] / result["baseline"]["decode_only_fps"], 3)
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
