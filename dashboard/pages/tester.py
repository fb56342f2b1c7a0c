"""The tester console: inject an incident on a device, start and stop scenarios, and watch
the alerts that follow with their latency.

The console does not simulate anything itself: it sends requests to the testers' simulator
(`gridwatch simulate serve`) on gw/sim/v1/{site}/control and shows the state that simulator
publishes, retained, on gw/sim/v1/{site}/state (both in docs/PROTOCOL.md).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from typing import Any

import paho.mqtt.client as paho
from dash import Dash, Input, Output, State, dcc, html, no_update

from dashboard.pages import Page
from dashboard.pages.tester_map import (
    device_map,
    device_options,
    devices_near,
    playable_devices,
)
from dashboard.queries import DashboardQueries
from gridwatch.domain import ALERT_TYPE_LABELS
from gridwatch.mqtt import connect, make_client
from gridwatch.settings import Settings

log = logging.getLogger(__name__)

REFRESH_MS = 1000
# (label, incident, device kinds it applies to; None: any device)
INCIDENTS: list[tuple[str, str, tuple[str, ...] | None]] = [
    ("停车占道 park a car", "park_car", ("fire_lane_camera",)),
    ("车辆经过 a car passes", "pass_car", ("fire_lane_camera",)),
    ("推电动车进电梯 carry in an e-bike", "carry_ebike", ("elevator_camera",)),
    ("推自行车进电梯 a bicycle rides", "enter_person", ("elevator_camera",)),
    ("高空抛物 drop an object", "drop_object", ("facade_camera",)),
    ("飞鸟 a bird", "bird", ("facade_camera",)),
    ("起火 start a fire", "shed_fire", ("shed_camera",)),
    ("插座过热 socket overheats", "socket_overheat", ("charging_socket",)),
    ("设备离线 take offline", "device_offline", None),
]
# A device taken offline: the last will the broker published for it, and its return.
STATUS_LABELS = {"offline": "离线 offline", "online": "上线 online"}
PANEL = {
    "background": "#0f1a2b",
    "border": "1px solid #24344f",
    "borderRadius": "6px",
    "padding": "0.8rem",
}


def control_topic(site_id: str) -> str:
    return f"gw/sim/v1/{site_id}/control"


def state_topic(site_id: str) -> str:
    return f"gw/sim/v1/{site_id}/state"


class SimulatorLink:
    """The console's MQTT connection: keeps the simulator's latest state, sends requests."""

    def __init__(self, settings: Settings) -> None:
        self.site_id = settings.site_id
        self.state: dict[str, Any] | None = None
        self.connected = threading.Event()
        self.client = make_client(settings, client_id=f"tester-console-{uuid.uuid4().hex[:8]}")
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        connect(self.client, settings)
        self.client.loop_start()
        self.connected.wait(10)

    def _on_connect(self, client: paho.Client, *_: object) -> None:
        client.subscribe(state_topic(self.site_id), qos=1)
        self.connected.set()

    def _on_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        try:
            self.state = json.loads(msg.payload) if msg.payload else None
        except json.JSONDecodeError:
            log.warning("ignoring a simulator state that is not JSON")

    def send(self, request: dict[str, Any]) -> None:
        self.client.publish(control_topic(self.site_id), json.dumps(request), qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def layout(settings: Settings) -> html.Div:
    field = {"marginBottom": "0.6rem"}
    # Dark text: the number fields draw on a light background, as the dropdowns do.
    number = {**field, "color": "#111"}
    devices = playable_devices(settings)
    options = device_options(devices)
    return html.Div(
        className="tester",
        style={
            "height": "100vh",
            "overflow": "auto",
            "padding": "1rem",
            "boxSizing": "border-box",
            "display": "grid",
            "gridTemplateColumns": "minmax(22rem, 1fr) 2fr",
            "gap": "1rem",
            "alignContent": "start",
        },
        children=[
            dcc.Interval(id="tester-tick", interval=REFRESH_MS),
            html.H1("测试台 Tester console", style={"gridColumn": "1 / -1", "margin": 0}),
            html.Div(
                style=PANEL,
                children=[
                    html.H2("注入事件 Inject an incident", style={"marginTop": 0}),
                    html.Label("设备 Device (list, or click one on the map)"),
                    dcc.Graph(
                        id="tester-map",
                        figure=device_map(devices),
                        config={"displayModeBar": False},
                    ),
                    html.Div(
                        [
                            html.Span(id="tester-here", style={"opacity": 0.8}),
                            html.Button(
                                "全部设备 all devices",
                                id="tester-all-devices",
                                n_clicks=0,
                                style={"marginLeft": "0.5rem"},
                            ),
                        ],
                        style=field,
                    ),
                    dcc.Dropdown(
                        id="tester-device",
                        options=options,  # type: ignore[arg-type]
                        placeholder="选择设备 pick a device",
                        style={**field, "color": "#111"},
                    ),
                    html.Label("事件 Incident"),
                    dcc.Dropdown(id="tester-incident", style={**field, "color": "#111"}),
                    html.Label("楼层 Floor (drop an object)"),
                    dcc.Input(
                        id="tester-floor", type="number", min=1, max=60, value=8, style=number
                    ),
                    html.Label("离线秒数 Offline for (scene s)"),
                    dcc.Input(id="tester-offline-s", type="number", min=1, value=30, style=number),
                    html.Button("注入 Inject", id="tester-inject", n_clicks=0),
                    html.Div(id="tester-sent", style={"marginTop": "0.5rem", "opacity": 0.8}),
                    html.H2("场景 Scenarios"),
                    dcc.Dropdown(id="tester-scenario", style={**field, "color": "#111"}),
                    html.Button("开始 Start", id="tester-start", n_clicks=0),
                    html.Button(
                        "停止 Stop", id="tester-stop", n_clicks=0, style={"marginLeft": "0.5rem"}
                    ),
                ],
            ),
            html.Div(
                style=PANEL,
                children=[
                    html.H2("运行 Running", style={"marginTop": 0}),
                    html.Div(id="tester-running"),
                    html.Div(id="tester-error", style={"color": "#ff6b6b"}),
                    html.H2("注入与告警 Injections and their alerts"),
                    html.Div(id="tester-injections"),
                    html.H2("上次场景 Last scenario"),
                    html.Pre(id="tester-last", style={"whiteSpace": "pre-wrap"}),
                ],
            ),
        ],
    )


def _alert_label(alert_type: str) -> str:
    zh, en = ALERT_TYPE_LABELS.get(alert_type, (alert_type, alert_type))
    return f"{zh} {en}"


def _injection_rows(injections: list[dict[str, Any]]) -> html.Table:
    header = html.Tr(
        [html.Th(h) for h in ("场景时间 scene t", "设备 device", "事件 incident", "告警 alerts")]
    )
    rows = [header]
    for injection in injections:
        alerts = [
            html.Div(
                f"{_alert_label(a['type'])} on {a['device']}: {a['latency_s']:.1f} s"
                + (
                    f" (pipeline {a['pipeline_ms']} ms)" if a.get("pipeline_ms") is not None else ""
                ),
                className="tester-alert",
                **{"data-type": a["type"]},
            )
            for a in injection["alerts"]
        ]
        alerts += [
            html.Div(
                f"{STATUS_LABELS.get(st['event'], st['event'])} on {st['device']}: "
                f"{st['latency_s']:.1f} s",
                className="tester-alert",
                **{"data-type": f"status:{st['event']}"},
            )
            for st in injection.get("statuses", [])
        ]
        rows.append(
            html.Tr(
                id=f"tester-injection-{injection['id']}",
                className="tester-injection",
                **{"data-device": injection["device"]},
                children=[
                    html.Td(f"{injection['at']:.1f} s"),
                    html.Td(injection["device"]),
                    html.Td(injection["incident"]),
                    html.Td(alerts or "等待 waiting…"),
                ],
            )
        )
    return html.Table(rows, style={"width": "100%", "textAlign": "left"})


def register_callbacks(app: Dash, queries: DashboardQueries, settings: Settings) -> None:
    lock = threading.Lock()

    def link() -> SimulatorLink:
        with lock:
            found = app.server.extensions.get("gridwatch_simulator_link")
            if found is None:
                found = app.server.extensions["gridwatch_simulator_link"] = SimulatorLink(settings)
            return found  # type: ignore[no-any-return]

    devices = playable_devices(settings)

    @app.callback(
        Output("tester-device", "value"),
        Output("tester-device", "options"),
        Output("tester-here", "children"),
        Input("tester-map", "clickData"),
        Input("tester-all-devices", "n_clicks"),
        prevent_initial_call=True,
    )
    def picked_on_map(click: dict[str, Any] | None, _all: int) -> tuple[Any, ...]:
        from dash import ctx

        points = (click or {}).get("points") or []
        if ctx.triggered_id == "tester-all-devices" or not points:
            return no_update, device_options(devices), ""
        point = points[0]
        here = devices_near(devices, float(point["x"]), float(point["y"]))
        value = point.get("customdata")
        if not here:
            return value, no_update, ""
        return value, device_options(here), f"此处 {len(here)} 台设备 {len(here)} device(s) here"

    @app.callback(Output("tester-incident", "options"), Input("tester-device", "value"))
    def incidents_for(device: str | None) -> list[dict[str, str]]:
        kind = (device or "|").split("|")[0]
        return [
            {"label": label, "value": name}
            for label, name, kinds in INCIDENTS
            if kinds is None or kind in kinds
        ]

    @app.callback(
        Output("tester-sent", "children"),
        Input("tester-inject", "n_clicks"),
        Input("tester-start", "n_clicks"),
        Input("tester-stop", "n_clicks"),
        State("tester-device", "value"),
        State("tester-incident", "value"),
        State("tester-floor", "value"),
        State("tester-offline-s", "value"),
        State("tester-scenario", "value"),
        prevent_initial_call=True,
    )
    def send(
        _inject: int,
        _start: int,
        _stop: int,
        device: str | None,
        incident: str | None,
        floor: int | None,
        offline_s: float | None,
        scenario: str | None,
    ) -> str:
        from dash import ctx

        if ctx.triggered_id == "tester-stop":
            link().send({"action": "stop"})
            return "已停止 stop sent"
        if ctx.triggered_id == "tester-start":
            if not scenario:
                return "先选择场景 pick a scenario first"
            link().send({"action": "start", "scenario": scenario})
            return f"开始 {scenario} start sent"
        if not device or not incident:
            return "先选择设备和事件 pick a device and an incident first"
        request: dict[str, Any] = {
            "action": "inject",
            "device": device.split("|", 1)[1],
            "incident": incident,
        }
        if incident == "drop_object":
            request["floor"] = int(floor or 1)
        if incident == "enter_person":
            request["carrying"] = "bicycle"
        if incident == "device_offline":
            request["for_s"] = float(offline_s or 30)
        link().send(request)
        return f"{time.strftime('%H:%M:%S')} 已发送 sent: {incident} → {request['device']}"

    @app.callback(
        Output("tester-running", "children"),
        Output("tester-error", "children"),
        Output("tester-injections", "children"),
        Output("tester-last", "children"),
        Output("tester-scenario", "options"),
        Input("tester-tick", "n_intervals"),
    )
    def refresh(_n: int | None) -> tuple[Any, ...]:
        state = link().state
        if state is None:
            return (
                "没有连接到模拟器 no tester simulator: run `gridwatch simulate serve`",
                "",
                "",
                "",
                no_update,
            )
        running = state.get("running")
        if running:
            total = f"/{running['duration_s']:.0f}" if running.get("duration_s") else ""
            text = (
                f"{running['name']}: scene {running['scene_t']:.0f}{total} s, "
                f"{running['frames']} frames, {running['readings']} readings, "
                f"{len(running['devices'])} devices"
            )
        else:
            text = "空闲 idle"
        last = state.get("last_scenario")
        return (
            text,
            state.get("error", ""),
            _injection_rows(state.get("injections", [])),
            "\n".join(last["lines"]) if last else "",
            [{"label": name, "value": name} for name in state.get("scenarios", [])],
        )


PAGE = Page(
    path="/tester",
    title="GridWatch 测试台",
    layout=layout,
    register_callbacks=register_callbacks,
)
