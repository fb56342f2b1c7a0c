"""The grid map: grid polygons coloured by their worst open alert, drawn with no tile server.

Plotly's `Choroplethmap` draws the polygons on a MapLibre map whose style is a single dark
background layer, so nothing is fetched from the network. Text labels are left out on
purpose: MapLibre needs a glyph server for map text, and the screen has none.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from dashboard.labels import (
    DEVICE_KIND_COLORS,
    GRID_BORDER,
    NO_ALERT_FILL,
    OFFLINE_COLOR,
    OTHER_DEVICE_COLOR,
    SEVERITY_COLORS,
    SEVERITY_LABELS,
)
from dashboard.queries import AlertMarker, GridState
from gridwatch.domain import SEVERITY_RANK, Severity

MAP_BACKGROUND = "#0a1018"
# The map style is a file in assets/ (one dark background layer, no sources), handed to the
# map by URL: with the same style given inline as an object, the bundled plotly.js redraws
# the map once and then ignores every later figure update.
MAP_STYLE_ASSET = "map-style-dark.json"

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


def grid_bounds(grids: Iterable[GridState]) -> Bounds | None:
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


def _discrete_colorscale() -> list[list[Any]]:
    """Rank 0 (no open alert) .. 4 (critical), each rank one flat colour."""
    colors = [NO_ALERT_FILL] + [
        SEVERITY_COLORS[s] for s in sorted(SEVERITY_RANK, key=SEVERITY_RANK.get)
    ]
    scale: list[list[Any]] = []
    for rank, color in enumerate(colors):
        scale.append([rank / len(colors), color])
        scale.append([(rank + 1) / len(colors), color])
    return scale


def _severity_text(severity: Severity | None) -> str:
    if severity is None:
        return "无开放告警 no open alerts"
    chinese, english = SEVERITY_LABELS[severity]
    return f"最高级别 {chinese} {english}"


def grids_geojson(grids: Iterable[GridState]) -> dict[str, Any]:
    """A FeatureCollection of the grids that have a polygon, keyed by properties.id."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": g.id,
                "geometry": g.geometry,
                "properties": {"id": g.id, "name": g.name},
            }
            for g in grids
            if g.geometry
        ],
    }


def _grid_trace(grids: list[GridState]) -> go.Choroplethmap:
    return go.Choroplethmap(
        name="grids",
        geojson=grids_geojson(grids),
        featureidkey="properties.id",
        # Every grid is listed, even one without a polygon (it simply draws nothing), so
        # the trace always answers "which grids does the screen know about".
        locations=[g.id for g in grids],
        z=[g.worst_severity.rank if g.worst_severity else 0 for g in grids],
        # Each rank sits in the middle of its colour band, never on a band edge.
        zmin=-0.5,
        zmax=len(SEVERITY_RANK) + 0.5,
        colorscale=_discrete_colorscale(),
        showscale=False,
        marker={"opacity": 0.62, "line": {"color": GRID_BORDER, "width": 1.6}},
        customdata=[[g.name, g.open_alerts, _severity_text(g.worst_severity)] for g in grids],
        hovertemplate=(
            "<b>%{customdata[0]}</b><br>开放告警 open alerts: %{customdata[1]}"
            "<br>%{customdata[2]}<extra></extra>"
        ),
    )


def _device_traces(markers: list[AlertMarker]) -> list[go.Scattermap]:
    """Every placed device as a small dot: its kind's colour when online, grey when not."""
    online = [m for m in markers if m.online is not False]
    offline = [m for m in markers if m.online is False]
    traces = []
    for name, group, colors in (
        (
            "devices-online",
            online,
            [DEVICE_KIND_COLORS.get(m.kind, OTHER_DEVICE_COLOR) for m in online],
        ),
        ("devices-offline", offline, [OFFLINE_COLOR] * len(offline)),
    ):
        if group:
            traces.append(
                go.Scattermap(
                    name=name,
                    lat=[m.lat for m in group],
                    lon=[m.lon for m in group],
                    mode="markers",
                    marker={"size": 7, "color": colors, "opacity": 0.85},
                    customdata=[[m.device_name, m.grid_name, m.kind] for m in group],
                    hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}<extra></extra>",
                )
            )
    return traces


def _marker_traces(markers: list[AlertMarker]) -> list[go.Scattermap]:
    """Devices with open alerts: a dark halo under a severity-coloured dot; new ones ringed."""
    alerting = [m for m in markers if m.worst_severity is not None]
    if not alerting:
        return []
    fresh = [m for m in alerting if m.unacknowledged]
    sizes = [14 + 3 * m.worst_severity.rank for m in alerting if m.worst_severity]
    traces = []
    if fresh:
        # A wide translucent ring stays on a device until its alerts are acknowledged.
        traces.append(
            go.Scattermap(
                name="new-alerts",
                lat=[m.lat for m in fresh],
                lon=[m.lon for m in fresh],
                mode="markers",
                marker={"size": 44, "color": "#ffffff", "opacity": 0.35},
                hoverinfo="skip",
            )
        )
    lats = [m.lat for m in alerting]
    lons = [m.lon for m in alerting]
    traces.append(
        go.Scattermap(
            name="alert-halo",
            lat=lats,
            lon=lons,
            mode="markers",
            marker={"size": [s + 8 for s in sizes], "color": "#f4f7fb", "opacity": 0.9},
            hoverinfo="skip",
        )
    )
    traces.append(
        go.Scattermap(
            name="alert-devices",
            lat=lats,
            lon=lons,
            mode="markers",
            marker={
                "size": sizes,
                "color": [SEVERITY_COLORS[m.worst_severity] for m in alerting if m.worst_severity],
            },
            customdata=[
                [m.device_name, m.grid_name, m.open_alerts, SEVERITY_LABELS[m.worst_severity][0]]
                for m in alerting
                if m.worst_severity
            ],
            hovertemplate=(
                "<b>%{customdata[0]}</b><br>%{customdata[1]}<br>"
                "开放告警 %{customdata[2]} · %{customdata[3]}<extra></extra>"
            ),
        )
    )
    return traces


def _base_layout(view: MapView, map_style: str) -> dict[str, Any]:
    return {
        "map": {
            "style": map_style,
            "center": {"lat": view.center_lat, "lon": view.center_lon},
            "zoom": view.zoom,
        },
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "paper_bgcolor": MAP_BACKGROUND,
        "plot_bgcolor": MAP_BACKGROUND,
        "showlegend": False,
        # Plotly keeps an operator's pan and zoom while this stays the same, and applies a
        # new fitted view (other grids, other panel size) when it changes.
        "uirevision": f"grid-map {view.center_lat:.5f} {view.center_lon:.5f} {view.zoom}",
        "hoverlabel": {
            "bgcolor": "#0f1a26",
            "bordercolor": "#9fc3e8",
            "font": {"size": 20, "color": "#f4f7fb"},
        },
        "font": {"color": "#e8eef5"},
    }


def grid_map_figure(
    grids: list[GridState],
    markers: list[AlertMarker],
    size_px: tuple[int, int] | None = None,
    map_style: str = "white-bg",
) -> go.Figure:
    """The map figure: one choropleth of the grids, then the alerting devices on top.

    size_px is the map panel's (width, height) as the browser measured it, when known;
    the view is zoomed to fit every grid into it. map_style is the style's URL (the app
    passes the dark style in its assets) or the name of a plotly.js built-in style.
    """
    view = fit_view(grid_bounds(grids), *(size_px or (FIT_WIDTH_PX, FIT_HEIGHT_PX)))
    return go.Figure(
        data=[_grid_trace(grids), *_device_traces(markers), *_marker_traces(markers)],
        layout=_base_layout(view, map_style),
    )


def empty_map_figure() -> go.Figure:
    """A dark placeholder shown until the first refresh, so the wall never flashes white."""
    figure = go.Figure(layout=_base_layout(fit_view(None), "white-bg"))
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return figure
