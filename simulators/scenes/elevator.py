"""A synthetic camera in an elevator car, for simulators, demos and tests.

A fisheye camera hangs in a back corner under the ceiling and looks down across the car: the
floor, the side walls with their handrail, the door wall with its sliding doors, button panel
and floor display. People ride alone or in twos, some wheeling something in: an e-bike, or a
bicycle, stroller, wheelchair or shopping trolley, which must not be taken for one. The doors
open whenever someone walks in or out. Everything is drawn from the seed and the timeline, so
`render(t)` gives the same picture for the same (seed, timeline, t), for any t in any order.

Scene time is seconds as a float. A ride is given the moment its group starts through the
open door; `ebike_intervals()` reports when an e-bike was wholly inside the car, which is the
ground truth a test or an evaluation should use.
"""

from __future__ import annotations

import bisect
import math
from datetime import datetime, timedelta
from functools import partial

import cv2
import numpy as np

from simulators.scenes.elevator_backdrop import paint_car, paint_doors
from simulators.scenes.elevator_items import ITEM_KINDS, ItemLook, add_item
from simulators.scenes.elevator_layout import CarCamera, CarLayout
from simulators.scenes.elevator_models import (
    Model,
    ModelBuilder,
    PersonLook,
    Placed,
    add_person,
    clip,
    draw,
    pixel_bounds,
    place,
    strokes,
    union,
)
from simulators.scenes.elevator_rides import (
    Group,
    Ride,
    Timetable,
    first_failing,
    path_length,
    plan_ride,
    settled,
)

PERSON_LOOKS = 12
ITEM_LOOKS = 6  # appearances per kind of item in one scene
NOISE_MARGIN = 32
DISTRACTORS = ("bicycle", "stroller", "wheelchair", "trolley")


class ElevatorScene:
    """A deterministic elevator-car camera: add rides and lighting, then render any time."""

    def __init__(self, *, seed: int, width: int = 640, height: int = 480) -> None:
        if width < 64 or height < 64:
            raise ValueError(f"scene size {width}x{height} is too small (at least 64x64)")
        self.width, self.height, self.seed = width, height, seed
        rng = self._rng = np.random.default_rng(seed)
        self.car = CarLayout.random(rng)
        self.camera = CarCamera.in_corner(self.car, rng, width, height)
        self._backdrop = paint_car(self.car, self.camera, rng)
        self._doors_shut = self._backdrop.open_view.copy()
        paint_doors(self._doors_shut, self._backdrop, self.car, 0.0)
        warm = rng.uniform(-1, 1)
        self._tint = np.array([1 - 0.06 * warm, 1.0, 1 + 0.06 * warm]) * rng.uniform(0.85, 1.05)
        sigma = rng.uniform(1.5, 4.0)
        noise = rng.normal(0, sigma, (height + NOISE_MARGIN, width + NOISE_MARGIN, 3))
        self._noise_up = np.clip(noise, 0, 255).astype(np.uint8)
        self._noise_down = np.clip(-noise, 0, 255).astype(np.uint8)
        self._people = [PersonLook.random(rng, helmet_chance=0.2) for _ in range(PERSON_LOOKS)]
        self._items = {k: [ItemLook.random(k, rng) for _ in range(ITEM_LOOKS)] for k in ITEM_KINDS}
        self._top_floor = int(rng.integers(11, 34))
        self._clock_start = int(rng.integers(6 * 3600, 20 * 3600))
        self._rides: list[Ride] = []
        self._starts: list[float] = []  # entry times, sorted, parallel to _rides
        self._longest = 0.0
        self._lighting: list[tuple[float, float, float]] = []
        self._models: dict[tuple[object, ...], Model] = {}
        self._stops: Timetable | None = None

    # ---- timeline -------------------------------------------------------------------------

    def carry_in_ebike(self, t_enter: float, stay_s: float) -> None:
        """A person wheels an e-bike in through the door, rides for stay_s seconds, and
        wheels it back out."""
        self._add_ride(t_enter, stay_s, "ebike")

    def enter_person(self, t_enter: float, stay_s: float, carrying: str | None = None) -> None:
        """A person walks in (pushing a bicycle, stroller, wheelchair or trolley when
        `carrying` says so), rides for stay_s seconds and walks out."""
        if carrying is not None and carrying not in ITEM_KINDS:
            raise ValueError(
                f"carrying must be None or one of {', '.join(DISTRACTORS)}, got {carrying!r}"
            )
        self._add_ride(t_enter, stay_s, carrying)

    def set_lighting(self, t0: float, t1: float, gain: float) -> None:
        """Change the car's brightness to `gain` (1 = normal), ramping linearly from t0 to t1:
        a ramp of a few hundredths of a second is a flicker, a longer one the lights dimming."""
        if gain <= 0 or t1 < t0:
            raise ValueError(f"set_lighting needs gain > 0 and t1 >= t0, got {t0}, {t1}, {gain}")
        self._lighting.append((t0, t1, gain))
        self._lighting.sort()

    def ebike_intervals(self) -> list[tuple[float, float]]:
        """Ground truth: (an e-bike is wholly inside the car, it starts back out the door)."""
        found = []
        for ride in self._rides:
            if ride.carrying == "ebike":
                inside = partial(self._bike_inside, ride)
                t_in = settled(inside, ride.t_enter, ride.t_arrive)
                found.append((t_in, first_failing(inside, ride.t_leave, ride.t_gone)))
        return sorted(found)

    def objects_at(self, t: float) -> list[tuple[str, tuple[float, float, float, float]]]:
        """Ground truth: (label, (x, y, w, h) normalised) of everyone and everything in view;
        labels are "person", "ebike", "bicycle", "stroller", "wheelchair" and "trolley"."""
        found = []
        y0, y1, x0, x1 = self._backdrop.opening
        for ride in self._active(t):
            placed = self._placed(ride, t)
            beyond = placed.world[:, 1] > self.car.depth
            for member, label in enumerate(placed.model.members):
                rows = np.zeros(len(beyond), bool)
                for part in placed.model.parts:
                    if part.member == member:
                        rows[part.start : part.stop] = True
                rows &= placed.in_front
                boxes = [pixel_bounds(placed.pixels[rows & ~beyond])]
                door = pixel_bounds(placed.pixels[rows & beyond])
                if door is not None:
                    boxes.append(clip(door, x0, y0, x1, y1))
                box = union([b for b in boxes if b is not None])
                box = clip(box, 0, 0, self.width, self.height) if box else None
                if box is not None:
                    bx0, by0, bx1, by1 = box
                    w, h = self.width, self.height
                    found.append((label, (bx0 / w, by0 / h, (bx1 - bx0) / w, (by1 - by0) / h)))
        return found

    def door_open_fraction(self, t: float) -> float:
        """How far the doors are open at t: 0 closed, 1 fully open."""
        return self._timetable().door_fraction(t)

    def floor_at(self, t: float) -> tuple[int, int]:
        """(floor on the display, +1 going up / -1 down / 0 standing) at time t."""
        return self._timetable().floor_at(t)

    def gain(self, t: float) -> float:
        """Overall brightness at time t (1 = normal), from the set_lighting ramps."""
        gain = 1.0
        for t0, t1, target in self._lighting:
            if t0 >= t:
                break
            if t >= t1:
                gain = target
            else:
                gain += (target - gain) * (t - t0) / (t1 - t0)
        return gain

    # ---- rendering ------------------------------------------------------------------------

    def render(self, t: float) -> np.ndarray:
        """The camera frame at scene time t: BGR uint8, height x width x 3."""
        backdrop, camera = self._backdrop, self.camera
        doors = self.door_open_fraction(t)
        frame = (self._doors_shut if doors <= 0 else backdrop.open_view).copy()
        inside, outside, placed_all = [], [], []
        for ride in self._active(t):
            placed = self._placed(ride, t)
            near, far = strokes(placed, camera, self.car.depth)
            inside += near
            outside += far
            placed_all.append(placed)
        if outside and doors > 0:
            # Beyond the door plane only what the opening shows is seen: draw, then put the
            # wall back round the opening.
            draw(frame, outside)
            drawn = union([pixel_bounds(pts / 8.0) for _, _, pts, _ in outside])
            box = clip(drawn, 0, 0, self.width, self.height) if drawn else None
            if box is not None:
                x0, y0 = max(0, int(box[0]) - 4), max(0, int(box[1]) - 4)
                area = (slice(y0, int(box[3]) + 5), slice(x0, int(box[2]) + 5))
                wall = ~backdrop.opening_mask[area]
                np.copyto(frame[area], backdrop.open_view[area], where=wall[..., None])
        if 0 < doors < 1:
            paint_doors(frame, backdrop, self.car, doors)
        self._draw_displays(frame, t)
        self._shade_floor(frame, placed_all)
        draw(frame, inside)
        frame = cv2.transform(frame, np.diag(self._tint * self.gain(t)))
        key = (int(round(t * 1000)) * 0x9E3779B1 + self.seed * 0x85EBCA77) & 0xFFFFFFFF
        ox, oy = key % NOISE_MARGIN, (key >> 8) % NOISE_MARGIN
        view = (slice(oy, oy + self.height), slice(ox, ox + self.width))
        cv2.add(frame, self._noise_up[view], dst=frame)
        cv2.subtract(frame, self._noise_down[view], dst=frame)
        self._draw_clock(frame, t)
        return frame

    # ---- internals ------------------------------------------------------------------------

    def _add_ride(self, t_enter: float, stay_s: float, carrying: str | None) -> Ride:
        if stay_s < 0:
            raise ValueError(f"stay_s must be >= 0, got {stay_s}")
        rng = self._rng
        person, item = int(rng.integers(PERSON_LOOKS)), int(rng.integers(ITEM_LOOKS))
        helper = None
        if carrying == "wheelchair" and self._items["wheelchair"][item].variant == "pushed":
            helper = int(rng.integers(PERSON_LOOKS))
        group = Group(carrying, person, item, helper, 1 if rng.random() < 0.6 else -1)
        outline = self._model(group, None).points[:, :2]
        taken = [
            r.spot for r in self._rides if r.t_enter < t_enter + stay_s + 10 and r.t_gone > t_enter
        ]
        path, facing_in, standing, facing_out = plan_ride(self.car, outline, carrying, taken, rng)
        speed = float(rng.uniform(0.95, 1.3) if carrying is None else rng.uniform(0.6, 0.85))
        length = path_length(path)
        t_arrive = t_enter + length / speed
        t_leave = t_arrive + stay_s
        t_gone = t_leave + length / (speed * float(rng.uniform(0.9, 1.15)))
        ride = Ride(
            group, path, facing_in, standing, facing_out, t_enter, t_arrive, t_leave, t_gone
        )
        index = bisect.bisect_right(self._starts, t_enter)
        self._rides.insert(index, ride)
        self._starts.insert(index, t_enter)
        self._longest = max(self._longest, t_gone - t_enter)
        self._stops = None
        return ride

    def _model(self, group: Group, step: int | None) -> Model:
        key = (group, step)
        if key not in self._models:
            b = ModelBuilder()
            look = self._people[group.person]
            if group.carrying is None:
                add_person(b, look, phase=step)
            else:
                pusher = self._people[group.helper] if group.helper is not None else None
                item = self._items[group.carrying][group.item]
                held = add_item(b, item, look, pusher)
                if held is not None:
                    (ax, ay), (left, right) = held.person_at, held.hands
                    if group.side < 0:
                        ay, left, right = -ay, _mirror(right), _mirror(left)
                    add_person(b, pusher or look, (ax, ay), step, (left, right))
            self._models[key] = b.build()
        return self._models[key]

    def _placed(self, ride: Ride, t: float) -> Placed:
        x, y, yaw, step = ride.pose(t)
        model = self._model(ride.group, step)
        return place(model, self.camera, x, y, yaw)

    def _active(self, t: float) -> list[Ride]:
        first = bisect.bisect_left(self._starts, t - self._longest)
        last = bisect.bisect_right(self._starts, t)
        return [r for r in self._rides[first:last] if r.t_enter <= t <= r.t_gone]

    def _bike_inside(self, ride: Ride, t: float) -> bool:
        """Whether the e-bike of `ride` is wholly on the car's side of the door plane at t."""
        model = self._model(ride.group, None)
        bike = [p for p in model.parts if model.members[p.member] == "ebike"]
        xy = np.concatenate([model.points[p.start : p.stop, :2] for p in bike])
        x, y, yaw, _ = ride.pose(t)
        reach = xy[:, 0] * math.sin(yaw) + xy[:, 1] * math.cos(yaw)
        return bool(y + reach.max() <= self.car.depth)

    def _timetable(self) -> Timetable:
        if self._stops is None:
            self._stops = Timetable(self._rides, self.seed, self._top_floor)
        return self._stops

    def _draw_displays(self, frame: np.ndarray, t: float) -> None:
        floor, going = self.floor_at(t)
        for x, y, height in self._backdrop.displays:
            scale = max(0.25, height * 0.7 / 22)
            text = str(floor)
            (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
            org = (int(x - tw / 2 + th * 0.4), int(y + th / 2))
            cv2.putText(
                frame, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (60, 90, 255), 1, cv2.LINE_AA
            )
            if going:
                ax, half = org[0] - th * 0.9, th / 2
                tip = y - going * half
                pts = np.array(
                    [
                        [ax - half * 0.7, y + going * half],
                        [ax + half * 0.7, y + going * half],
                        [ax, tip],
                    ]
                )
                cv2.fillPoly(
                    frame, [np.round(pts * 8).astype(np.int32)], (60, 90, 255), cv2.LINE_AA, 3
                )

    def _shade_floor(self, frame: np.ndarray, placed_all: list[Placed]) -> None:
        """Soft contact shadows on the floor under people and what they push."""
        polygons = []
        ring = np.linspace(0, 2 * math.pi, 16, endpoint=False)
        for placed in placed_all:
            c, s = math.cos(placed.yaw), math.sin(placed.yaw)
            for fx, fy, rx, ry in placed.model.footprints:
                lx, ly = fx + rx * np.cos(ring), fy + ry * np.sin(ring)
                world = np.stack(
                    [placed.x + lx * c - ly * s, placed.y + lx * s + ly * c, np.zeros_like(lx)], 1
                )
                if world[:, 1].mean() < self.car.depth:
                    polygons.append(self.camera.to_image(self.camera.to_camera(world)))
        if not polygons:
            return
        drawn = union([pixel_bounds(p) for p in polygons])
        box = clip(drawn, 0, 0, self.width, self.height) if drawn else None
        if box is None:
            return
        # The shadow is soft, so its mask is drawn and blurred at a quarter of the size.
        x0, y0 = max(0, int(box[0]) - 12), max(0, int(box[1]) - 12)
        x1, y1 = min(self.width, int(box[2]) + 13), min(self.height, int(box[3]) + 13)
        small = np.zeros(((y1 - y0 + 3) // 4, (x1 - x0 + 3) // 4), np.float32)
        for poly in polygons:
            corners = np.round((poly - (x0, y0)) * 2).astype(np.int32)  # quarter size, << 3
            cv2.fillPoly(small, [corners], 0.38, cv2.LINE_AA, 3)
        small = cv2.GaussianBlur(small, (0, 0), 1.3)
        mask = cv2.resize(small, (small.shape[1] * 4, small.shape[0] * 4))[: y1 - y0, : x1 - x0]
        region = frame[y0:y1, x0:x1]
        region[...] = (region * (1.0 - mask[..., None])).astype(np.uint8)

    def _draw_clock(self, frame: np.ndarray, t: float) -> None:
        """The recorder's date and time in the corner, as elevator cameras burn it in."""
        shown = datetime(2024, 5, 17) + timedelta(seconds=self._clock_start + int(t))
        text = shown.strftime("%Y-%m-%d %H:%M:%S")
        scale, x, y = self.width / 1400, 8, 8 + int(self.width / 50)
        font = cv2.FONT_HERSHEY_SIMPLEX
        for dx, dy in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            cv2.putText(frame, text, (x + dx, y + dy), font, scale, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(frame, text, (x, y), font, scale, (235, 235, 235), 1, cv2.LINE_AA)


def _mirror(point: tuple[float, float, float]) -> tuple[float, float, float]:
    return (point[0], -point[1], point[2])


def schedule_random_incidents(
    scene: ElevatorScene,
    *,
    seed: int,
    duration_s: float,
    ebike_every_s: float = 300.0,
    first_ebike_at: float | None = None,
) -> None:
    """Fill `duration_s` of scene time with a plausible day: people riding alone or in twos,
    now and then with a bicycle, stroller, wheelchair or trolley, the lights flickering once in
    a while, and every few minutes an e-bike wheeled in that rides 20-60 s. The first e-bike
    comes at `first_ebike_at` when given (a demo wants an incident early)."""
    if ebike_every_s <= 0:
        raise ValueError(f"ebike_every_s must be > 0, got {ebike_every_s}")
    rng = np.random.default_rng(seed)
    busy: list[tuple[float, float]] = []  # (enters, has left) of each e-bike ride
    t = float(rng.uniform(0.2, 0.5)) * ebike_every_s if first_ebike_at is None else first_ebike_at
    while t < duration_s:
        ride = scene._add_ride(t, float(rng.uniform(20, 60)), "ebike")
        end = ride.t_gone
        if rng.random() < 0.3:
            t_with = t + float(rng.uniform(1.5, 3.0))
            end = max(end, scene._add_ride(t_with, ride.t_leave - t_with - 3, None).t_gone)
        busy.append((t - 4, end + 4))
        t = max(t + ebike_every_s * float(rng.uniform(0.8, 1.2)), end + 20)
    t = float(rng.uniform(3, 20))
    while t < duration_s:
        stay = float(rng.uniform(12, 50))
        clash = [(a, b) for a, b in busy if a < t + stay + 20 and b > t]
        if clash:
            t = clash[-1][1] + float(rng.uniform(5, 20))
            continue
        carrying = str(rng.choice(DISTRACTORS)) if rng.random() < 0.22 else None
        scene.enter_person(t, stay, carrying)
        if rng.random() < 0.3:
            scene.enter_person(t + float(rng.uniform(1.0, 2.5)), stay - float(rng.uniform(0, 2)))
        t += stay + float(rng.uniform(20, 70))
    t = float(rng.uniform(60, 600))
    while t < duration_s:
        for dt, gain in ((0.0, 0.35), (0.12, 1.0), (0.3, 0.5), (0.42, 1.0)):
            scene.set_lighting(t + dt, t + dt + 0.04, gain)
        t += float(rng.uniform(400, 1200))
