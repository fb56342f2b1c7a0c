"""Where the map looks: the box around the grids and the centre and zoom that fit it.

Pure arithmetic on coordinates, so the view is the same in tests and on the wall.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class Placed(Protocol):
    """Anything with a GeoJSON geometry and a centre point (a grid)."""

    @property
    def geometry(self) -> dict[str, Any] | None: ...

    @property
    def center_lat(self) -> float | None: ...

    @property
    def center_lon(self) -> float | None: ...


# Used until the browser has told the map panel's real size: the panel on the smallest
# supported screen (1366x768), so the grids fit whole wherever the screen is.
FIT_WIDTH_PX = 860
FIT_HEIGHT_PX = 520
FIT_MARGIN = 0.92
MAPLIBRE_TILE_PX = 512
MAX_ZOOM = 17.0


@dataclass(frozen=True)
class Bounds:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    @property
    def center(self) -> tuple[float, float]:
        """(lat, lon) of the middle of the box, the latitude taken in Mercator space."""
        mid_y = (_mercator_y(self.min_lat) + _mercator_y(self.max_lat)) / 2
        lat = math.degrees(2 * math.atan(math.exp(mid_y)) - math.pi / 2)
        return lat, (self.min_lon + self.max_lon) / 2


@dataclass(frozen=True)
class MapView:
    center_lat: float
    center_lon: float
    zoom: float


def _mercator_y(lat: float) -> float:
    lat = max(-85.0, min(85.0, lat))
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def _positions(coordinates: Any) -> Iterable[tuple[float, float]]:
    """Every (lon, lat) pair in a GeoJSON coordinates array of any nesting depth."""
    if (
        isinstance(coordinates, Sequence)
        and len(coordinates) >= 2
        and all(isinstance(c, int | float) for c in coordinates[:2])
    ):
        yield float(coordinates[0]), float(coordinates[1])
        return
    if isinstance(coordinates, Sequence):
        for part in coordinates:
            yield from _positions(part)


def grid_bounds(grids: Iterable[Placed]) -> Bounds | None:
    """The box around every grid polygon (or centre point, for grids without one)."""
    lons: list[float] = []
    lats: list[float] = []
    for grid in grids:
        if grid.geometry and "coordinates" in grid.geometry:
            for lon, lat in _positions(grid.geometry["coordinates"]):
                lons.append(lon)
                lats.append(lat)
        elif grid.center_lat is not None and grid.center_lon is not None:
            lons.append(grid.center_lon)
            lats.append(grid.center_lat)
    if not lons:
        return None
    return Bounds(min(lons), min(lats), max(lons), max(lats))


def fit_view(
    bounds: Bounds | None, width_px: int = FIT_WIDTH_PX, height_px: int = FIT_HEIGHT_PX
) -> MapView:
    """Centre and zoom that show the whole box in a map of the given pixel size."""
    if bounds is None:
        return MapView(center_lat=35.0, center_lon=105.0, zoom=3.0)
    lat, lon = bounds.center
    world_px = MAPLIBRE_TILE_PX  # width of the whole world at zoom 0
    zooms = [MAX_ZOOM]
    lon_span = bounds.max_lon - bounds.min_lon
    if lon_span > 0:
        zooms.append(math.log2(width_px * FIT_MARGIN * 360 / (world_px * lon_span)))
    y_span = _mercator_y(bounds.max_lat) - _mercator_y(bounds.min_lat)
    if y_span > 0:
        zooms.append(math.log2(height_px * FIT_MARGIN * 2 * math.pi / (world_px * y_span)))
    return MapView(center_lat=lat, center_lon=lon, zoom=round(min(zooms), 2))
