"""The grid map: grid polygons coloured by their worst open alert, drawn with no tile server.

Plotly's `Choroplethmap` draws the polygons on a MapLibre map whose style is a single dark
background layer, so nothing is fetched from the network. Text labels are left out on
purpose: MapLibre needs a glyph server for map text, and the screen has none.

The figure is a plain dict (building plotly's validated objects for 5,000 device dots took
half a second). Its traces come in a fixed order, so a refresh can send a `Patch` of what
changed (grid colours, offline dots, alert markers) instead of the whole map:
grids, one trace of dots per device kind, two for offline rings, then three for alerts.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from dash import Patch, no_update

from dashboard.components.map_view import (
    FIT_HEIGHT_PX,
    FIT_WIDTH_PX,
    MapView,
    fit_view,
)
from dashboard.labels import (
    DEVICE_KIND_COLORS,
    GRID_BORDER,
    NO_ALERT_FILL,
    OFFLINE_COLOR,
    OTHER_DEVICE_COLOR,
    SEVERITY_COLORS,
    SEVERITY_LABELS,
)
from dashboard.map_queries import AlertMarker, MapGrid, MapLayout, MapState
from dashboard.queries import MapSnapshot
from gridwatch.domain import SEVERITY_RANK, Severity

MAP_BACKGROUND = "#0a1018"
# The map style is a file in assets/ (one dark background layer, no sources), handed to the
# map by URL: with the same style given inline as an object, the bundled plotly.js redraws
# the map once and then ignores every later figure update.
MAP_STYLE_ASSET = "map-style-dark.json"
DEVICE_DOT_PX = 7
STATE_TRACES = 5  # offline rings and their dark cores, new-alert rings, alert halos, alert dots
OFFLINE_TRACES = 2
MAP_PARTS = ("grids", "offline", "alerts")  # what a patch may resend (MapState.signatures)


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


def grids_geojson(grids: Iterable[MapGrid]) -> dict[str, Any]:
    """A FeatureCollection of the grids that have a polygon, keyed by properties.id."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": g.id,
                "geometry": g.geometry,
                "properties": {"id": g.id},
            }
            for g in grids
            if g.geometry
        ],
    }


def _grid_state(layout: MapLayout, state: MapState) -> dict[str, list[Any]]:
    """The grid trace's changing part: colour rank and hover figures, in layout order."""
    z, customdata = [], []
    for grid in layout.grids:
        alerts = state.grids.get(grid.id)
        worst = alerts.worst if alerts else None
        z.append(worst.rank if worst else 0)
        customdata.append([alerts.count if alerts else 0, _severity_text(worst)])
    return {"z": z, "customdata": customdata}


def _grid_trace(layout: MapLayout, state: MapState) -> dict[str, Any]:
    return {
        "type": "choroplethmap",
        "name": "grids",
        "geojson": grids_geojson(layout.grids),
        "featureidkey": "properties.id",
        # Every grid is listed, even one without a polygon (it simply draws nothing), so
        # the trace always answers "which grids does the screen know about".
        "locations": [g.id for g in layout.grids],
        "text": [g.name for g in layout.grids],
        **_grid_state(layout, state),
        # Each rank sits in the middle of its colour band, never on a band edge.
        "zmin": -0.5,
        "zmax": len(SEVERITY_RANK) + 0.5,
        "colorscale": _discrete_colorscale(),
        "showscale": False,
        "marker": {"opacity": 0.62, "line": {"color": GRID_BORDER, "width": 1.6}},
        "hovertemplate": (
            "<b>%{text}</b><br>开放告警 open alerts: %{customdata[0]}"
            "<br>%{customdata[1]}<extra></extra>"
        ),
    }


def device_kinds(layout: MapLayout) -> list[str]:
    """The device kinds on the map, one dot trace each, in a fixed order: cameras last, so
    their dots are drawn over a sensor or alarm mounted at the same spot."""
    return sorted({d.kind for d in layout.devices}, key=lambda k: (k.endswith("_camera"), k))


def _dots(name: str, devices: list[Any], color: str) -> dict[str, Any]:
    return {
        "type": "scattermap",
        "name": name,
        "mode": "markers",
        "lat": [d.lat for d in devices],
        "lon": [d.lon for d in devices],
        "hovertext": [d.name for d in devices],
        "hovertemplate": "%{hovertext}<extra></extra>",
        "marker": {"size": DEVICE_DOT_PX, "color": color, "opacity": 0.85},
    }


def _device_traces(layout: MapLayout) -> list[dict[str, Any]]:
    """Every placed device as a small dot in its kind's colour (one trace, one colour each)."""
    return [
        _dots(
            f"devices-{kind}",
            [d for d in layout.devices if d.kind == kind],
            DEVICE_KIND_COLORS.get(kind, OTHER_DEVICE_COLOR),
        )
        for kind in device_kinds(layout)
    ]


def _offline_traces(layout: MapLayout, state: MapState) -> list[dict[str, Any]]:
    """Offline devices: a hollow grey ring over the kind's dot (a grey dot with a dark core;
    MapLibre's circles here take no outline)."""
    offline = [d for d in layout.devices if d.id in state.offline]
    ring = _dots("devices-offline", offline, OFFLINE_COLOR)
    ring["marker"] = {"size": DEVICE_DOT_PX + 6, "color": OFFLINE_COLOR, "opacity": 1}
    core = _dots("devices-offline-core", offline, MAP_BACKGROUND)
    core["marker"] = {"size": DEVICE_DOT_PX - 1, "color": MAP_BACKGROUND, "opacity": 1}
    core["hoverinfo"] = "skip"
    core.pop("hovertemplate")
    return [ring, core]


def _alert_traces(markers: list[AlertMarker]) -> list[dict[str, Any]]:
    """Devices with open alerts: a dark halo under a severity-coloured dot; new ones ringed.

    Always three traces (empty ones too), so their places in the figure never move.
    """
    fresh = [m for m in markers if m.unacknowledged]
    sizes = [14 + 3 * m.worst_severity.rank for m in markers]
    lats = [m.lat for m in markers]
    lons = [m.lon for m in markers]
    return [
        # A wide translucent ring stays on a device until its alerts are acknowledged.
        {
            "type": "scattermap",
            "name": "new-alerts",
            "mode": "markers",
            "lat": [m.lat for m in fresh],
            "lon": [m.lon for m in fresh],
            "marker": {"size": 44, "color": "#ffffff", "opacity": 0.35},
            "hoverinfo": "skip",
        },
        {
            "type": "scattermap",
            "name": "alert-halo",
            "mode": "markers",
            "lat": lats,
            "lon": lons,
            "marker": {"size": [s + 8 for s in sizes], "color": "#f4f7fb", "opacity": 0.9},
            "hoverinfo": "skip",
        },
        {
            "type": "scattermap",
            "name": "alert-devices",
            "mode": "markers",
            "lat": lats,
            "lon": lons,
            "marker": {
                "size": sizes,
                "color": [SEVERITY_COLORS[m.worst_severity] for m in markers],
            },
            "customdata": [
                [m.device_name, m.grid_name, m.open_alerts, SEVERITY_LABELS[m.worst_severity][0]]
                for m in markers
            ],
            "hovertemplate": (
                "<b>%{customdata[0]}</b><br>%{customdata[1]}<br>"
                "开放告警 %{customdata[2]} · %{customdata[3]}<extra></extra>"
            ),
        },
    ]


def _state_traces(layout: MapLayout, state: MapState) -> list[dict[str, Any]]:
    traces = [*_offline_traces(layout, state), *_alert_traces(state.alert_markers(layout))]
    assert len(traces) == STATE_TRACES
    return traces


def _uirevision(view: MapView) -> str:
    return f"grid-map {view.center_lat:.5f} {view.center_lon:.5f} {view.zoom}"


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
        "uirevision": _uirevision(view),
        "hoverlabel": {
            "bgcolor": "#0f1a26",
            "bordercolor": "#9fc3e8",
            "font": {"size": 20, "color": "#f4f7fb"},
        },
        "font": {"color": "#e8eef5"},
    }


def map_view(layout: MapLayout, size_px: tuple[int, int] | None) -> MapView:
    """The centre and zoom that fit every grid into a map panel of size_px (or the default)."""
    return fit_view(layout.bounds, *(size_px or (FIT_WIDTH_PX, FIT_HEIGHT_PX)))


def grid_map_figure(
    layout: MapLayout,
    state: MapState,
    size_px: tuple[int, int] | None = None,
    map_style: str = "white-bg",
) -> dict[str, Any]:
    """The whole map figure: grids, device dots by kind, offline dots, then alert markers.

    size_px is the map panel's (width, height) as the browser measured it, when known;
    the view is zoomed to fit every grid into it. map_style is the style's URL (the app
    passes the dark style in its assets) or the name of a plotly.js built-in style.
    """
    return {
        "data": [
            _grid_trace(layout, state),
            *_device_traces(layout),
            *_state_traces(layout, state),
        ],
        "layout": _base_layout(map_view(layout, size_px), map_style),
    }


def map_patch(
    layout: MapLayout,
    state: MapState,
    changed: Collection[str] = MAP_PARTS,
    view: MapView | None = None,
) -> Patch:
    """Only what changed in a figure grid_map_figure drew from the same layout.

    changed names the parts of the state that moved (see MAP_PARTS); view is a new fitted
    view for a resized panel (None: unchanged).
    """
    patch = Patch()
    if "grids" in changed:
        for key, values in _grid_state(layout, state).items():
            patch["data"][0][key] = values
    first = 1 + len(device_kinds(layout))
    if "offline" in changed:
        for offset, trace in enumerate(_offline_traces(layout, state)):
            patch["data"][first + offset] = trace
    if "alerts" in changed:
        alert_traces = _alert_traces(state.alert_markers(layout))
        for offset, trace in enumerate(alert_traces, start=OFFLINE_TRACES):
            patch["data"][first + offset] = trace
    if view is not None:
        patch["layout"]["map"]["center"] = {"lat": view.center_lat, "lon": view.center_lon}
        patch["layout"]["map"]["zoom"] = view.zoom
        patch["layout"]["uirevision"] = _uirevision(view)
    return patch


def map_update(
    snapshot: MapSnapshot, shown: Any, size_px: tuple[int, int] | None, map_style: str
) -> tuple[Any, dict[str, Any]]:
    """What to send the map: the whole figure, a Patch of what changed, or nothing.

    shown is the signature of what the browser has (None before the first figure). The
    whole figure (polygons and 5,000 device dots) goes only to a new page or after the site
    changed; new alerts, offline devices or a resized panel travel as a Patch.
    """
    layout, state = snapshot.layout, snapshot.state
    view = map_view(layout, size_px)
    parts = state.signatures()
    signature = {
        "layout": layout.version,
        "view": [view.center_lat, view.center_lon, view.zoom],
        **parts,
    }
    if not isinstance(shown, dict) or shown.get("layout") != layout.version:
        return grid_map_figure(layout, state, size_px, map_style), signature
    changed = [name for name, digest in parts.items() if shown.get(name) != digest]
    view_changed = shown.get("view") != signature["view"]
    if not changed and not view_changed:
        return no_update, signature
    return map_patch(layout, state, changed, view if view_changed else None), signature


def empty_map_figure() -> dict[str, Any]:
    """A dark placeholder shown until the first refresh, so the wall never flashes white."""
    layout = _base_layout(fit_view(None), "white-bg")
    return {
        "data": [],
        "layout": {**layout, "xaxis": {"visible": False}, "yaxis": {"visible": False}},
    }
