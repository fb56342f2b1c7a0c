"""The whole path with the real broker and database: a car parks in a fire lane → alert with
evidence → work order for the worker on duty → alarm command to the camera → on the big screen.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from dashboard.screenshot import CHROMEDRIVER, CHROMIUM, chromium_driver
from dispatch.service import run_dispatch
from gridwatch import db
from gridwatch.settings import Settings
from gridwatch.site import Site, load_site, store_site
from ingest.service import IngestService
from simulators.demo import fire_lane_scene
from simulators.mqtt_devices import SensorGateway, SimDevice
from simulators.runner import play_scene
from simulators.scenes.charging_shed import ChargingShedScene
from simulators.scenes.facade import FacadeScene
from simulators.sensors import SensorModel
from tests.helpers import Recorder, serve_dashboard, wait_for

FPS = 5.0


@pytest.fixture(scope="module")
def site(settings: Settings, database_url: str) -> Site:
    model = load_site(settings.site_dir).model_copy(update={"id": settings.site_id})
    with db.connection(database_url) as conn:
        store_site(conn, model)
    return model


@pytest.fixture(scope="module")
def running_system(site: Site, settings: Settings) -> Iterator[IngestService]:
    ingest = IngestService(settings)
    ingest.start()
    ingest.wait_connected()
    stop = threading.Event()
    dispatch = threading.Thread(target=run_dispatch, args=(settings, stop), daemon=True)
    dispatch.start()
    yield ingest
    stop.set()
    dispatch.join(timeout=10)
    ingest.stop()


def _camera(site: Site, index: int) -> SimDevice:
    cameras = [d for d in site.devices if d.kind == "fire_lane_camera"]
    device = cameras[index]
    return SimDevice(device.id, device.grid_id, str(device.kind), device.config.model_dump())


def _alerts(conn: psycopg.Connection, device_id: str) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT * FROM alerts WHERE device_id = %s ORDER BY id", (device_id,)
    ).fetchall()


def test_a_car_parked_in_the_fire_lane_runs_through_the_whole_loop(
    running_system: IngestService, site: Site, settings: Settings, conn: psycopg.Connection
) -> None:
    camera = _camera(site, 0)
    alarm = camera.config["alarm_device"]
    cmd_topic = f"gw/v1/{settings.site_id}/{camera.grid_id}/{camera.id}/cmd"
    alert_topic = f"gw/v1/{settings.site_id}/alerts/{camera.grid_id}/fire_lane_occupied"
    recorder = Recorder(settings, cmd_topic, alert_topic)

    scene = fire_lane_scene(camera, seed=11)
    scene.pass_car(3.0)
    scene.pass_pedestrian(8.0)
    scene.park_car(15.0, stay_s=150.0)
    parked_from, leaves_at = scene.parked_intervals()[0]
    # Play on until the car has gone and the lane has been free for the clear time.
    connection = play_scene(settings, camera, scene, until_s=leaves_at + 40.0, fps=FPS)

    alert = wait_for(
        lambda: (rows := _alerts(conn, camera.id)) and rows[-1]["state"] == "cleared" and rows[-1],
        timeout_s=30,
        what="the alert to be raised and cleared",
    )
    assert len(_alerts(conn, camera.id)) == 1, "one parked car, one alert"
    assert alert["type"] == "fire_lane_occupied"
    assert alert["grid_id"] == camera.grid_id
    assert alert["severity"] == "major"
    assert alert["details"]["dwell_seconds"] >= 120.0

    # Evidence: a snapshot file whose SHA-256 is stored with the alert.
    snapshot = settings.evidence_dir() / alert["snapshot_path"]
    assert snapshot.read_bytes()[:2] == b"\xff\xd8"
    assert hashlib.sha256(snapshot.read_bytes()).hexdigest() == alert["snapshot_sha256"]

    # The work order went to the worker on duty in that grid, and closed itself when the car
    # left before anyone accepted it.
    order = wait_for(
        lambda: conn.execute(
            "SELECT * FROM work_orders WHERE alert_id = %s AND state = 'closed'", (alert["id"],)
        ).fetchone(),
        what="the work order to close",
    )
    assert order["assignee_id"] == site.on_duty(camera.grid_id, order["created_at"])
    assert order["assignee_id"] is not None
    states = [
        r["to_state"]
        for r in conn.execute(
            "SELECT to_state FROM work_order_events WHERE work_order_id = %s ORDER BY id",
            (order["id"],),
        )
    ]
    assert states == ["reported", "dispatched", "closed"]

    # The camera was told to switch its alarm on, then off, and acknowledged both.
    commands = [json.loads(p) for p in recorder.on(cmd_topic)]
    assert [(c["command"], c["params"]["alarm_device"]) for c in commands] == [
        ("alarm_on", alarm),
        ("alarm_off", alarm),
    ]
    assert [c["command"] for c in connection.commands] == ["alarm_on", "alarm_off"]
    wait_for(
        lambda: conn.execute(
            "SELECT bool_and(acked_at IS NOT NULL) AS acked FROM device_commands"
            " WHERE alert_id = %s",
            (alert["id"],),
        ).fetchone()["acked"],
        what="both commands acknowledged",
    )

    # Subscribers saw the alert raised and cleared on the alert topic.
    events = [json.loads(p)["event"] for p in recorder.on(alert_topic)]
    assert events == ["raised", "cleared"]
    connection.close()
    recorder.close()


def test_cars_and_people_that_only_pass_raise_nothing(
    running_system: IngestService, site: Site, settings: Settings, conn: psycopg.Connection
) -> None:
    camera = _camera(site, 1)
    scene = fire_lane_scene(camera, seed=12)
    for k in range(12):
        scene.pass_car(5.0 + 15.0 * k)
        scene.pass_pedestrian(9.0 + 15.0 * k)
    counters = running_system.frames.counters
    accounted_before = counters.processed + counters.dropped
    play_scene(settings, camera, scene, until_s=200.0, fps=FPS).close()
    # Every frame is either run through the detector or dropped (and counted) when it lags.
    wait_for(
        lambda: counters.processed + counters.dropped - accounted_before >= 200 * FPS,
        what="every frame processed or counted as dropped",
    )
    assert _alerts(conn, camera.id) == []


def test_an_overheating_socket_alerts_and_has_its_power_cut(
    running_system: IngestService, site: Site, settings: Settings, conn: psycopg.Connection
) -> None:
    device = next(d for d in site.devices if d.kind == "charging_socket")
    socket = SimDevice(device.id, device.grid_id, str(device.kind), device.config.model_dump())
    model = SensorModel("charging_socket", seed=4, fault_from=60.0)
    gateway = SensorGateway(settings, [socket])
    start = time.time() - 900.0  # readings from the last quarter of an hour, 10 s apart

    def send(scene_from: float, scene_to: float) -> None:
        for t in range(int(scene_from), int(scene_to), 10):
            gateway.publish(socket, start + t, model.reading(float(t)))

    send(0, 260)  # heats from 60 s; past 70 °C for 30 s well before 260 s
    wait_for(lambda: gateway.commands, what="a command to the socket")
    assert gateway.commands[0][0] == socket.id
    assert gateway.commands[0][1]["command"] == "power_off"
    alert = _alerts(conn, socket.id)[-1]
    assert (alert["type"], alert["severity"], alert["state"]) == (
        "socket_overheat",
        "critical",
        "active",
    )
    assert alert["details"]["value"] > 70

    model.power_off(260.0)
    send(260, 900)  # no current, cooling down: the alert clears
    wait_for(lambda: _alerts(conn, socket.id)[-1]["state"] == "cleared", what="the alert clears")
    order = wait_for(
        lambda: conn.execute(
            "SELECT * FROM work_orders WHERE alert_id = %s", (alert["id"],)
        ).fetchone(),
        what="a work order",
    )
    # Unlike a fire lane, a socket that overheated needs someone to look at it.
    assert order["state"] == "dispatched"
    assert len(gateway.commands) == 1, "power is never switched back on by itself"
    gateway.close()


def test_an_object_dropped_from_the_12th_floor_alerts_with_its_floor(
    running_system: IngestService, site: Site, settings: Settings, conn: psycopg.Connection
) -> None:
    camera = next(d for d in site.devices if d.kind == "facade_camera")
    device = SimDevice(camera.id, camera.grid_id, str(camera.kind), camera.config.model_dump())
    scene = FacadeScene(device.config["floor_lines"], device.config["zones"]["facade"], seed=21)
    scene.bird(1.0)
    scene.drop_object(3.0, floor=12)
    play_scene(settings, device, scene, until_s=9.0, fps=10.0, speed=5.0).close()

    alert = wait_for(lambda: _alerts(conn, device.id), what="the falling-object alert")[0]
    assert (alert["type"], alert["severity"]) == ("falling_object", "critical")
    assert abs(alert["details"]["floor"] - 12) <= 1
    trajectory = alert["details"]["trajectory"]
    assert len(trajectory) >= 4
    assert [y for _, _, y in trajectory] == sorted(y for _, _, y in trajectory), "it falls"
    assert len(_alerts(conn, device.id)) == 1, "the bird raised nothing"


def test_a_fire_in_a_charging_shed_alerts_and_cuts_the_sockets_power(
    running_system: IngestService, site: Site, settings: Settings, conn: psycopg.Connection
) -> None:
    camera = next(d for d in site.devices if d.kind == "shed_camera")
    device = SimDevice(camera.id, camera.grid_id, str(camera.kind), camera.config.model_dump())
    socket_ids = device.config["sockets"]
    sockets = [SimDevice(s.id, s.grid_id, str(s.kind)) for s in map(site.device, socket_ids)]
    gateway = SensorGateway(settings, sockets)
    scene = ChargingShedScene(seed=31, sockets=len(socket_ids))
    scene.person_in_red(2.0)
    scene.start_fire(10.0, socket=2)
    play_scene(settings, device, scene, until_s=22.0, fps=5.0, speed=4.0).close()

    alert = wait_for(lambda: _alerts(conn, device.id), what="the shed-fire alert")[0]
    assert (alert["type"], alert["severity"]) == ("shed_fire", "critical")
    wait_for(lambda: gateway.commands, what="power cut commands")
    cut = {
        device_id for device_id, command in gateway.commands if command["command"] == "power_off"
    }
    assert socket_ids[2] in cut, "the burning socket loses power"
    assert cut <= set(socket_ids)
    gateway.close()


@pytest.mark.browser
@pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason=f"needs {CHROMIUM} and {CHROMEDRIVER}"
)
def test_the_alert_is_listed_on_the_big_screen(
    running_system: IngestService, site: Site, settings: Settings, conn: psycopg.Connection
) -> None:
    camera = _camera(site, 2)
    scene = fire_lane_scene(camera, seed=13)
    scene.park_car(5.0, stay_s=1000.0)
    play_scene(settings, camera, scene, until_s=140.0, fps=FPS).close()
    alert = wait_for(lambda: _alerts(conn, camera.id), timeout_s=30, what="the alert")[0]
    assert alert["state"] == "active"
    started = datetime.now(UTC)
    with serve_dashboard(settings.model_copy(update={"dashboard_refresh_ms": 500})) as url:
        driver = chromium_driver(1920, 1080)
        try:
            driver.get(url)
            text = wait_for(
                lambda: driver.execute_script(
                    "const el = document.querySelector(`[data-alert-id='${arguments[0]}']`);"
                    "return el && el.innerText;",
                    alert["id"],
                ),
                timeout_s=30,
                what="the alert on the page",
            )
        finally:
            driver.quit()
    assert "消防通道占用" in text
    assert (datetime.now(UTC) - started).total_seconds() < 30
