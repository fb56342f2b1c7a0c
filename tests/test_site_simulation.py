"""The demo's simulated feed: every camera has a scene, incidents come early and keep coming."""

from __future__ import annotations

from typing import Any

import pytest

from gridwatch.settings import load_settings
from simulators.demo import demo_camera_scenes, demo_sensors
from simulators.mqtt_devices import SimDevice
from simulators.runner import site_devices

HOUR = 3600.0


@pytest.fixture(scope="module")
def devices() -> list[SimDevice]:
    return site_devices(load_settings())


@pytest.fixture(scope="module")
def scenes(devices: list[SimDevice]) -> list[tuple[SimDevice, Any]]:
    return demo_camera_scenes(devices, seed=1, horizon_s=HOUR)


def test_every_camera_of_the_demo_site_has_a_scene(
    devices: list[SimDevice], scenes: list[tuple[SimDevice, Any]]
) -> None:
    cameras = {d.id for d in devices if d.kind.endswith("_camera")}
    assert {device.id for device, _ in scenes} == cameras
    for device, scene in scenes[::7]:
        frame = scene.render(12.0)
        assert frame.ndim == 3 and frame.dtype.name == "uint8", device.id


def test_the_first_car_parks_within_seconds_and_cameras_take_turns(
    scenes: list[tuple[SimDevice, Any]],
) -> None:
    lanes = [scene for device, scene in scenes if device.kind == "fire_lane_camera"]
    assert len(lanes) >= 40
    first_parkings = [scene.parked_intervals()[0][0] for scene in lanes]
    # The first alert on the big screen comes one dwell time (120 s) after the first parking.
    assert min(first_parkings) < 30.0
    assert first_parkings == sorted(first_parkings), "cameras start one after another"
    for scene in lanes[:3]:
        stops = scene.parked_intervals()
        assert len(stops) >= 4, "incidents keep coming, not just one"
        assert all(leave - stop > 120.0 for stop, leave in stops), "each stays past the dwell"


def test_the_same_seed_gives_the_same_scenes(devices: list[SimDevice]) -> None:
    lane_cameras = [d for d in devices if d.kind == "fire_lane_camera"][:2]
    one, two = (demo_camera_scenes(lane_cameras, seed=5, horizon_s=HOUR) for _ in range(2))
    (_, scene_a), (_, scene_b) = one[0], two[0]
    assert scene_a.parked_intervals() == scene_b.parked_intervals()
    assert (scene_a.render(31.0) == scene_b.render(31.0)).all()


def test_charging_sockets_overheat_one_after_another(devices: list[SimDevice]) -> None:
    sensors = demo_sensors(devices, seed=1)
    faults = [model.fault_from for device, model in sensors if device.kind == "charging_socket"]
    assert len(faults) >= 10 and faults == sorted(faults)
    first = next(m for d, m in sensors if d.kind == "charging_socket" and m.fault_from == faults[0])
    assert first.reading(faults[0] + 150)["temperature_c"] > 70, "hot enough to alert"
    assert all(m.fault_from is None for d, m in sensors if d.kind != "charging_socket")


def test_a_sheds_smoke_detector_reads_smoke_while_its_camera_shows_fire(
    devices: list[SimDevice], scenes: list[tuple[SimDevice, Any]]
) -> None:
    sensors = demo_sensors(devices, seed=1, scenes=scenes)
    shed, scene = next((d, s) for d, s in scenes if d.kind == "shed_camera")
    start, _, _ = scene.fires()[0]
    detector = next(m for d, m in sensors if d.id == shed.config["smoke_detector"])
    assert detector.reading(start - 10)["obscuration_pct"] < 1.0
    assert detector.reading(start + 40)["obscuration_pct"] > 3.0, "past the alarm level"
