"""Fire-lane occupancy: what a property manager relies on.

A car parked in the fire lane for longer than the dwell time raises one alert and clears it
when it leaves; cars and people passing, a short stop, clouds and dusk raise nothing. Frames
come from the synthetic camera through JPEG, as they would from a real one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np
import pytest

from detectors import Detection, create_detector
from detectors.elevator_ebike import ElevatorEbikeDetector
from detectors.fire_lane import FireLaneConfig, FireLaneDetector
from simulators.scenes.fire_lane import FireLaneScene, encode_jpeg

LANE = [[0.05, 0.52], [0.95, 0.52], [0.95, 0.80], [0.05, 0.80]]
UPRIGHT_LANE = [[0.3, 0.05], [0.55, 0.05], [0.6, 0.95], [0.35, 0.95]]
DWELL = 120.0
# While braking, the last fraction of a second of creeping is below what a camera can see.
EARLY = 1.0
LATE = 5.0


def watch(
    scene: FireLaneScene,
    seconds: float,
    fps: float,
    lane: list[list[float]] = LANE,
    **settings: Any,
) -> list[Detection]:
    """Everything the detector reports for `seconds` of the scene, frames sent as JPEG."""
    detector = create_detector("fire_lane_camera", {"zones": {"lane": lane}, **settings})
    assert detector is not None
    found = []
    for index in range(int(seconds * fps)):
        t = index / fps
        jpeg = np.frombuffer(encode_jpeg(scene.render(t)), np.uint8)
        found += detector.update(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), t)
    return found


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over the smaller of two (x, y, w, h) boxes."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(w, 0) * max(h, 0) / min(a[2] * a[3], b[2] * b[3])


@pytest.mark.parametrize(("lane", "seed"), [(LANE, 7), (UPRIGHT_LANE, 3)], ids=["level", "upright"])
def test_car_parked_in_fire_lane_for_two_minutes_alerts(lane: list[list[float]], seed: int) -> None:
    scene = FireLaneScene(lane, seed=seed)
    scene.park_car(10, 150)
    [(stopped, leaving)] = scene.parked_intervals()

    found = watch(scene, leaving + 30, fps=5, lane=lane)

    onsets = [d for d in found if not d.cleared]
    clears = [d for d in found if d.cleared]
    assert len(onsets) == 1 and len(clears) == 1
    onset, clear = onsets[0], clears[0]
    assert stopped + DWELL - EARLY <= onset.ts <= stopped + DWELL + LATE
    assert onset.type == "fire_lane_occupied" and onset.evidence == "snapshot"
    assert onset.details["zone"] == "lane"
    assert onset.details["dwell_seconds"] == pytest.approx(DWELL, abs=LATE)
    assert 0.5 <= onset.confidence <= 1.0
    [car] = [box for kind, box in scene.objects_at(onset.ts) if kind == "car"]
    [box] = onset.boxes
    assert overlap((box.x, box.y, box.w, box.h), car) > 0.8
    # Cleared once the car has driven off and the lane stayed free for clear_seconds (10).
    assert clear.track_id == onset.track_id
    assert leaving + 10 <= clear.ts <= leaving + 10 + LATE + 3
    assert clear.ts > onset.ts


def test_passing_cars_and_pedestrians_do_not_alert() -> None:
    scene = FireLaneScene(LANE, seed=11)
    for k in range(12):
        scene.pass_car(3 + 14 * k)
    for k in range(25):
        scene.pass_pedestrian(1 + 7 * k)
    scene.pass_pedestrian(30, path="along", offset=0.0, speed_px_s=12)  # a slow stroll

    assert watch(scene, 180, fps=4) == []


def test_car_stopping_for_one_minute_does_not_alert() -> None:
    scene = FireLaneScene(LANE, seed=12)
    scene.park_car(5, 60)

    assert watch(scene, 100, fps=4) == []


def test_pedestrian_walking_past_parked_car_does_not_restart_dwell() -> None:
    scene = FireLaneScene(LANE, seed=13)
    scene.park_car(5, 150, position=0.5)
    [(stopped, _)] = scene.parked_intervals()
    scene.pass_pedestrian(stopped + 40, path="along", offset=0.0)
    scene.pass_pedestrian(stopped + 80, path="across", offset=0.5)
    # The walkers really do cross the car in the picture.
    crossings = 0
    for t in np.arange(stopped, stopped + 110, 0.5):
        objects = scene.objects_at(float(t))
        cars = [box for kind, box in objects if kind == "car"]
        people = [box for kind, box in objects if kind == "person"]
        crossings += any(overlap(p, c) > 0.5 for p in people for c in cars)
    assert crossings >= 4

    onsets = [d for d in watch(scene, stopped + DWELL + 10, fps=5) if not d.cleared]

    assert len(onsets) == 1
    assert stopped + DWELL - EARLY <= onsets[0].ts <= stopped + DWELL + LATE


def test_sudden_cloud_and_dusk_do_not_alert() -> None:
    scene = FireLaneScene(LANE, seed=14)
    scene.set_lighting(20, 20.5, 0.5)  # a cloud in front of the sun
    scene.set_lighting(60, 61, 1.0)
    scene.set_lighting(80, 300, 0.3)  # dusk, compressed into a few minutes
    for k in range(8):
        scene.pass_car(10 + 35 * k)
        scene.pass_pedestrian(25 + 35 * k)

    assert watch(scene, 320, fps=2) == []


def test_car_parked_through_a_cloud_and_dusk_alerts_and_clears() -> None:
    scene = FireLaneScene(LANE, seed=15)
    scene.set_lighting(30, 30.5, 0.55)
    scene.set_lighting(70, 71, 1.0)
    scene.set_lighting(100, 400, 0.35)
    scene.park_car(20, 150)
    [(stopped, leaving)] = scene.parked_intervals()

    found = watch(scene, leaving + 30, fps=2)

    assert [d.cleared for d in found] == [False, True]
    assert stopped + DWELL - EARLY <= found[0].ts <= stopped + DWELL + LATE


def test_car_parked_before_the_camera_started_raises_nothing_when_it_leaves() -> None:
    scene = FireLaneScene(LANE, seed=16)
    scene.park_car(-60, 60)  # already standing at t=0, drives off a few seconds later
    scene.pass_car(80)

    assert watch(scene, 300, fps=2) == []


def test_single_frame_with_an_empty_scene_reference_is_judged_on_presence() -> None:
    scene = FireLaneScene(LANE, seed=17)
    scene.park_car(0, 100)
    [(stopped, _)] = scene.parked_intervals()
    config = {"zones": {"lane": LANE}, "dwell_seconds": 0, "background": scene.render(-100)}

    with_car = FireLaneDetector.from_config(config).update(scene.render(stopped + 5), 0.0)
    empty = FireLaneDetector.from_config(config).update(scene.render(-50), 0.0)

    assert [d.cleared for d in with_car] == [False]
    assert empty == []


def test_registry_picks_the_detector_by_device_kind() -> None:
    assert isinstance(
        create_detector("fire_lane_camera", {"zones": {"lane": LANE}}), FireLaneDetector
    )
    assert create_detector("smoke_detector", {}) is None
    assert create_detector("fire_door", {}) is None
    assert isinstance(create_detector("elevator_camera", {}), ElevatorEbikeDetector)


def test_device_keys_meant_for_others_are_left_alone() -> None:
    device_config = {
        "zones": {"lane": LANE},
        "alarm_device": "alarm-01",
        "fps": 5,
        "resolution": [640, 360],
        "dwell_seconds": 90,
    }
    detector = create_detector("fire_lane_camera", device_config)
    assert isinstance(detector, FireLaneDetector) and detector.config.dwell_seconds == 90


def test_defaults_are_documented_and_sensible() -> None:
    config = FireLaneConfig.from_mapping({"zones": {"lane": LANE}})
    assert config.dwell_seconds == 120 and config.clear_seconds == 10
    assert config.process_width == 320 and 0 < config.min_vehicle_area < 0.05


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({}, "zones"),
        ({"zones": {"entrance": LANE}}, "zones.lane"),
        ({"zones": {"lane": [[0.1, 0.1], [0.9, 0.1]]}}, "zones.lane"),
        ({"zones": {"lane": [[0.1, 0.1], [1.9, 0.1], [0.5, 0.9]]}}, "zones.lane"),
        ({"zones": {"lane": "everywhere"}}, "zones.lane"),
        ({"zones": {"lane": LANE}, "dwell_seconds": -5}, "dwell_seconds"),
        ({"zones": {"lane": LANE}, "clear_seconds": "ten"}, "clear_seconds"),
        ({"zones": {"lane": LANE}, "min_vehicle_area": 0.9}, "min_vehicle_area"),
        ({"zones": {"lane": LANE}, "process_width": 10}, "process_width"),
        ({"zones": {"lane": LANE}, "dwel_seconds": 60}, "dwel_seconds"),
    ],
)
def test_bad_config_is_refused_naming_the_field(config: Mapping[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        create_detector("fire_lane_camera", config)


def test_frames_of_any_size_work_and_bad_frames_are_refused() -> None:
    detector = FireLaneDetector.from_config({"zones": {"lane": LANE}})
    assert detector.update(np.zeros((720, 1280, 3), np.uint8), 0.0) == []
    assert detector.update(np.zeros((120, 160, 3), np.uint8), 1.0) == []
    with pytest.raises(ValueError, match="BGR uint8"):
        detector.update(np.zeros((120, 160), np.float32), 2.0)
