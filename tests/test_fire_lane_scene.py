"""The synthetic fire-lane camera: deterministic, and drawn where the site config says."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from simulators.scenes.fire_lane import FireLaneScene, encode_jpeg, schedule_random_incidents

LANE = [[0.05, 0.52], [0.95, 0.52], [0.95, 0.80], [0.05, 0.80]]
SLANTED_LANE = [[0.1, 0.2], [0.9, 0.5], [0.85, 0.7], [0.05, 0.4]]


def busy_scene(seed: int, lane: list[list[float]] = LANE) -> FireLaneScene:
    scene = FireLaneScene(lane, seed=seed)
    scene.park_car(5, 60)
    scene.pass_car(80)
    scene.pass_pedestrian(2, path="across")
    scene.pass_pedestrian(10, path="along")
    return scene


def yellow_paint(frame: np.ndarray) -> np.ndarray:
    hsv = cv2.cvtColor(frame, cv2.COLOR_BGR2HSV)
    return cv2.inRange(hsv, (18, 110, 110), (35, 255, 255)) > 0


def test_same_seed_and_timeline_give_identical_frames() -> None:
    first, second = busy_scene(3), busy_scene(3)
    for t in (0.0, 12.3, 40.0, 83.5):
        assert np.array_equal(first.render(t), second.render(t))


def test_render_does_not_depend_on_the_order_of_calls() -> None:
    scene = busy_scene(3)
    later = scene.render(83.5)
    scene.render(12.3)
    assert np.array_equal(scene.render(83.5), later)


def test_different_seeds_give_different_scenes() -> None:
    a, b = busy_scene(1).render(30), busy_scene(2).render(30)
    assert np.mean(cv2.absdiff(a, b)) > 5


@pytest.mark.parametrize("lane", [LANE, SLANTED_LANE], ids=["level", "slanted"])
def test_lane_markings_are_drawn_where_the_polygon_says(lane: list[list[float]]) -> None:
    scene = FireLaneScene(lane, seed=5)
    frame = scene.render(0)
    h, w = frame.shape[:2]
    inside = np.zeros((h, w), np.uint8)
    corners = np.round(np.array(lane) * [w - 1, h - 1]).astype(np.int32)
    cv2.fillPoly(inside, [corners], 255)
    near = cv2.dilate(inside, np.ones((7, 7), np.uint8)) > 0
    paint = yellow_paint(frame)
    assert paint.sum() > 0.03 * (inside > 0).sum(), "the lane carries yellow markings"
    assert paint[near].sum() >= 0.97 * paint.sum(), "and yellow paint only on the lane"
    edge = (
        cv2.dilate(inside, np.ones((5, 5), np.uint8)) - cv2.erode(inside, np.ones((5, 5), np.uint8))
    ) > 0
    assert paint[edge].mean() > 0.3, "the lane's outline is painted"


def test_parked_car_stands_inside_the_lane_during_its_interval() -> None:
    scene = FireLaneScene(LANE, seed=9)
    scene.park_car(10, 50)
    [(stopped, leaving)] = scene.parked_intervals()
    assert stopped > 10 and leaving == pytest.approx(stopped + 50)
    cars = [box for kind, box in scene.objects_at((stopped + leaving) / 2) if kind == "car"]
    assert len(cars) == 1
    x, y, w, h = cars[0]
    assert 0.05 <= x and x + w <= 0.95 and 0.52 <= y and y + h <= 0.80
    assert 0.15 <= w <= 0.25, "a moderate car, 15-25% of the frame width"
    # Standing still: the picture of the car does not move while it is parked.
    x0, y0, x1, y1 = int(x * 640), int(y * 360), int((x + w) * 640), int((y + h) * 360)
    early, late = scene.render(stopped + 1), scene.render(leaving - 1)
    assert np.mean(cv2.absdiff(early[y0:y1, x0:x1], late[y0:y1, x0:x1])) < 6
    assert not [kind for kind, _ in scene.objects_at(leaving + 30) if kind == "car"]


def test_lighting_changes_the_whole_picture() -> None:
    scene = FireLaneScene(LANE, seed=4)
    scene.set_lighting(10, 11, 0.5)
    bright, dark = scene.render(5).astype(float), scene.render(20).astype(float)
    assert np.median(dark / np.maximum(bright, 1)) == pytest.approx(0.5, abs=0.08)


def test_random_incidents_include_long_parking_and_traffic() -> None:
    scene = FireLaneScene(LANE, seed=2)
    schedule_random_incidents(scene, seed=2, duration_s=900)
    parked = scene.parked_intervals()
    assert len(parked) >= 3
    assert all(end - start > 120 for start, end in parked)
    seen = [kind for t in range(0, 900, 5) for kind, _ in scene.objects_at(t)]
    assert seen.count("person") > 20 and seen.count("car") > 60


def test_frames_encode_as_jpeg() -> None:
    frame = busy_scene(1).render(30)
    data = encode_jpeg(frame, quality=80)
    assert data[:2] == b"\xff\xd8"
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (360, 640, 3)
    assert np.mean(cv2.absdiff(decoded, frame)) < 4


def test_bad_lane_polygon_is_refused() -> None:
    with pytest.raises(ValueError, match="lane"):
        FireLaneScene([[0.1, 0.1], [0.9, 0.1]], seed=1)
    with pytest.raises(ValueError, match="0..1"):
        FireLaneScene([[0.1, 0.1], [1.5, 0.1], [0.5, 0.9]], seed=1)
