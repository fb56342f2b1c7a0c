"""The synthetic charging-shed camera: deterministic, with fires that look and behave like fire
and distractors that only look like it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from simulators.scenes.charging_shed import ChargingShedScene, schedule_random_incidents

FIRE_AT = 20.0


def busy_scene(seed: int) -> ChargingShedScene:
    scene = ChargingShedScene(seed=seed)
    scene.sunlight(0, 60)
    scene.person_in_red(5)
    scene.wheel_out_with_tail_light(10, 4)
    scene.start_fire(FIRE_AT, 1)
    return scene


def around_socket(scene: ChargingShedScene, socket: int) -> tuple[slice, slice]:
    """Pixels of the charging place, widened sideways and upwards where flames reach."""
    x, y, w, h = scene.socket_box(socket)
    x0, x1 = int((x - 0.3 * w) * scene.width), int((x + 1.3 * w) * scene.width)
    y0, y1 = int((y - 0.6 * h) * scene.height), int((y + h) * scene.height)
    return slice(max(y0, 0), y1), slice(max(x0, 0), x1)


def flame_coloured(frame: np.ndarray) -> np.ndarray:
    """Bright orange-yellow pixels (high red, medium green, low blue): what a colour-only fire
    detector would flag. Red mixed with grey (red clothes, a red lamp) keeps green near blue."""
    b, g, r = (frame[..., k].astype(int) for k in range(3))
    return (r >= 200) & (g >= 90) & (g <= 235) & (b <= 140) & (g - b >= 40) & (r - g >= 20)


def test_same_seed_and_timeline_give_identical_frames() -> None:
    first, second = busy_scene(3), busy_scene(3)
    for t in (0.0, 7.3, 16.0, 21.2, 80.0):
        assert np.array_equal(first.render(t), second.render(t))


def test_render_does_not_depend_on_the_order_of_calls() -> None:
    scene = busy_scene(3)
    later = scene.render(61.4)
    scene.render(12.3)
    scene.render(25.0)
    assert np.array_equal(scene.render(61.4), later)


def test_different_seeds_give_different_scenes() -> None:
    a, b = busy_scene(1).render(3), busy_scene(2).render(3)
    assert np.mean(cv2.absdiff(a, b)) > 8


def test_fire_at_a_socket_grows_flame_coloured_pixels_around_it() -> None:
    scene = ChargingShedScene(seed=7)
    scene.start_fire(FIRE_AT, 2)
    region = around_socket(scene, 2)

    def flame_pixels(t: float) -> int:
        return int(flame_coloured(scene.render(t))[region].sum())

    before = flame_pixels(FIRE_AT - 1)
    # Average a few frames: a single frame may catch the flame low.
    early, middle, grown = (
        np.mean([flame_pixels(t + k * 0.2) for k in range(5)]) - before
        for t in (FIRE_AT + 3, FIRE_AT + 15, FIRE_AT + 60)
    )
    assert early > 30, "a small flame shows within seconds"
    assert early < middle < grown, "and grows over tens of seconds"
    assert grown > 4 * early
    everywhere = flame_coloured(scene.render(FIRE_AT + 60)).sum()
    assert flame_coloured(scene.render(FIRE_AT + 60))[region].sum() > 0.9 * everywhere


def test_flame_flickers_from_frame_to_frame_at_5_fps() -> None:
    scene = ChargingShedScene(seed=8)
    scene.start_fire(0, 0)
    region = around_socket(scene, 0)
    masks = [flame_coloured(scene.render(40 + k * 0.2))[region] for k in range(6)]
    counts = [int(m.sum()) for m in masks]
    assert min(counts) > 100
    for a, b in zip(masks, masks[1:], strict=False):
        changed = (a ^ b).sum() / max((a | b).sum(), 1)
        assert changed > 0.15, "consecutive frames show a different flame"
    assert max(counts) > 1.12 * min(counts), "its size flickers too"


def test_extinguished_fire_dies_down_and_is_reported() -> None:
    scene = ChargingShedScene(seed=9)
    scene.start_fire(10, 3)
    scene.extinguish(70)
    assert scene.fires() == [(10, 70, 3)]
    region = around_socket(scene, 3)
    before = flame_coloured(scene.render(9))[region].sum()
    burning = flame_coloured(scene.render(69))[region].sum() - before
    out = flame_coloured(scene.render(80))[region].sum() - before
    assert burning > 500 and out < 0.02 * burning
    with pytest.raises(ValueError, match="no fire is burning"):
        scene.extinguish(100)


def test_smoke_only_fire_lowers_contrast_and_saturation_above_its_socket() -> None:
    scene = ChargingShedScene(seed=11)
    scene.start_fire(FIRE_AT, 3, smoke_only=True)
    x, y, w, h = scene.socket_box(3)
    above = (
        slice(0, int((y + 0.5 * h) * scene.height)),
        slice(int((x - 0.5 * w) * scene.width), int((x + 1.5 * w) * scene.width)),
    )

    def contrast_and_saturation(t: float) -> tuple[float, float]:
        frame = scene.render(t)[above]
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(float)
        hsv = cv2.cvtColor(frame, cv2.COLOR_BGR2HSV)
        return float(grey.std()), float(hsv[..., 1].mean())

    contrast, saturation = zip(
        *(contrast_and_saturation(t) for t in (FIRE_AT - 1, FIRE_AT + 20, FIRE_AT + 90)),
        strict=True,
    )
    assert contrast[0] > contrast[1] > contrast[2]
    assert contrast[2] < 0.75 * contrast[0]
    assert saturation[0] > saturation[1] > saturation[2]
    assert (
        flame_coloured(scene.render(FIRE_AT + 90)).sum()
        <= flame_coloured(scene.render(FIRE_AT - 1)).sum() + 20
    ), "smoke only: no flame"
    assert scene.fires() == [(FIRE_AT, float("inf"), 3)]


def test_red_clothes_and_tail_lights_are_not_fires() -> None:
    calm = ChargingShedScene(seed=5)
    first = calm.render(0)
    # Wheel out a bike that is not the orange one, which is flame-coloured wherever it goes.
    socket = min(
        range(calm.sockets), key=lambda s: flame_coloured(first[around_socket(calm, s)]).sum()
    )
    scene = ChargingShedScene(seed=5)
    scene.person_in_red(2)
    scene.wheel_out_with_tail_light(3, socket)
    seen = set()
    for t in np.arange(2, 30, 0.5):
        seen |= {label for label, _ in scene.objects_at(float(t))}
        added = (
            flame_coloured(scene.render(float(t))).sum()
            - flame_coloured(calm.render(float(t))).sum()
        )
        assert added < 40, "red clothes and a red tail light are red, not flame-coloured"
    assert {"person", "tail_light", "bike"} <= seen
    assert not {"flame", "smoke"} & seen
    assert scene.fires() == []


def test_bikes_leave_and_arrive_at_their_socket() -> None:
    scene = ChargingShedScene(seed=6)
    scene.take_bike(5, 0)
    scene.park_bike(60, 0)
    x, y, w, h = scene.socket_box(0)

    def bikes_at_socket(t: float) -> int:
        return sum(
            1
            for label, (bx, by, bw, bh) in scene.objects_at(t)
            if label == "bike" and x <= bx + bw / 2 <= x + w and by + bh > y + 0.6 * h
        )

    assert bikes_at_socket(1) == 1
    assert bikes_at_socket(45) == 0
    assert bikes_at_socket(120) == 1
    with pytest.raises(ValueError, match="socket 0"):
        scene.park_bike(130, 0)


def test_socket_boxes_are_side_by_side_inside_the_frame() -> None:
    scene = ChargingShedScene(seed=4, sockets=6)
    boxes = [scene.socket_box(i) for i in range(6)]
    assert all(0 <= x and x + w <= 1 and 0 <= y and y + h <= 1 for x, y, w, h in boxes)
    centres = [x + w / 2 for x, _, w, _ in boxes]
    assert centres == sorted(centres)
    with pytest.raises(ValueError, match="sockets 0..5"):
        scene.start_fire(1, 6)


def test_lamps_switch_on_at_dusk() -> None:
    scene = ChargingShedScene(seed=2)
    scene.set_lighting(10, 20, 0.3)
    day, dusk = scene.render(5).astype(float), scene.render(30).astype(float)
    assert dusk.mean() < 0.75 * day.mean()
    x, y, w, h = scene.socket_box(2)
    floor = slice(int((y + h) * scene.height), None), slice(0, int((x + w) * scene.width))
    assert dusk[floor].mean() > 0.45 * day[floor].mean(), "the lamps light the floor"


def test_random_incidents_honour_first_fire_and_its_duration() -> None:
    scene = ChargingShedScene(seed=12)
    schedule_random_incidents(
        scene, seed=12, duration_s=3600, fire_every_s=900, first_fire_at=30, fire_lasts_s=150
    )
    fires = scene.fires()
    assert fires[0][0] == 30
    assert len(fires) >= 3
    assert all(end - start == pytest.approx(150) for start, end, _ in fires)
    assert all(b[0] >= a[1] for a, b in zip(fires, fires[1:], strict=False))
    seen = [label for t in range(0, 3600, 10) for label, _ in scene.objects_at(t)]
    assert seen.count("person") > 10 and seen.count("flame") >= 10 and seen.count("smoke") > 20


def test_random_incidents_without_a_first_fire_time_still_burn_now_and_then() -> None:
    scene = ChargingShedScene(seed=13)
    schedule_random_incidents(scene, seed=13, duration_s=7200)
    fires = scene.fires()
    assert 5 <= len(fires) <= 10
    assert all(end - start == pytest.approx(120) for start, end, _ in fires)
