"""Camera zones: normalised polygons, their pixel masks and point tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

Point = tuple[float, float]


@dataclass(frozen=True)
class Zone:
    """A named polygon in normalised image coordinates (0..1 of width and height)."""

    name: str
    points: tuple[Point, ...]

    def mask(self, width: int, height: int) -> np.ndarray:
        """A uint8 mask of shape (height, width): 255 inside the zone, 0 outside."""
        return polygon_mask(self.points, width, height)

    def contains(self, x: float, y: float) -> bool:
        """Whether the normalised point (x, y) lies inside the zone or on its edge."""
        return point_in_polygon(self.points, x, y)


def validate_polygon(name: str, points: Any) -> tuple[Point, ...]:
    """Check a zone polygon and return it as a tuple of (x, y) floats.

    Raises ValueError naming the zone when there are fewer than 3 points, a point is not a
    pair of numbers, or a coordinate lies outside 0..1.
    """
    if isinstance(points, (str, bytes)) or not isinstance(points, Sequence):
        raise ValueError(f"zone '{name}': expected a list of [x, y] points, got {points!r}")
    if len(points) < 3:
        raise ValueError(f"zone '{name}': a polygon needs at least 3 points, got {len(points)}")
    checked: list[Point] = []
    for i, point in enumerate(points):
        if (
            isinstance(point, (str, bytes))
            or not isinstance(point, Sequence)
            or len(point) != 2
            or not all(_is_number(c) for c in point)
        ):
            raise ValueError(f"zone '{name}': point {i} must be [x, y] numbers, got {point!r}")
        x, y = float(point[0]), float(point[1])
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ValueError(
                f"zone '{name}': point {i} {[x, y]} is outside the frame; "
                "coordinates are normalised to 0..1"
            )
        checked.append((x, y))
    pixels = np.array(checked, dtype=np.float64)
    if abs(cv2.contourArea(pixels.astype(np.float32))) < 1e-6:
        raise ValueError(f"zone '{name}': the polygon has no area (points are collinear)")
    return tuple(checked)


def parse_zones(zones: Any, *, field_name: str = "zones") -> dict[str, Zone]:
    """Validate a {name: [[x, y], ...]} mapping into Zone objects."""
    if not isinstance(zones, Mapping):
        raise ValueError(f"{field_name}: expected a mapping of zone name to polygon, got {zones!r}")
    return {
        str(name): Zone(str(name), validate_polygon(f"{field_name}.{name}", points))
        for name, points in zones.items()
    }


def polygon_mask(points: Sequence[Point], width: int, height: int) -> np.ndarray:
    """Rasterise a normalised polygon into a uint8 mask (255 inside) of the given size."""
    mask = np.zeros((height, width), dtype=np.uint8)
    cv2.fillPoly(mask, [to_pixels(points, width, height)], 255)
    return mask


def to_pixels(points: Sequence[Point], width: int, height: int) -> np.ndarray:
    """Normalised points as an int32 (N, 2) array of pixel coordinates for OpenCV drawing."""
    scale = np.array([width - 1, height - 1], dtype=np.float64)
    return np.round(np.asarray(points, dtype=np.float64) * scale).astype(np.int32)


def point_in_polygon(points: Sequence[Point], x: float, y: float) -> bool:
    """Whether a normalised point lies inside the polygon or on its edge."""
    contour = np.asarray(points, dtype=np.float32).reshape(-1, 1, 2)
    return cv2.pointPolygonTest(contour, (float(x), float(y)), False) >= 0


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)
