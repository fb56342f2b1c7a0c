"""The demo's simulated feed: incidents come early and keep coming, spread over the cameras."""

from gridwatch.settings import load_settings
from simulators.runner import demo_camera_scenes, demo_sensors, site_devices

HOUR = 3600.0


def test_the_first_car_parks_within_seconds_and_cameras_take_turns() -> None:
    scenes = demo_camera_scenes(site_devices(load_settings()), seed=1, horizon_s=HOUR)
    assert len(scenes) >= 40
    first_parkings = [scene.parked_intervals()[0][0] for _, scene in scenes]
    # The first alert on the big screen comes one dwell time (120 s) after the first parking.
    assert min(first_parkings) < 30.0
    assert first_parkings == sorted(first_parkings), "cameras start one after another"
    for _, scene in scenes[:3]:
        stops = scene.parked_intervals()
        assert len(stops) >= 4, "incidents keep coming, not just one"
        assert all(leave - stop > 120.0 for stop, leave in stops), "each stays past the dwell"


def test_the_same_seed_gives_the_same_scenes() -> None:
    devices = site_devices(load_settings())[:60]
    one, two = (demo_camera_scenes(devices, seed=5, horizon_s=HOUR) for _ in range(2))
    (_, scene_a), (_, scene_b) = one[0], two[0]
    assert scene_a.parked_intervals() == scene_b.parked_intervals()
    assert (scene_a.render(31.0) == scene_b.render(31.0)).all()


def test_charging_sockets_overheat_one_after_another() -> None:
    sensors = demo_sensors(site_devices(load_settings()), seed=1)
    faults = [model.fault_from for device, model in sensors if device.kind == "charging_socket"]
    assert len(faults) >= 10 and faults == sorted(faults)
    first = next(m for d, m in sensors if d.kind == "charging_socket" and m.fault_from == faults[0])
    assert first.reading(faults[0] + 150)["temperature_c"] > 70, "hot enough to alert"
    assert all(m.fault_from is None for d, m in sensors if d.kind != "charging_socket")
