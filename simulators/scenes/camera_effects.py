"""What every simulated camera adds on top of its scene: lighting ramps and sensor noise."""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

# Noise is drawn once, this much larger than the frame, and a shifted window of it is used
# per frame: fresh-looking noise at the cost of two saturating adds.
NOISE_MARGIN = 32


def lighting_gain(ramps: Iterable[tuple[float, float, float]], t: float) -> float:
    """Overall brightness at time t (1 = normal) from (t0, t1, target) ramps in time order."""
    gain = 1.0
    for t0, t1, target in ramps:
        if t >= t1:
            gain = target
        elif t > t0:
            gain += (target - gain) * (t - t0) / (t1 - t0)
    return gain


def frame_key(seed: int, t: float) -> int:
    """A 32-bit number fixed by (seed, t): the same frame always gets the same noise."""
    return (int(round(t * 1000)) * 0x9E3779B1 + seed * 0x85EBCA77) & 0xFFFFFFFF


def add_sensor_noise(
    frame: np.ndarray, noise_up: np.ndarray, noise_down: np.ndarray, key: int
) -> None:
    """Add this frame's window of the pre-drawn noise, in place."""
    height, width = frame.shape[:2]
    ox, oy = key % NOISE_MARGIN, (key >> 8) % NOISE_MARGIN
    view = (slice(oy, oy + height), slice(ox, ox + width))
    cv2.add(frame, noise_up[view], dst=frame)
    cv2.subtract(frame, noise_down[view], dst=frame)
