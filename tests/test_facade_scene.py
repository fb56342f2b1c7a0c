"""The synthetic facade camera: deterministic, floors where the config says, honest physics."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gridwatch.sitegen.devices import facade_camera_view
from simulators.scenes.facade import FacadeScene, schedule_random_incidents
from simulators.scenes.facade_layout import GRAVITY

W, H = 640, 480


def facade_view(floors: int, distance: float) -> tuple[list[dict[str, float]], list[list[float]]]:
    """Floor lines and facade polygon of a camera `distance` m from the wall, as a site survey
    would give them."""
    return facade_camera_view(floors, distance, 0.22, 0.78, 0.08)


TOWER = facade_view(32, 24.0)
SLAB = facade_view(12, 30.0)


def scene(seed: int, view: tuple = TOWER) -> FacadeScene:
    return FacadeScene(*view, seed=seed, width=W, height=H)


def busy_scene(seed: int) -> FacadeScene:
    s = scene(seed)
    s.drop_object(4.0, 14, size="large")
    s.bird(1.0)
    s.leaf_or_bag(2.0)
    s.person_on_balcony(0.5, 6, 30)
    s.light_switch(3.0, 10)
    s.rain(5.0, 8.0)
    return s


def unrolled_centre(s: FacadeScene, box: tuple[float, float, float, float]) -> tuple[float, float]:
    """Picture centre of a normalised box with the camera's slight roll taken out."""
    x, y, w, h = box
    turn = cv2.getRotationMatrix2D((W / 2, H / 2), -s.look.roll_deg, 1.0)
    cx, cy = turn @ [(x + w / 2) * W, (y + h / 2) * H, 1.0]
    return float(cx), float(cy)


def track(s: FacadeScene, label: str, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Times and unrolled centres of the one object with `label` in view at each time."""
    seen, centres = [], []
    for t in times:
        boxes = [box for kind, box in s.objects_at(float(t)) if kind == label]
        if boxes:
            assert len(boxes) == 1
            seen.append(t)
            centres.append(unrolled_centre(s, boxes[0]))
    return np.array(seen), np.array(centres)


def row_of_floor(view: tuple, floor: int) -> float:
    return next(line["y"] for line in view[0] if line["floor"] == floor) * H


def test_same_seed_and_timeline_give_identical_frames() -> None:
    first, second = busy_scene(3), busy_scene(3)
    for t in (0.0, 2.5, 4.6, 6.1, 20.0):
        assert np.array_equal(first.render(t), second.render(t))


def test_render_does_not_depend_on_the_order_of_calls() -> None:
    s = busy_scene(3)
    later = s.render(6.1)
    s.render(2.5)
    assert np.array_equal(s.render(6.1), later)


def test_different_seeds_give_different_scenes() -> None:
    a, b = scene(1).render(0), scene(2).render(0)
    assert np.mean(cv2.absdiff(a, b)) > 8


@pytest.mark.parametrize("floor", [5, 14, 27])
def test_dropped_object_falls_freely_from_its_floor(floor: int) -> None:
    s = scene(7)
    s.drop_object(10.0, floor)
    [(start, end, origin)] = s.falls()
    assert (start, origin) == (10.0, floor)
    times, centres = track(s, "falling_object", np.arange(start, end, 0.1))  # a 10 fps camera
    assert len(times) >= 8 and times[0] == start

    # It starts inside the stated floor: between that floor's line and the one above.
    assert row_of_floor(TOWER, floor + 1) < centres[0, 1] < row_of_floor(TOWER, floor)
    # Read through the floor lines, its height follows h0 - g t²/2.
    heights = s.geometry.h_at(centres[:, 1])
    curve = np.polyfit(times - start, heights, 2)
    assert -2 * curve[0] == pytest.approx(GRAVITY, rel=0.05)
    assert abs(curve[1]) < 0.5, "let go from rest"
    assert np.abs(np.polyval(curve, times - start) - heights).max() < 0.4
    # In the picture it only speeds up: each 0.3 s it covers more rows than in the last.
    steps = np.diff(centres[::3, 1])
    assert np.all(steps > 0) and np.all(np.diff(steps) > 0)
    assert abs(np.polyval(curve, end - start)) < 0.5, "it is in view until it hits the ground"


def test_a_fall_is_drawn_where_objects_at_says() -> None:
    quiet, falling = scene(11), scene(11)
    falling.drop_object(1.0, 20, size="large")
    for t in (1.5, 2.5, 3.0):
        [(_, (x, y, w, h))] = falling.objects_at(t)
        difference = cv2.absdiff(quiet.render(t), falling.render(t)).max(axis=2) > 25
        near = np.zeros((H, W), bool)
        # The box, and above it the short motion-blur streak along the path.
        near[int(y * H) - 30 : int((y + h) * H) + 3, int(x * W) - 3 : int((x + w) * W) + 3] = True
        inside = difference[int(y * H) : int((y + h) * H) + 1, int(x * W) : int((x + w) * W) + 1]
        assert inside.any(), f"the object shows at t={t}"
        assert not (difference & ~near).any(), f"and nothing else changes at t={t}"


def test_leaves_and_bags_sink_far_slower_than_free_fall() -> None:
    for seed in range(6):
        s = scene(20 + seed)
        s.leaf_or_bag(0.0)
        [(label, _)] = s.objects_at(0.0)
        times, centres = track(s, label, np.arange(0.0, 12.0, 0.5))
        assert len(times) >= 10
        heights = s.geometry.h_at(centres[:, 1])
        sink = -np.polyfit(times, heights, 1)[0]
        assert 0.2 < sink < 2.5, f"{label} sinks at {sink:.1f} m/s"
        dropped = 0.5 * GRAVITY * times[-1] ** 2
        assert heights[0] - heights[-1] < dropped / 10


def test_birds_fly_across_and_do_not_fall() -> None:
    for seed in range(6):
        s = scene(40 + seed)
        s.bird(0.0)
        [(start, end)] = [(m.t_start, m.t_end) for m in s._movers]
        times, centres = track(s, "bird", np.arange(start, end, 0.1))
        across = abs(centres[-1, 0] - centres[0, 0])
        assert across > 0.8 * W, "it crosses the picture"
        assert abs(centres[-1, 1] - centres[0, 1]) < 0.3 * across
        acceleration = 2 * np.polyfit(times, centres[:, 1], 2)[0]
        assert abs(acceleration) < 25, f"no free fall (px/s²: {acceleration:.0f})"


@pytest.mark.parametrize("view", [TOWER, SLAB], ids=["tower", "slab"])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_floors_are_drawn_at_the_floor_lines(view: tuple, seed: int) -> None:
    s = scene(seed, view)
    assert s.look.mode != "night", "at night the lit windows outshine the floor slabs"
    grey = cv2.cvtColor(s.render(0), cv2.COLOR_BGR2GRAY).astype(float)
    # Rows averaged over the middle of the facade, where the camera's roll moves nothing much.
    profile = grey[:, int(W * 0.4) : int(W * 0.6)].mean(axis=1)
    step = np.abs(np.diff(profile))  # step[i] is the edge between rows i and i + 1
    rows = [line["y"] * H for line in view[0]]
    checked = 0
    for below, here, above in zip(rows, rows[1:], rows[2:], strict=False):
        if below - here < 6:
            continue  # floors a few pixels tall: every row is an edge
        lo, hi = int(round((here + above) / 2)), int(round((here + below) / 2))
        strongest = lo + int(np.argmax(step[lo:hi]))
        assert abs(strongest + 1 - here) <= 1.5, (
            f"floor edge at {strongest + 1}, line at {here:.1f}"
        )
        checked += 1
    assert checked >= 6


def test_light_switch_changes_one_window_on_that_floor() -> None:
    dark, switched = scene(5), scene(5)
    switched.light_switch(10.0, 8)
    assert np.array_equal(dark.render(9.9), switched.render(9.9))
    changed = np.argwhere(cv2.absdiff(dark.render(10.1), switched.render(10.1)).max(axis=2) > 5)
    assert len(changed) > 3
    ys = changed[:, 0]
    assert ys.min() >= row_of_floor(TOWER, 9) - 2 and ys.max() <= row_of_floor(TOWER, 8) + 2
    assert np.ptp(changed[:, 1]) < 0.1 * W, "one window, not a whole floor"


def test_person_on_balcony_stays_for_the_given_time_on_that_floor() -> None:
    s = scene(6)
    s.person_on_balcony(5.0, 3, 40.0)
    assert not s.objects_at(4.0) and not s.objects_at(46.0)
    [(label, (x, y, w, h))] = s.objects_at(25.0)
    assert label == "person"
    assert row_of_floor(TOWER, 4) - 2 <= y * H and (y + h) * H <= row_of_floor(TOWER, 3) + 2


def test_rain_and_lighting_change_the_picture() -> None:
    s = scene(8)
    s.rain(10, 20)
    s.set_lighting(30, 31, 0.5)
    clear, wet = s.render(5).astype(float), s.render(15).astype(float)
    assert np.mean(np.abs(wet - clear)) > 5
    dim = s.render(40).astype(float)
    assert np.median(dim / np.maximum(clear, 1)) == pytest.approx(0.5, abs=0.08)


def test_random_incidents_drop_something_every_few_minutes() -> None:
    s = scene(2)
    schedule_random_incidents(s, seed=2, duration_s=3600, first_drop_at=30)
    falls = s.falls()
    assert falls[0][0] == 30
    gaps = np.diff([start for start, _, _ in falls])
    assert len(falls) >= 6 and gaps.min() >= 120 and gaps.max() <= 600
    assert all(2 <= floor <= 32 for _, _, floor in falls)
    seen = [kind for t in range(0, 3600, 3) for kind, _ in s.objects_at(t)]
    assert seen.count("bird") >= 10
    assert seen.count("leaf") + seen.count("plastic_bag") >= 10
    assert seen.count("person") >= 10


def test_bad_config_and_requests_are_refused() -> None:
    lines, polygon = TOWER
    with pytest.raises(ValueError, match="floor lines must go up"):
        FacadeScene(lines[::-1], polygon, seed=1)
    with pytest.raises(ValueError, match="at least 2 floor lines"):
        FacadeScene(lines[:1], polygon, seed=1)
    with pytest.raises(ValueError, match="facade"):
        FacadeScene(lines, [[0.1, 0.1], [0.9, 0.1]], seed=1)
    s = scene(1)
    with pytest.raises(ValueError, match="floor 40 is not in view"):
        s.drop_object(1.0, 40)
    with pytest.raises(ValueError, match="size"):
        s.drop_object(1.0, 4, size="huge")
    with pytest.raises(ValueError, match="not on the facade"):
        s.drop_object(1.0, 4, x=0.02)
