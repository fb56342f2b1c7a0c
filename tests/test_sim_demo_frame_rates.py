"""The demo's frame-rate cap (`gridwatch up` runs it at 2 fps to spare the CPU) must not take
a camera below what its feed needs: a fall lasts a few seconds, and at 2 fps the e-bike
detector mistook a bicycle for an e-bike."""

from __future__ import annotations

from gridwatch.settings import load_settings
from simulators.runner import feed_fps, site_devices

UP_MAX_FPS = 2.0  # what `gridwatch up` passes to `gridwatch simulate devices --max-fps`


def test_under_the_demo_cap_elevator_and_facade_cameras_keep_five_frames_a_second() -> None:
    cameras = [d for d in site_devices(load_settings()) if d.kind.endswith("_camera")]
    rates = {d.id: (d.kind, feed_fps(d, UP_MAX_FPS)) for d in cameras}
    by_kind: dict[str, set[float]] = {}
    for kind, fps in rates.values():
        by_kind.setdefault(kind, set()).add(fps)
    assert by_kind["elevator_camera"] == {5.0}
    assert min(by_kind["facade_camera"]) >= 5.0
    assert by_kind["fire_lane_camera"] == {2.0}, "the cap still spares the CPU elsewhere"
    assert by_kind["shed_camera"] == {2.0}


def test_without_a_cap_every_camera_plays_at_its_configured_rate() -> None:
    for device in site_devices(load_settings()):
        if device.kind.endswith("_camera"):
            assert feed_fps(device, None) == float(device.config.get("fps", 5)), device.id
