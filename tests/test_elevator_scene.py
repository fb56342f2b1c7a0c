"""The synthetic elevator-car camera: deterministic, with e-bikes where the timeline says."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from simulators.scenes.elevator import DISTRACTORS, ElevatorScene, schedule_random_incidents

W, H = 640, 480


def box_pixels(box: tuple[float, float, float, float]) -> tuple[slice, slice]:
    x, y, w, h = box
    return slice(int(y * H), int((y + h) * H) + 1), slice(int(x * W), int((x + w) * W) + 1)


def busy_scene(seed: int) -> ElevatorScene:
    scene = ElevatorScene(seed=seed)
    scene.enter_person(2, 20)
    scene.carry_in_ebike(40, 30)
    scene.enter_person(90, 15, carrying="stroller")
    scene.set_lighting(60, 60.05, 0.4)
    scene.set_lighting(60.2, 60.25, 1.0)
    return scene


def test_same_seed_and_timeline_give_identical_frames() -> None:
    first, second = busy_scene(3), busy_scene(3)
    for t in (0.0, 3.1, 41.7, 55.0, 60.1, 95.5):
        assert np.array_equal(first.render(t), second.render(t))


def test_render_does_not_depend_on_the_order_of_calls() -> None:
    scene = busy_scene(3)
    later = scene.render(55.0)
    scene.render(3.1)
    scene.render(95.5)
    assert np.array_equal(scene.render(55.0), later)


def test_different_seeds_give_different_cars() -> None:
    a, b = ElevatorScene(seed=1).render(0), ElevatorScene(seed=2).render(0)
    assert a.shape == b.shape == (H, W, 3) and a.dtype == np.uint8
    assert np.mean(cv2.absdiff(a, b)) > 5


def test_ebike_wheeled_in_is_inside_for_its_ride_and_seen_where_reported() -> None:
    scene = ElevatorScene(seed=11)
    empty = scene.render(1)
    scene.carry_in_ebike(10, 30)
    [(inside, leaving)] = scene.ebike_intervals()
    assert 10 < inside < 16, "wheeled through the door within a few seconds"
    assert leaving - inside > 30, "inside for the whole ride"
    middle = (inside + leaving) / 2
    labels = [label for label, _ in scene.objects_at(middle)]
    assert sorted(labels) == ["ebike", "person"]
    [box] = [box for label, box in scene.objects_at(middle) if label == "ebike"]
    x, y, w, h = box
    assert 0 <= x and 0 <= y and x + w <= 1 and y + h <= 1
    assert w * h > 0.02, "an e-bike fills a good part of a car camera's view"
    rows, cols = box_pixels(box)
    frame = scene.render(middle)
    assert np.mean(cv2.absdiff(frame[rows, cols], empty[rows, cols])) > 15
    assert not scene.objects_at(leaving + 15), "gone again after the ride"
    assert not [lab for lab, _ in scene.objects_at(inside - 6) if lab == "ebike"]


@pytest.mark.parametrize("carrying", DISTRACTORS)
def test_bicycles_strollers_wheelchairs_and_trolleys_are_not_ebikes(carrying: str) -> None:
    scene = ElevatorScene(seed=21)
    scene.enter_person(5, 30, carrying=carrying)
    assert scene.ebike_intervals() == []
    labels = {label for label, _ in scene.objects_at(25)}
    assert labels == {carrying, "person"}


def test_doors_open_when_someone_enters_and_close_behind_them() -> None:
    scene = ElevatorScene(seed=5)
    assert scene.door_open_fraction(10) == 0.0
    closed = scene.render(9.9)
    scene.enter_person(10, 30)
    assert scene.door_open_fraction(0) == 0.0
    assert scene.door_open_fraction(10) == 1.0
    assert scene.door_open_fraction(25) == 0.0, "closed while the car travels"
    assert scene.door_open_fraction(10 + 30 + 2) > 0.0, "open again to let them out"
    assert not scene.objects_at(9.9), "nobody in view before the ride starts"
    changed = cv2.absdiff(scene.render(9.9), closed).max(axis=2) > 30
    assert changed.mean() > 0.01, "the landing shows through the open door"


def test_lights_dimming_darkens_the_whole_picture() -> None:
    scene = ElevatorScene(seed=4)
    scene.set_lighting(10, 11, 0.5)
    bright, dark = scene.render(5).astype(float), scene.render(20).astype(float)
    assert np.median(dark / np.maximum(bright, 1)) == pytest.approx(0.5, abs=0.08)


def test_a_random_day_brings_an_ebike_every_few_minutes_among_other_riders() -> None:
    scene = ElevatorScene(seed=2)
    schedule_random_incidents(scene, seed=2, duration_s=1800)
    rides = scene.ebike_intervals()
    assert 4 <= len(rides) <= 8
    starts = [start for start, _ in rides]
    assert all(120 < b - a < 500 for a, b in zip(starts, starts[1:], strict=False))
    assert all(18 < end - start < 65 for start, end in rides)
    seen = [label for t in range(0, 1800, 4) for label, _ in scene.objects_at(t)]
    assert seen.count("person") > 80
    assert any(label in DISTRACTORS for label in seen), "now and then something else"
    inside = [t for t in range(0, 1800, 4) if any(a <= t <= b for a, b in rides)]
    assert all("ebike" in {lab for lab, _ in scene.objects_at(t)} for t in inside)


def test_first_ebike_comes_when_asked() -> None:
    scene = ElevatorScene(seed=8)
    schedule_random_incidents(scene, seed=8, duration_s=900, ebike_every_s=240, first_ebike_at=30)
    first_start, _ = scene.ebike_intervals()[0]
    assert 30 < first_start < 40


def test_unknown_cargo_is_refused() -> None:
    with pytest.raises(ValueError, match="carrying"):
        ElevatorScene(seed=1).enter_person(0, 10, carrying="sofa")
