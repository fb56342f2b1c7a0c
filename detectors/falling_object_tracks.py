"""Tracks of small moving blobs on a facade, and the free-fall test they must pass.

Heights are in metres above the ground floor's floor level, read off the camera's floor
lines (floor n's bottom edge is n - 1 storeys of 3 m up; between lines heights are
interpolated, beyond them extrapolated), so a fall seen in perspective is still a parabola.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

STOREY_M = 3.0
GRAVITY = 9.81  # m/s²
FASTEST_FALL = 45.0  # m/s, about what a fall from a 35-storey roof reaches
_STATE_POINTS = 4  # points a track's present height and speed are fitted over


class FloorScale:
    """Picture row (normalised 0..1) <-> height on the facade in metres."""

    def __init__(self, floor_lines: Sequence[Any]) -> None:
        if isinstance(floor_lines, (str, bytes)) or not isinstance(floor_lines, Sequence):
            raise ValueError(f"floor_lines: expected a list of {{floor, y}}, got {floor_lines!r}")
        if len(floor_lines) < 2:
            raise ValueError(f"floor_lines: at least 2 are needed, got {len(floor_lines)}")
        floors, rows = [], []
        for i, line in enumerate(floor_lines):
            if not isinstance(line, Mapping) or not {"floor", "y"} <= set(line):
                raise ValueError(f"floor_lines[{i}]: expected {{floor, y}}, got {line!r}")
            floor, y = line["floor"], line["y"]
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (floor, y)):
                raise ValueError(f"floor_lines[{i}]: floor and y must be numbers, got {line!r}")
            if not 0.0 <= y <= 1.0:
                raise ValueError(f"floor_lines[{i}]: y {y} is outside 0..1 (normalised rows)")
            floors.append(float(floor))
            rows.append(float(y))
        order = np.argsort(floors)
        self.heights = (np.asarray(floors)[order] - 1) * STOREY_M
        self.rows = np.asarray(rows)[order]
        if np.any(np.diff(self.heights) <= 0) or np.any(np.diff(self.rows) >= 0):
            raise ValueError(
                "floor_lines: higher floors must have smaller y (rows counted from the top), "
                "one line per floor"
            )

    def height_at(self, y: float) -> float:
        """Metres above the ground floor at normalised row y."""
        rows, heights = self.rows[::-1], self.heights[::-1]  # rows ascending
        if y < rows[0]:
            return float(
                heights[0] + (y - rows[0]) * (heights[1] - heights[0]) / (rows[1] - rows[0])
            )
        if y > rows[-1]:
            slope = (heights[-1] - heights[-2]) / (rows[-1] - rows[-2])
            return float(heights[-1] + (y - rows[-1]) * slope)
        return float(np.interp(y, rows, heights))

    @staticmethod
    def floor_at(height_m: float) -> int:
        """The floor whose storey contains this height (ground floor = 1)."""
        return max(1, int(math.floor(height_m / STOREY_M)) + 1)


@dataclass
class Track:
    """One blob followed from frame to frame: times, normalised x, y and height in metres."""

    track_id: int
    t: list[float] = field(default_factory=list)
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    h: list[float] = field(default_factory=list)
    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    misses: int = 0
    confirmed: bool = False
    _state: tuple[float, float] | None = None  # (height, velocity) at the last point

    def add(self, t: float, x: float, y: float, h: float, box: tuple[float, ...]) -> None:
        self.t.append(t)
        self.x.append(x)
        self.y.append(y)
        self.h.append(h)
        self.boxes.append(box)  # type: ignore[arg-type]
        self.misses = 0
        self._state = None

    def _fall_state(self, gravity: float) -> tuple[float, float]:
        """Height and vertical velocity now, fitted with g fixed over the last few points: a
        blob's bottom jitters by a pixel or two, too much to take the velocity from two."""
        if self._state is None:
            ts, hs = self.t[-_STATE_POINTS:], self.h[-_STATE_POINTS:]
            offsets = [t - ts[-1] for t in ts]
            lifted = [h + 0.5 * gravity * o * o for h, o in zip(hs, offsets, strict=True)]
            mean_o, mean_h = sum(offsets) / len(ts), sum(lifted) / len(ts)
            spread = sum((o - mean_o) ** 2 for o in offsets)
            v = sum((o - mean_o) * (h - mean_h) for o, h in zip(offsets, lifted, strict=True))
            v /= spread
            self._state = (mean_h - v * mean_o, v)
        return self._state

    def since_rest(self, still_m: float = 0.15) -> Track:
        """The track from its last moment at rest: what stood still before a fall (a person on
        the balcony, a flickering edge the object passed) is no part of the parabola."""
        drops = [a - b for a, b in zip(self.h[:-1], self.h[1:], strict=True)]
        for i in range(len(drops) - 1, 0, -1):
            if drops[i] <= still_m and drops[i - 1] <= still_m:  # points i-1..i+1 at rest
                part = Track(self.track_id, misses=self.misses, confirmed=self.confirmed)
                for name in ("t", "x", "y", "h", "boxes"):
                    setattr(part, name, getattr(self, name)[i:])
                return part
        return self

    def gate(self, t: float, x: float, h: float, gravity: float) -> float | None:
        """How far (in gate widths, < 1 passes) a blob at (x, h) is from where this track
        would be at t if it were falling; None when it is out of the gate."""
        dt = t - self.t[-1]
        if dt <= 0:
            return None
        if len(self.t) == 1:
            # From rest or already falling: anywhere from a little above to a fast drop below.
            low = self.h[-1] - FASTEST_FALL * dt - 0.5 * gravity * dt * dt
            if not low <= h <= self.h[-1] + 0.4:
                return None
            expected_h, spread_h = self.h[-1], max(self.h[-1] - low, 0.4)
            expected_x, spread_x = self.x[-1], 0.02
        else:
            now_h, v = self._fall_state(gravity)
            expected_h = now_h + v * dt - 0.5 * gravity * dt * dt
            step = self.t[-1] - self.t[-2]
            spread_h = 0.6 + 0.35 * abs(expected_h - self.h[-1])
            vx = (self.x[-1] - self.x[-2]) / step
            expected_x, spread_x = self.x[-1] + vx * dt, 0.015
        dh = (h - expected_h) / spread_h
        dx = (x - expected_x) / spread_x
        distance = math.hypot(dh, dx)
        return distance if distance < 1.0 else None


@dataclass(frozen=True)
class FallFit:
    """A free-fall fit of a track: h(t) = h0 + v0·(t - t0) - g·(t - t0)²/2."""

    g_estimate: float  # m/s², fitted freely
    rms_m: float  # residual of the free fit
    drop_m: float  # first minus last height
    release_height_m: float  # where the velocity was zero, fitted with g fixed at 9.81
    release_t: float


def fit_fall(track: Track, gravity: float = GRAVITY) -> FallFit:
    """Fit a parabola to the track's heights, and extrapolate back to where it was let go."""
    t = np.asarray(track.t) - track.t[0]
    h = np.asarray(track.h)
    design = np.stack([np.ones_like(t), t, -0.5 * t * t], axis=1)
    (h0, v0, g), *_ = np.linalg.lstsq(design, h, rcond=None)
    rms = float(np.sqrt(np.mean((design @ np.array([h0, v0, g]) - h) ** 2)))
    # With g fixed the fit has one curvature less to guess, so the way back to rest is steadier.
    fixed = h + 0.5 * gravity * t * t
    (h0f, v0f), *_ = np.linalg.lstsq(design[:, :2], fixed, rcond=None)
    release_t = float(track.t[0] + v0f / gravity)
    release_height = float(h0f + v0f * v0f / (2 * gravity))
    return FallFit(float(g), rms, float(h[0] - h[-1]), release_height, release_t)
