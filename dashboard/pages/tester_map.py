"""The tester console's device map and picking: where the playable devices stand, and which
of them a click on the map offers (pure but for reading the site)."""

from __future__ import annotations

import logging
import math
from typing import Any

import plotly.graph_objects as go

from gridwatch.settings import Settings
from gridwatch.site import SiteError, load_site

log = logging.getLogger(__name__)

# A map click offers the devices this share of the site's span around the spot (~50 m).
NEAR_SHARE = 0.03
# The kinds the testers' simulator can play an incident on.
PLAYABLE_KINDS = (
    "fire_lane_camera",
    "elevator_camera",
    "facade_camera",
    "shed_camera",
    "charging_socket",
    "smoke_detector",
)


def playable_devices(settings: Settings) -> list[Any]:
    """The site's devices of the playable kinds (none, with a warning, if it cannot load)."""
    try:
        site = load_site(settings.site_dir)
    except SiteError as err:
        log.warning("tester console: cannot list devices: %s", err)
        return []
    return [device for device in site.devices if str(device.kind) in PLAYABLE_KINDS]


def device_map(devices: list[Any]) -> go.Figure:
    """The devices where they stand, one colour per kind; a click picks one (no map tiles:
    the console must work without a network)."""
    figure = go.Figure()
    for kind in PLAYABLE_KINDS:
        mine = [d for d in devices if str(d.kind) == kind]
        figure.add_trace(
            go.Scatter(
                x=[d.lon for d in mine],
                y=[d.lat for d in mine],
                mode="markers",
                name=kind,
                text=[f"{d.name} ({d.id})" for d in mine],
                customdata=[f"{d.kind}|{d.id}" for d in mine],
                hoverinfo="text",
                marker={"size": 7},
            )
        )
    figure.update_layout(
        height=260,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        paper_bgcolor="#0f1a2b",
        plot_bgcolor="#0f1a2b",
        font={"color": "#c8d3e6", "size": 10},
        xaxis={"visible": False},
        yaxis={"visible": False, "scaleanchor": "x"},
        legend={"orientation": "h", "y": -0.05},
        clickmode="event",
    )
    return figure


def device_options(devices: list[Any]) -> list[dict[str, str]]:
    return [{"label": f"{d.name} ({d.id})", "value": f"{d.kind}|{d.id}"} for d in devices]


def devices_near(devices: list[Any], lon: float, lat: float) -> list[Any]:
    """The devices within NEAR_SHARE of the site's span of a clicked spot, nearest first.

    Many devices stand at one spot (a shed's camera, smoke detector and sockets; a
    building's cameras), so one marker hides others: a click offers all of them.
    """
    if not devices:
        return []
    span = max(
        max(d.lon for d in devices) - min(d.lon for d in devices),
        max(d.lat for d in devices) - min(d.lat for d in devices),
    )
    radius = max(span * NEAR_SHARE, 1e-9)
    distance = {d.id: math.hypot(d.lon - lon, d.lat - lat) for d in devices}
    return sorted((d for d in devices if distance[d.id] <= radius), key=lambda d: distance[d.id])
