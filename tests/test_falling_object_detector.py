"""Objects falling from a building: what a property manager relies on.

Something dropped from a floor raises one alert naming the floor it came from, and clears it
once it has reached the ground; birds, leaves and bags, people on balconies, windows lighting
up and rain raise nothing, by day or by night; a small can in daytime rain and an unlit
bottle at night are still seen. Frames come from the synthetic facade camera.
"""

from __future__ import annotations

from typing import Any

import pytest

from detectors.base import Detection
from detectors.falling_object import FallingObjectConfig, FallingObjectDetector
from simulators.scenes.facade import FacadeScene

# A 32-storey tower seen from the ground, as in the demo site's facade cameras.
FLOOR_LINES = [
    {"floor": f, "y": y}
    for f, y in enumerate(
        [0.971, 0.861, 0.769, 0.691, 0.625, 0.567, 0.516, 0.471, 0.431, 0.395, 0.362]
        + [0.333, 0.307, 0.282, 0.26, 0.239, 0.22, 0.203, 0.186, 0.171, 0.157, 0.144]
        + [0.131, 0.119, 0.108, 0.098, 0.088, 0.079, 0.07, 0.062, 0.054, 0.046],
        start=1,
    )
]
FACADE = [[0.205, 0.971], [0.803, 0.971], [0.699, 0.039], [0.309, 0.039]]
CAMERA: dict[str, Any] = {
    "building_id": "b-1",
    "floor_lines": FLOOR_LINES,
    "zones": {"facade": FACADE},
    "fps": 10,
}


def watch(scene: FacadeScene, seconds: float, fps: float) -> list[Detection]:
    detector = FallingObjectDetector.from_config(CAMERA)
    found = []
    for index in range(int(seconds * fps)):
        t = index / fps
        found += detector.update(scene.render(t), t)
    return found


@pytest.mark.parametrize("fps", [10.0, 5.0])
def test_bottle_dropped_from_the_12th_floor_alerts_with_its_floor(fps: float) -> None:
    scene = FacadeScene(FLOOR_LINES, FACADE, seed=8)
    scene.drop_object(1.0, 12, size="medium")
    [(released, landed, _)] = scene.falls()

    found = watch(scene, landed + 1.5, fps)

    onset, clear = found
    assert onset.type == clear.type == "falling_object"
    assert not onset.cleared and clear.cleared and onset.track_id == clear.track_id
    assert released < onset.ts <= landed and onset.ts < clear.ts <= landed + 1.5
    assert onset.details["floor"] == 12
    assert 9.81 * 0.7 < onset.details["g_estimate"] < 9.81 * 1.3
    assert onset.evidence == "clip"
    trajectory = onset.details["trajectory"]
    assert len(trajectory) >= 4
    assert all(0 <= x <= 1 and 0 <= y <= 1 for _, x, y in trajectory)
    assert trajectory[-1][2] > trajectory[0][2]  # downwards in the picture


def test_rubbish_bag_from_the_top_floors_alerts_once() -> None:
    scene = FacadeScene(FLOOR_LINES, FACADE, seed=2)
    scene.drop_object(1.0, 27, size="large")
    [(_, landed, _)] = scene.falls()

    found = watch(scene, landed + 1.5, 10.0)

    assert [d.cleared for d in found] == [False, True]
    assert abs(found[0].details["floor"] - 27) <= 1


def test_can_dropped_in_daytime_rain_alerts() -> None:
    # Streaks fill every frame; the can is two pixels across at the working width.
    scene = FacadeScene(FLOOR_LINES, FACADE, seed=6)
    assert scene.look.mode == "day"
    scene.drop_object(1.0, 14, size="small")
    scene.rain(0.0, 10.0)
    [(released, landed, _)] = scene.falls()

    found = watch(scene, landed + 1.5, 10.0)

    assert [d.cleared for d in found] == [False, True]
    assert released < found[0].ts <= landed
    assert abs(found[0].details["floor"] - 14) <= 1


def test_unlit_bottle_dropped_at_night_alerts() -> None:
    # Against the dark wall the bottle is a few grey levels off the background.
    scene = FacadeScene(FLOOR_LINES, FACADE, seed=9)
    assert scene.look.mode == "night"
    scene.drop_object(1.0, 9, size="medium")
    [(released, landed, _)] = scene.falls()

    found = watch(scene, landed + 1.5, 10.0)

    assert [d.cleared for d in found] == [False, True]
    assert released < found[0].ts <= landed
    assert found[0].details["floor"] == 9


def add_look_alikes(scene: FacadeScene) -> None:
    """Birds, a leaf and a bag, a person on a balcony and two windows lighting up."""
    for t in (0.5, 2.0, 4.0):
        scene.bird(t)
    for t in (0.2, 1.5):
        scene.leaf_or_bag(t)
    scene.person_on_balcony(0.5, 6, 4.0)
    scene.light_switch(2.5, 10)
    scene.light_switch(3.5, 18)


def test_rain_at_night_with_birds_and_lights_does_not_alert() -> None:
    scene = FacadeScene(FLOOR_LINES, FACADE, seed=9)
    add_look_alikes(scene)
    scene.rain(0.0, 8.0)

    assert watch(scene, 8.0, 10.0) == []


def test_birds_leaves_and_rain_do_not_alert() -> None:
    scene = FacadeScene(FLOOR_LINES, FACADE, seed=5)
    add_look_alikes(scene)
    scene.rain(4.0, 8.0)
    scene.set_lighting(4.0, 6.0, 0.8)

    assert watch(scene, 8.0, 10.0) == []


def test_site_config_is_accepted_and_mistakes_name_the_field() -> None:
    config = FallingObjectConfig.from_mapping({**CAMERA, "min_track_points": 5.0})
    assert config.min_track_points == 5 and config.facade is not None

    with pytest.raises(ValueError, match="floor_lines"):
        FallingObjectDetector.from_config({"zones": {"facade": FACADE}})
    with pytest.raises(ValueError, match="floor_lines"):
        FallingObjectDetector.from_config({"floor_lines": FLOOR_LINES[:1]})
    with pytest.raises(ValueError, match="higher floors"):
        FallingObjectDetector.from_config(
            {"floor_lines": [{"floor": 1, "y": 0.5}, {"floor": 2, "y": 0.6}]}
        )
    with pytest.raises(ValueError, match="gravity_tolerance"):
        FallingObjectDetector.from_config({**CAMERA, "gravity_tolerance": 2.0})
