"""Grid outlines: whether a polygon is usable, whether a position lies inside, its centroid.

Positions are GeoJSON [lon, lat] (WGS 84). The ring checks use numpy, so that a site of
hundreds of grids loads in seconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gridwatch.site.areas import Geometry, Grid


def geometry_problem(geometry: Geometry) -> str | None:
    """What is wrong with a grid outline, or None when it is a valid polygon."""
    polygons = geometry.polygons()
    if not polygons:
        return "has no polygons"
    for p, polygon in enumerate(polygons):
        prefix = "" if geometry.type == "Polygon" else f"polygon {p} "
        if not isinstance(polygon, list) or not polygon:
            return f"{prefix}has no rings"
        for r, ring in enumerate(polygon):
            problem = _ring_problem(ring)
            if problem:
                return f"{prefix}ring {r} {problem}"
    return None


def _ring_problem(ring: Any) -> str | None:
    if not isinstance(ring, list) or len(ring) < 4:
        count = len(ring) if isinstance(ring, list) else 0
        return f"has {count} positions; a ring needs at least 4, the last repeating the first"
    for n, position in enumerate(ring):
        if not (
            isinstance(position, list)
            and 2 <= len(position) <= 3
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in position)
        ):
            return f"position {n} {position!r} is not [lon, lat]"
        lon, lat = position[0], position[1]
        if not -180 <= lon <= 180:
            return f"position {n} {position}: longitude {lon} is outside -180..180"
        if not -90 <= lat <= 90:
            return f"position {n} {position}: latitude {lat} is outside -90..90"
    if ring[0][:2] != ring[-1][:2]:
        return f"is not closed: it starts at {ring[0]} and ends at {ring[-1]}"
    points = np.array([position[:2] for position in ring[:-1]], dtype=float)
    repeated = np.all(points == np.roll(points, 1, axis=0), axis=1)
    points = points[~repeated]
    if len(points) < 3:
        return "has fewer than 3 distinct positions"
    if abs(_signed_area(points)) < 1e-14:
        return "encloses no area"
    crossing = _first_crossing(points)
    if crossing:
        return f"crosses itself (edge {crossing[0]} meets edge {crossing[1]})"
    return None


def _signed_area(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)) / 2


def _first_crossing(points: np.ndarray, block: int = 256) -> tuple[int, int] | None:
    """The first pair of non-neighbouring edges that touch or cross, in blocks of rows."""
    count = len(points)
    starts, ends = points, np.roll(points, -1, axis=0)

    def orient(p: np.ndarray, q: np.ndarray, r: np.ndarray) -> np.ndarray:
        return (q[..., 0] - p[..., 0]) * (r[..., 1] - p[..., 1]) - (q[..., 1] - p[..., 1]) * (
            r[..., 0] - p[..., 0]
        )

    a2, b2 = starts[None, :, :], ends[None, :, :]
    for first in range(0, count, block):
        rows = np.arange(first, min(first + block, count))
        a1, b1 = starts[rows][:, None, :], ends[rows][:, None, :]
        hit = (orient(a1, b1, a2) * orient(a1, b1, b2) <= 0) & (
            orient(a2, b2, a1) * orient(a2, b2, b1) <= 0
        )
        low1, high1 = np.minimum(a1, b1), np.maximum(a1, b1)
        low2, high2 = np.minimum(a2, b2), np.maximum(a2, b2)
        hit &= np.all((low1 <= high2) & (low2 <= high1), axis=2)
        gap = (np.arange(count)[None, :] - rows[:, None]) % count
        hit &= (gap > 1) & (gap < count - 1)
        found = np.argwhere(hit)
        if len(found):
            return int(rows[found[0][0]]), int(found[0][1])
    return None


def _in_ring(ring: list[list[float]], lon: float, lat: float) -> bool:
    inside = False
    for (x1, y1, *_), (x2, y2, *_) in zip(ring, ring[1:], strict=False):
        if (y1 > lat) != (y2 > lat) and lon < (x2 - x1) * (lat - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def grid_contains(grid: Grid, lat: float, lon: float) -> bool:
    """Whether a position lies inside a grid's outline (outside its holes)."""
    return geometry_contains(grid.geometry, lat, lon)


def geometry_contains(geometry: Geometry, lat: float, lon: float) -> bool:
    """Whether a position lies inside an outline (outside its holes)."""
    return any(
        _in_ring(polygon[0], lon, lat) and not any(_in_ring(h, lon, lat) for h in polygon[1:])
        for polygon in geometry.polygons()
    )


def centroid(geometry: Geometry) -> tuple[float, float]:
    """(lat, lon) area centroid of the largest polygon's outer ring."""
    rings = [np.array([p[:2] for p in polygon[0]], dtype=float) for polygon in geometry.polygons()]
    ring = max(rings, key=lambda r: abs(_signed_area(r[:-1])))
    x, y = ring[:-1, 0], ring[:-1, 1]
    x1, y1 = np.roll(x, -1), np.roll(y, -1)
    cross = x * y1 - x1 * y
    area = cross.sum() / 2
    lon = float(((x + x1) * cross).sum() / (6 * area))
    lat = float(((y + y1) * cross).sum() / (6 * area))
    return round(lat, 6), round(lon, 6)
