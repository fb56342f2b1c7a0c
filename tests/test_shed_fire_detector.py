"""The charging-shed fire detector on the simulated shed camera, at 5 frames per second."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from detectors.base import Detection
from detectors.shed_fire import ShedFireConfig, ShedFireDetector
from simulators.scenes.charging_shed import ChargingShedScene

FPS = 5.0


def _watch(scene: ChargingShedScene, until: float, **config: object) -> list[Detection]:
    boxes = [list(scene.socket_box(s)) for s in range(scene.sockets)]
    detector = ShedFireDetector.from_config({"socket_boxes": boxes, **config})
    found: list[Detection] = []
    for ts in np.arange(0.0, until, 1 / FPS):
        found += detector.update(scene.render(float(ts)), float(ts))
    return found


def test_a_burning_ebike_alerts_within_seconds_and_names_its_socket() -> None:
    scene = ChargingShedScene(seed=501)
    scene.start_fire(12.0, 3)
    found = _watch(scene, 22.0)
    assert len(found) == 1
    onset = found[0]
    assert onset.type == "shed_fire" and not onset.cleared
    assert 12.0 + 2.0 <= onset.ts <= 12.0 + 6.0
    assert onset.details["kind"] == "flame"
    assert onset.details["socket"] == 3
    assert onset.evidence == "clip"
    x, y, w, h = scene.socket_box(3)
    box = onset.boxes[0]
    assert x <= box.x + box.w / 2 <= x + w


def test_a_smouldering_battery_alerts_on_its_smoke() -> None:
    scene = ChargingShedScene(seed=502)
    scene.start_fire(12.0, 1, smoke_only=True)
    found = _watch(scene, 32.0)
    assert [d.details["kind"] for d in found] == ["smoke"]
    assert 12.0 < found[0].ts <= 32.0


def test_red_clothes_tail_lights_and_sunlight_do_not_alert() -> None:
    scene = ChargingShedScene(seed=503)
    scene.person_in_red(3.0)
    scene.person_in_red(16.0)
    scene.wheel_out_with_tail_light(6.0, 1)
    scene.sunlight(4.0, 60.0)
    assert _watch(scene, 36.0) == []


def _orange_share(scene: ChargingShedScene, socket: int) -> float:
    """Share of a charging place's pixels that are vivid orange in the first frame."""
    x, y, w, h = scene.socket_box(socket)
    frame = scene.render(0.0)
    rows = slice(int(y * scene.height), int((y + h) * scene.height))
    cols = slice(int(x * scene.width), int((x + w) * scene.width))
    hsv = cv2.cvtColor(frame[rows, cols], cv2.COLOR_BGR2HSV)
    orange = (hsv[..., 0] >= 8) & (hsv[..., 0] <= 22) & (hsv[..., 1] > 150) & (hsv[..., 2] > 150)
    return float(np.count_nonzero(orange)) / orange.size


def test_an_orange_ebike_wheeled_out_with_its_tail_light_on_does_not_alert() -> None:
    # An orange bike is fire-coloured and new in the picture while it is backed out and turned,
    # and people walking past keep changing its pixels: it used to be taken for a flame here
    # (about 17 s in). Seed 611 parks the scene's orange bike at socket 1.
    scene = ChargingShedScene(seed=611, sockets=6)
    assert _orange_share(scene, 1) > 0.05
    scene.wheel_out_with_tail_light(4.0, 1)
    scene.walk_through(6.0)
    scene.person_in_red(9.0)
    assert _watch(scene, 30.0) == []


def test_a_fire_beside_an_orange_ebike_being_wheeled_out_still_alerts() -> None:
    scene = ChargingShedScene(seed=611, sockets=6)
    scene.wheel_out_with_tail_light(4.0, 1)
    scene.walk_through(6.0)
    scene.start_fire(8.0, 4)
    found = _watch(scene, 16.0)
    assert [(d.details["kind"], d.details["socket"]) for d in found] == [("flame", 4)]
    assert 8.0 + 2.0 <= found[0].ts <= 8.0 + 6.0


def test_dusk_with_the_lamps_coming_on_does_not_alert() -> None:
    scene = ChargingShedScene(seed=504)
    scene.set_lighting(6.0, 20.0, 0.3)
    scene.walk_through(10.0)
    assert _watch(scene, 30.0) == []


def test_the_alert_clears_once_nothing_burns_for_clear_seconds() -> None:
    # A fire seen, then a camera that only sees the empty shed again (as after it is put out
    # and the smoke has gone): one onset, then one clear after clear_seconds.
    scene = ChargingShedScene(seed=505)
    scene.start_fire(8.0, 0)
    detector = ShedFireDetector.from_config({"clear_seconds": 5})
    found: list[Detection] = []
    for ts in np.arange(0.0, 16.0, 1 / FPS):
        found += detector.update(scene.render(float(ts)), float(ts))
    calm = ChargingShedScene(seed=505).render(0.0)
    for ts in np.arange(16.0, 30.0, 1 / FPS):
        found += detector.update(calm, float(ts))
    assert [d.cleared for d in found] == [False, True]
    assert found[0].track_id == found[1].track_id
    assert 16.0 + 5.0 <= found[1].ts <= 16.0 + 9.0


def test_config_has_defaults_ignores_other_keys_and_names_a_bad_field() -> None:
    config = ShedFireConfig.from_mapping({"fps": 5, "alarm": "siren"})
    assert 2.0 <= config.min_seconds <= 3.0 and config.socket_boxes == ()
    with pytest.raises(ValueError, match="min_seconds"):
        ShedFireConfig.from_mapping({"min_seconds": -1})
    with pytest.raises(ValueError, match=r"socket_boxes\[1\]"):
        ShedFireConfig.from_mapping({"socket_boxes": [[0.1, 0.1, 0.2, 0.3], [0.5, 0.5, 2, 0.1]]})
    with pytest.raises(ValueError, match="BGR uint8"):
        ShedFireDetector(config).update(np.zeros((4, 4), np.float32), 0.0)
