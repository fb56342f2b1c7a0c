"""Simulated devices under the site's real access rules: each logs in as itself with the
password derived from the site secret, publishes on its own topics only, answers commands,
and drops offline (the broker sends its last will) and comes back.

A Mosquitto of its own runs deploy/mosquitto.conf with the files `gridwatch site mqtt-acl`
writes; anonymous clients and a shared gateway login would be refused there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gridwatch.broker import SECRET_ENV, SERVICE_USER, derive_password
from gridwatch.broker.mosquitto import mosquitto_binary, start_site_broker
from gridwatch.frames import encode_frame
from gridwatch.settings import PROJECT_ROOT, Settings, load_settings
from gridwatch.site import Site, load_site
from gridwatch.topics import MessageKind, device_topic
from simulators.mqtt_devices import DeviceConnection, SensorGateway
from simulators.player import ScenarioPlayer, sim_devices
from simulators.scenario import parse_scenario
from tests.helpers import Recorder, wait_for

pytestmark = pytest.mark.skipif(mosquitto_binary() is None, reason="mosquitto is not installed")

SECRET = "simulated-devices-secret-0123456789"
CAMERA, SOCKET = "fl-010101-1", "sock-020102-1-01"


@pytest.fixture(scope="module")
def site() -> Site:
    return load_site(PROJECT_ROOT / "site" / "demo")


@pytest.fixture(scope="module")
def secured(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings pointing at a Mosquitto that enforces the site's passwords and ACL."""
    folder = tmp_path_factory.mktemp("sim-acl-broker")
    broker = start_site_broker(site, SECRET.encode(), folder)
    port = broker.port
    try:
        yield load_settings(
            mqtt_host="127.0.0.1",
            mqtt_port=port,
            mqtt_protocol="5",
            site_id=site.id,
            # GridWatch's own login, which may read the whole site and send commands.
            mqtt_username=SERVICE_USER,
            mqtt_password=derive_password(SECRET.encode(), site.id, SERVICE_USER),
            data_dir=Path(folder),
        )
    finally:
        broker.stop()


@pytest.fixture
def secret_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)


def test_each_device_connects_as_itself_publishes_and_answers_commands(
    secured: Settings, site: Site, secret_in_env: None
) -> None:
    camera_device, socket_device = sim_devices(site, [CAMERA, SOCKET])
    gridwatch = Recorder(secured, f"gw/v1/{site.id}/#")
    obeyed: list[tuple[str, str]] = []
    camera = DeviceConnection(secured, camera_device)
    socket = DeviceConnection(
        secured,
        socket_device,
        lambda device, command: obeyed.append((device.id, command["command"])),
    )
    camera.publish_frame(b"\xff\xd8 not really a jpeg", 1.0, 1).wait_for_publish(5)
    socket.publish_telemetry(2.0, {"temperature_c": 31.5}).wait_for_publish(5)
    command = json.dumps({"id": "c1", "command": "power_off"})
    gridwatch.client.publish(socket.topic(MessageKind.CMD), command, qos=1)

    acks = wait_for(lambda: gridwatch.on(socket.topic(MessageKind.CMD_ACK)), 10, "the ack")
    assert json.loads(acks[0])["id"] == "c1"
    assert obeyed == [(SOCKET, "power_off")]
    telemetry = json.loads(gridwatch.on(socket.topic(MessageKind.TELEMETRY))[0])
    assert telemetry["values"] == {"temperature_c": 31.5} and telemetry["seq"] == 1
    assert gridwatch.on(camera.topic(MessageKind.FRAME)) == [
        encode_frame(b"\xff\xd8 not really a jpeg", 1.0, 1)
    ]
    assert [json.loads(p) for p in gridwatch.on(camera.topic(MessageKind.STATUS))] == [
        {"online": True}
    ]
    camera.close()
    socket.close()
    gridwatch.close()


def test_a_device_that_drops_offline_leaves_its_last_will_and_comes_back(
    secured: Settings, site: Site, secret_in_env: None
) -> None:
    [camera_device] = sim_devices(site, [CAMERA])
    status_topic = device_topic(
        secured.site_id, camera_device.grid_id, camera_device.id, MessageKind.STATUS
    )
    # Listening before the device connects: its "online" is not retained, and it leaves from
    # the device's network thread, so a later subscriber may or may not see it.
    gridwatch = Recorder(secured, status_topic)
    camera = DeviceConnection(secured, camera_device)
    wait_for(lambda: len(gridwatch.on(status_topic)) >= 1, 10, "online")
    camera.drop_offline()
    wait_for(lambda: len(gridwatch.on(status_topic)) >= 2, 10, "the last will")
    camera.come_back()
    wait_for(lambda: len(gridwatch.on(status_topic)) >= 3, 10, "online again")
    camera.close()
    wait_for(lambda: len(gridwatch.on(status_topic)) >= 4, 10, "the goodbye")
    assert [json.loads(p) for p in gridwatch.on(status_topic)] == [
        {"online": True},
        {"online": False, "reason": "connection lost"},
        {"online": True},
        {"online": False, "reason": "shut down"},
    ]
    gridwatch.close()


def test_a_scenario_plays_under_the_acl_with_a_device_flapping(
    secured: Settings, site: Site, secret_in_env: None
) -> None:
    scenario = parse_scenario(
        f"""
name: flapping under the ACL
speed: 10
duration_s: 8
devices: [{CAMERA}, {SOCKET}]
timeline:
  - {{at: 1, incident: pass_car, device: {CAMERA}}}
  - {{at: 2, incident: device_offline, device: {CAMERA}, for_s: 3}}
expect:
  - {{status: offline, device: {CAMERA}, within_s: 1}}
  - {{status: online, device: {CAMERA}, since_s: 5, within_s: 2}}
""",
        "flapping.yaml",
        site,
    )
    report = ScenarioPlayer(secured, site, scenario).run()
    assert report.passed, [o.line() for o in report.outcomes]
    assert report.frames > 0 and report.readings > 0


def test_without_its_password_a_device_is_refused(secured: Settings, site: Site) -> None:
    [camera_device] = sim_devices(site, [CAMERA])
    with pytest.raises(RuntimeError, match=f"could not connect.*as user '{CAMERA}'"):
        DeviceConnection(secured, camera_device)  # no site secret: no password


def test_a_shared_gateway_login_cannot_publish_for_its_sensors(
    secured: Settings, site: Site
) -> None:
    # GridWatch's own account stands in for a gateway: even it may not speak for a device.
    [socket_device] = sim_devices(site, [SOCKET])
    topic = f"gw/v1/{site.id}/{socket_device.grid_id}/{SOCKET}/telemetry"
    gridwatch = Recorder(secured, topic)
    gateway = SensorGateway(secured, [socket_device])
    gateway.publish(socket_device, 1.0, {"temperature_c": 30.0})
    gateway.close()
    with_secret = pytest.MonkeyPatch.context()
    with with_secret as env:
        env.setenv(SECRET_ENV, SECRET)
        socket = DeviceConnection(secured, socket_device)
    socket.publish_telemetry(2.0, {"temperature_c": 31.0})
    # One broker, one subscriber: had the gateway's reading got through, it would be first.
    wait_for(lambda: gridwatch.on(topic), 10, "the socket's own reading")
    socket.close()
    assert [json.loads(p)["values"] for p in gridwatch.on(topic)] == [{"temperature_c": 31.0}]
    gridwatch.close()
