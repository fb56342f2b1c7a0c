"""What happens in each clip of a labelled dataset: one short script per camera kind.

A script takes a random generator and returns a `ClipPlan`: the scene with its timeline, how
long to film it, and the labels (positive or not, the event times from the renderer's own
ground truth, the zones and settings a detector needs for that camera). Positives show the
incident among everyday distractions; negatives show only the distractions, chosen to look
as much like the incident as the scene allows. Everything is drawn from the generator, so the
same generator state gives the same clip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from gridwatch.sitegen.devices import facade_camera_view
from simulators.scenes import charging_shed, elevator, facade, fire_lane

FIRE_LANE_DWELL_S = 20.0  # far shorter than a real site's 120 s, so clips stay short
FIRE_LANE_CLEAR_S = 5.0
CLEAR_SCAN_STEP_S = 0.5
MIN_DROP_FLOOR = 3
# 4:3 cameras. The detectors work on frames downscaled to about 320 px wide, so larger
# renders cost time without changing what they see; 480 px keeps JPEG blocks small.
CAMERA_SIZES = [(640, 480), (480, 360)]


class Scene(Protocol):
    def render(self, t: float) -> np.ndarray: ...

    def objects_at(self, t: float) -> list[tuple[str, tuple[float, float, float, float]]]: ...


@dataclass
class ClipPlan:
    """A scene to film for `seconds` at `fps`, and how the clip is labelled."""

    scene: Scene
    seconds: float
    fps: float
    positive: bool
    scenario: str  # a word or two on what happens, for people reading the manifest
    events: list[tuple[float, float]] = field(default_factory=list)
    zones: dict[str, list[list[float]]] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A clip is a whole number of frames; an event still going on when it ends, ends there.
        self.seconds = self.frames / self.fps
        self.events = [(start, min(end, self.seconds)) for start, end in self.events]

    @property
    def frames(self) -> int:
        return int(round(self.seconds * self.fps))


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31 - 1))


def _size(rng: np.random.Generator, sizes: list[tuple[int, int]]) -> tuple[int, int]:
    return sizes[int(rng.integers(len(sizes)))]


def _vary_light(scene: Any, rng: np.random.Generator, seconds: float) -> None:
    """A different brightness per clip, and now and then a passing cloud or falling dusk."""
    # Set before the first frame: a step at t=0 would show in frame 0 of some renderers only.
    scene.set_lighting(-1.0, -1.0, float(rng.uniform(0.75, 1.15)))
    weather = rng.random()
    if weather < 0.35:
        t = float(rng.uniform(0.2, 0.7)) * seconds
        base = scene.gain(t)
        scene.set_lighting(t, t + float(rng.uniform(2, 5)), base * float(rng.uniform(0.8, 0.92)))
        back = t + float(rng.uniform(6, 12))
        scene.set_lighting(back, back + float(rng.uniform(2, 5)), base)
    elif weather < 0.55:
        scene.set_lighting(1.0, seconds, scene.gain(0.0) * float(rng.uniform(0.7, 0.85)))


def _clear_after(scene: Scene, t: float, labels: set[str], limit: float = 120.0) -> float:
    """The first time from t on when none of `labels` is in view (ground truth)."""
    end = t + limit
    while t < end and any(label in labels for label, _ in scene.objects_at(t)):
        t += CLEAR_SCAN_STEP_S
    return t


def _box_polygon(box: tuple[float, float, float, float]) -> list[list[float]]:
    x, y, w, h = (round(v, 4) for v in box)
    return [[x, y], [round(x + w, 4), y], [round(x + w, 4), round(y + h, 4)], [x, round(y + h, 4)]]


# ---- fire lane ------------------------------------------------------------------------------


def fire_lane_clip(rng: np.random.Generator, positive: bool) -> ClipPlan:
    """A car parks for longer than the dwell time; or cars pass, stop briefly, people walk."""
    top, bottom = 0.45, 0.85
    lane = [
        [0.0, round(top + float(rng.uniform(-0.03, 0.04)), 3)],
        [1.0, round(top + float(rng.uniform(-0.03, 0.04)), 3)],
        [1.0, round(bottom + float(rng.uniform(-0.04, 0.03)), 3)],
        [0.0, round(bottom + float(rng.uniform(-0.04, 0.03)), 3)],
    ]
    width, height = _size(rng, [(640, 360), (800, 450), (512, 288)])
    scene = fire_lane.FireLaneScene(lane, seed=_seed(rng), width=width, height=height)
    config = {"dwell_seconds": FIRE_LANE_DWELL_S, "clear_seconds": FIRE_LANE_CLEAR_S}
    if positive:
        scene.park_car(float(rng.uniform(1, 5)), FIRE_LANE_DWELL_S + float(rng.uniform(12, 25)))
        [(stopped, leaves)] = scene.parked_intervals()
        seconds = stopped + FIRE_LANE_DWELL_S + float(rng.uniform(6, 10))
        events = [(stopped, min(leaves, seconds))]
        scenario = "parked"
    else:
        seconds = float(rng.uniform(35, 45))
        scenario = _fire_lane_traffic(scene, rng, seconds)
        events = []
    for _ in range(int(rng.integers(1, 4))):
        scene.pass_pedestrian(float(rng.uniform(0.5, seconds - 5)))
    _vary_light(scene, rng, seconds)
    return ClipPlan(scene, seconds, 5.0, positive, scenario, events, {"lane": lane}, config)


def _fire_lane_traffic(scene: fire_lane.FireLaneScene, rng: np.random.Generator, end: float) -> str:
    """Cars one after another, passing or stopping for less than half the dwell time."""
    t, stops = float(rng.uniform(0.5, 3)), 0
    while t < end - 6:
        if stops < 2 and rng.random() < 0.45:
            scene.park_car(t, float(rng.uniform(2, FIRE_LANE_DWELL_S / 2)))
            stops += 1
        else:
            scene.pass_car(t)
        t = _clear_after(scene, t + 1.0, {"car"}) + float(rng.uniform(0.5, 4))
    return "short stops and traffic" if stops else "traffic"


# ---- elevator -------------------------------------------------------------------------------


def elevator_clip(rng: np.random.Generator, positive: bool) -> ClipPlan:
    """Someone wheels an e-bike in; or people ride with bicycles, strollers, trolleys."""
    width, height = _size(rng, CAMERA_SIZES)
    scene = elevator.ElevatorScene(seed=_seed(rng), width=width, height=height)
    t = float(rng.uniform(1, 4))
    if positive:
        stay = float(rng.uniform(15, 30))
        scene.carry_in_ebike(t, stay)
        if rng.random() < 0.3:
            scene.enter_person(t + float(rng.uniform(1.5, 3)), stay - 3)
        [(inside, leaves)] = scene.ebike_intervals()
        seconds = min(max(leaves + float(rng.uniform(2, 6)), 30.0), 60.0)
        events, scenario = [(inside, min(leaves, seconds))], "e-bike"
    else:
        seconds = float(rng.uniform(30, 60))
        carried = []
        while t < seconds - 15:
            carrying = None
            if rng.random() < 0.75:
                carrying = str(rng.choice(elevator.DISTRACTORS))
                carried.append(carrying)
            stay = float(rng.uniform(8, 20))
            scene.enter_person(t, stay, carrying)
            riders = {"person", *elevator.DISTRACTORS}
            t = _clear_after(scene, t + stay, riders) + float(rng.uniform(1, 5))
        events, scenario = [], ", ".join(carried) or "people"
    if rng.random() < 0.4:
        flicker = float(rng.uniform(3, seconds - 3))
        for dt, gain in ((0.0, 0.35), (0.12, 1.0), (0.3, 0.5), (0.42, 1.0)):
            scene.set_lighting(flicker + dt, flicker + dt + 0.04, gain)
    else:
        _vary_light(scene, rng, seconds)
    return ClipPlan(scene, seconds, 5.0, positive, scenario, events)


# ---- facade ---------------------------------------------------------------------------------


def facade_view(rng: np.random.Generator, floors: int) -> tuple[list[dict[str, float]], list]:
    """Floor lines and facade polygon of a camera near the ground looking up a building."""
    distance = float(rng.uniform(18, 30))
    left, right = round(float(rng.uniform(0.18, 0.3)), 3), round(float(rng.uniform(0.7, 0.82)), 3)
    narrowing = (right - left) * float(rng.uniform(0.12, 0.2))
    return facade_camera_view(floors, distance, left, right, narrowing)


def facade_clip(rng: np.random.Generator, positive: bool) -> ClipPlan:
    """Something falls from a floor; or birds, leaves, bags, people and lights move."""
    floor_lines, polygon = facade_view(rng, int(rng.integers(12, 33)))
    width, height = _size(rng, CAMERA_SIZES)
    fps = 10.0
    scene = facade.FacadeScene(
        floor_lines, polygon, seed=_seed(rng), width=width, height=height, fps_hint=fps
    )
    floors = list(range(max(scene.geometry.first_floor, 2), scene.geometry.top_floor + 1))
    if positive:
        size = str(rng.choice(["small", "medium", "medium", "large"]))
        # From the third floor up: a drop from lower falls too little to be told from someone
        # moving on a balcony (see "Falling object" in docs/DETECTORS.md).
        floor = int(rng.choice([f for f in floors if f >= MIN_DROP_FLOOR]))
        scene.drop_object(float(rng.uniform(1.5, 5)), floor, size=size)
        [(start, gone, _)] = scene.falls()
        seconds = min(max(gone + float(rng.uniform(2, 4)), 10.0), 20.0)
        events, scenario = [(start, min(gone, seconds))], f"{size} object falls"
    else:
        seconds, events, scenario = float(rng.uniform(10, 20)), [], "distractions"
    _facade_distractions(scene, rng, seconds, floors, many=not positive)
    _vary_light(scene, rng, seconds)
    config = {"floor_lines": floor_lines}
    return ClipPlan(scene, seconds, fps, positive, scenario, events, {"facade": polygon}, config)


def _facade_distractions(
    scene: facade.FacadeScene,
    rng: np.random.Generator,
    seconds: float,
    floors: list[int],
    many: bool,
) -> None:
    extra = 1 if many else 0
    for _ in range(int(rng.integers(extra, 3 + extra))):
        scene.bird(float(rng.uniform(0, seconds - 2)))
    for _ in range(int(rng.integers(extra, 2 + extra))):
        scene.leaf_or_bag(float(rng.uniform(0, seconds / 2)))
    for _ in range(int(rng.integers(0, 3))):
        _try(scene.light_switch, float(rng.uniform(0, seconds)), int(rng.choice(floors)))
    if rng.random() < 0.5:
        stay = float(rng.uniform(4, seconds))
        for floor in rng.permutation(floors)[:6]:  # not every floor has a balcony in view
            if _try(scene.person_on_balcony, float(rng.uniform(0, 3)), int(floor), stay):
                break
    if rng.random() < 0.25:
        scene.rain(0.0, seconds + 1)


def _try(action: Callable[..., None], *args: Any) -> bool:
    """Add an incident that a floor may not allow (no window or balcony in view there)."""
    try:
        action(*args)
    except ValueError:
        return False
    return True


# ---- charging shed --------------------------------------------------------------------------


def charging_shed_clip(rng: np.random.Generator, positive: bool) -> ClipPlan:
    """A fire (or smoke) at a charging place; or people in red, tail lights, sun, dusk."""
    width, height = _size(rng, CAMERA_SIZES)
    sockets = int(rng.integers(4, 9))
    scene = charging_shed.ChargingShedScene(
        seed=_seed(rng), sockets=sockets, width=width, height=height
    )
    seconds = float(rng.uniform(40, 60))
    burning = None
    if positive:
        burning = int(rng.integers(sockets))
        smoke_only = bool(rng.random() < 0.25)
        start = float(rng.uniform(3, 10))
        scene.start_fire(start, burning, smoke_only=smoke_only)
        events, scenario = [(start, seconds)], "smoke" if smoke_only else "fire"
    else:
        events, scenario = [], "people in red, tail lights, sun"
    for index in range(int(rng.integers(1, 4))):
        scene.walk_through(float(rng.uniform(0, seconds - 8)), red=index == 0 or rng.random() < 0.4)
    if not positive or rng.random() < 0.5:
        others = [s for s in range(sockets) if s != burning]
        socket = int(rng.choice(others))
        scene.wheel_out_with_tail_light(float(rng.uniform(2, seconds - 20)), socket)
    light = rng.random()
    if light < 0.4:
        t0 = float(rng.uniform(0, seconds / 2))
        scene.sunlight(t0, t0 + float(rng.uniform(15, 40)))
    elif light < 0.6:
        scene.set_lighting(1.0, float(rng.uniform(10, 25)), float(rng.uniform(0.3, 0.5)))
    else:
        _vary_light(scene, rng, seconds)
    boxes = [scene.socket_box(s) for s in range(sockets)]
    zones = {f"socket_{s + 1:02d}": _box_polygon(box) for s, box in enumerate(boxes)}
    config = {"socket_boxes": [[round(v, 4) for v in box] for box in boxes]}
    return ClipPlan(scene, seconds, 5.0, positive, scenario, events, zones, config)


SCRIPTS: dict[str, Callable[[np.random.Generator, bool], ClipPlan]] = {
    "fire_lane": fire_lane_clip,
    "elevator_ebike": elevator_clip,
    "falling_object": facade_clip,
    "charging_shed": charging_shed_clip,
}
