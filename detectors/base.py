"""The detector interface every camera detector implements, and what it returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True)
class Box:
    """An axis-aligned box, normalised 0..1 to the frame's width and height."""

    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Detection:
    """One edge of a condition: its onset (cleared=False) or its end (cleared=True).

    A detector emits exactly one onset and one clear per event, with the same `type` and
    `track_id`, and nothing in between.
    """

    type: str  # alert type string, e.g. "fire_lane_occupied"
    ts: float  # frame time in seconds (from the frame, never the wall clock)
    confidence: float  # 0..1
    boxes: tuple[Box, ...] = ()
    track_id: int | None = None
    cleared: bool = False  # True = the condition that raised `type` has ended
    # JSON-serialisable, e.g. {"dwell_seconds": 121.0, "zone": "lane"}
    details: Mapping[str, Any] = field(default_factory=dict)
    evidence: str = "snapshot"  # what evidence to keep: "snapshot" | "clip" | "none"


class Detector(Protocol):
    """Frame in, detections out. `frame` is a BGR uint8 array of any size."""

    def update(self, frame: np.ndarray, ts: float) -> list[Detection]: ...
