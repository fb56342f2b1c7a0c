"""A synthetic overhead camera looking at a fire lane, for simulators, demos and tests.

The lane is drawn where its normalised polygon says: grey asphalt with yellow edge lines,
hatching and "FIRE LANE" lettering, a driveway continuing along the lane's axis, a sidewalk,
a building on one side and grass with a footpath on the other. Cars drive along the lane
(passing through, or stopping in it for a while) and pedestrians walk by. Everything is drawn
from the seed and the timeline, so `render(t)` gives the same picture for the same
(seed, timeline, t), for any t in any order.

Scene time is seconds as a float. A car that parks is given its arrival time, the moment its
front edge is about to enter the frame; `parked_intervals()` reports when it actually stood
still, which is the ground truth a test or an evaluation should use.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from simulators.scenes.camera_effects import (
    NOISE_MARGIN,
    add_sensor_noise,
    frame_key,
    lighting_gain,
)
from simulators.scenes.fire_lane_layout import LaneGeometry, paint_background
from simulators.scenes.sprites import (
    CAR_COLOURS,
    CAR_SHAPES,
    Sprite,
    car_sprite,
    pedestrian_sprites,
)

BRAKE_SECONDS = 2.5  # time to slow from cruising speed to standstill (and back)
CAR_LOOKS = 16  # distinct car appearances per scene; sprites are cached per look
PERSON_LOOKS = 8


@dataclass(frozen=True)
class _Car:
    look: int
    direction: int  # +1 along the lane axis, -1 against it
    lateral: float  # pixels from the lane's centre line
    speed: float  # cruising speed, px/s
    t_enter: float
    route: float  # px from entering to having left the frame
    park_at: float | None = None  # px from entry where it stops, None when passing
    stay_s: float = 0.0

    @property
    def t_stop(self) -> float:
        assert self.park_at is not None
        return self.t_enter + self.park_at / self.speed + BRAKE_SECONDS / 2

    @property
    def t_end(self) -> float:
        if self.park_at is None:
            return self.t_enter + self.route / self.speed
        return (
            self.t_stop + self.stay_s + BRAKE_SECONDS / 2 + (self.route - self.park_at) / self.speed
        )

    def distance(self, t: float) -> float:
        """Distance travelled from the entry point at scene time t."""
        v, tau = self.speed, BRAKE_SECONDS
        if self.park_at is None:
            return v * (t - self.t_enter)
        brake_start = self.t_stop - tau
        if t <= brake_start:
            return v * (t - self.t_enter)
        if t <= self.t_stop:
            left = self.t_stop - t  # uniform deceleration: distance still to go is v*left²/(2τ)
            return self.park_at - v * left * left / (2 * tau)
        t_leave = self.t_stop + self.stay_s
        if t <= t_leave:
            return self.park_at
        gone = t - t_leave
        if gone <= tau:
            return self.park_at + v * gone * gone / (2 * tau)
        return self.park_at + v * tau / 2 + v * (gone - tau)


@dataclass(frozen=True)
class _Walker:
    look: int
    start: tuple[float, float]  # pixel position at t_enter
    step: tuple[float, float]  # px/s velocity
    t_enter: float
    t_end: float


class FireLaneScene:
    """A deterministic fire-lane camera: add cars and pedestrians, then render any time."""

    def __init__(
        self, lane: Sequence[Sequence[float]], *, seed: int, width: int = 640, height: int = 360
    ) -> None:
        if width < 64 or height < 64:
            raise ValueError(f"scene size {width}x{height} is too small (at least 64x64)")
        self.width, self.height, self.seed = width, height, seed
        self._rng = np.random.default_rng(seed)
        self.geometry = LaneGeometry.from_polygon(lane, width, height)
        self._background = paint_background(self.geometry, self._rng)
        rng = self._rng
        self._tint = rng.uniform(0.93, 1.07, 3) * rng.uniform(0.88, 1.05)
        self._sun = tuple(float(v) for v in rng.uniform(-1, 1, 2) * width / 110)
        sigma = rng.uniform(1.8, 3.5)
        noise = rng.normal(0, sigma, (height + NOISE_MARGIN, width + NOISE_MARGIN, 3))
        self._noise_up = np.clip(noise, 0, 255).astype(np.uint8)
        self._noise_down = np.clip(-noise, 0, 255).astype(np.uint8)
        self._car_length = width * rng.uniform(0.17, 0.21)
        widest = self.geometry.lane_width * 0.85 / max(s["width"] for s in CAR_SHAPES.values())
        self._car_length = min(self._car_length, widest)
        self._car_looks = [
            (str(rng.choice(list(CAR_SHAPES))), CAR_COLOURS[int(rng.integers(len(CAR_COLOURS)))])
            for _ in range(CAR_LOOKS)
        ]
        self._person_looks = [
            (
                tuple(int(c) for c in rng.integers(30, 220, 3)),
                (25, 30, 40) if i % 3 else (60, 90, 120),
            )
            for i in range(PERSON_LOOKS)
        ]
        self._cars: list[_Car] = []
        self._walkers: list[_Walker] = []
        self._car_starts: list[float] = []  # entry times, sorted, parallel to the lists
        self._walker_starts: list[float] = []
        self._lighting: list[tuple[float, float, float]] = []
        self._car_cache: dict[tuple[int, int], Sprite] = {}
        self._person_cache: dict[tuple[int, int], list[Sprite]] = {}
        self._longest = 0.0

    # ---- timeline -------------------------------------------------------------------------

    def park_car(self, t_arrive: float, stay_s: float, *, position: float | None = None) -> None:
        """A car enters at t_arrive, stops in the lane for stay_s seconds, then drives out.

        `position` is where it stops, as a fraction 0..1 along the lane (default: random).
        """
        if stay_s < 0:
            raise ValueError(f"stay_s must be >= 0, got {stay_s}")
        self._add_car(self._new_park(t_arrive, stay_s, position))

    def pass_car(self, t_enter: float, speed_px_s: float | None = None) -> None:
        """A car drives along the lane through the whole frame without stopping."""
        self._add_car(self._new_pass(t_enter, speed_px_s))

    def pass_pedestrian(
        self,
        t_enter: float,
        *,
        path: str | None = None,
        offset: float | None = None,
        speed_px_s: float | None = None,
    ) -> None:
        """A person walks through the frame.

        path "across" crosses the lane at `offset` (fraction 0..1 along the lane; default: the
        footpath); path "along" walks parallel to it at `offset` (lane widths from the lane's
        centre line; default: on the sidewalk). Default path: either, at random.
        """
        rng, geo = self._rng, self.geometry
        path = path or ("across" if rng.random() < 0.5 else "along")
        speed = speed_px_s or float(rng.uniform(0.9, 1.4)) * self._car_length / 4.5
        sign = 1 if rng.random() < 0.5 else -1
        if path == "across":
            s = geo.footpath_s if offset is None else geo.s_min + offset * geo.lane_length
            a = geo.door_l
            b = geo.far_l(self._car_length)
            start_l, end_l = (a, b) if sign > 0 else (b, a)
            start, end = geo.point(s, start_l), geo.point(s, end_l)
        elif path == "along":
            lat = geo.sidewalk_l if offset is None else geo.l_centre + offset * geo.lane_width
            s0, s1 = geo.frame_s_min - 20, geo.frame_s_max + 20
            start_s, end_s = (s0, s1) if sign > 0 else (s1, s0)
            start, end = geo.point(start_s, lat), geo.point(end_s, lat)
        else:
            raise ValueError(f"path must be 'across' or 'along', got {path!r}")
        length = math.dist(start, end)
        step = ((end[0] - start[0]) / length * speed, (end[1] - start[1]) / length * speed)
        walker = _Walker(
            int(rng.integers(PERSON_LOOKS)), start, step, t_enter, t_enter + length / speed
        )
        index = bisect.bisect_right(self._walker_starts, t_enter)
        self._walkers.insert(index, walker)
        self._walker_starts.insert(index, t_enter)
        self._longest = max(self._longest, walker.t_end - walker.t_enter)

    def set_lighting(self, t0: float, t1: float, gain: float) -> None:
        """Change the overall brightness to `gain` (1 = the scene's normal light), ramping
        linearly from t0 to t1: a short ramp is a passing cloud, a long one dusk."""
        if gain <= 0 or t1 < t0:
            raise ValueError(f"set_lighting needs gain > 0 and t1 >= t0, got {t0}, {t1}, {gain}")
        self._lighting.append((t0, t1, gain))
        self._lighting.sort()

    def parked_intervals(self) -> list[tuple[float, float]]:
        """Ground truth: (time the car stood still in the lane, time it starts to leave)."""
        return sorted((c.t_stop, c.t_stop + c.stay_s) for c in self._cars if c.park_at is not None)

    def objects_at(self, t: float) -> list[tuple[str, tuple[float, float, float, float]]]:
        """Ground truth: ("car" | "person", (x, y, w, h) normalised) of what is in view at t."""
        found = []
        for kind, sprite, x, y in self._poses(t):
            x0, y0, x1, y1 = sprite.body_box(x, y)
            x0, y0 = max(x0, 0), max(y0, 0)
            x1, y1 = min(x1, self.width), min(y1, self.height)
            if x1 > x0 and y1 > y0:
                w, h = self.width, self.height
                found.append((kind, (x0 / w, y0 / h, (x1 - x0) / w, (y1 - y0) / h)))
        return found

    # ---- rendering ------------------------------------------------------------------------

    def render(self, t: float) -> np.ndarray:
        """The camera frame at scene time t: BGR uint8, height x width x 3."""
        frame = self._background.copy()
        for _, sprite, x, y in self._poses(t):
            sprite.paste(frame, x, y)
        frame = cv2.transform(frame, np.diag(self._tint * self.gain(t)))
        add_sensor_noise(frame, self._noise_up, self._noise_down, frame_key(self.seed, t))
        return frame

    def gain(self, t: float) -> float:
        """Overall brightness at time t (1 = normal), from the set_lighting ramps."""
        return lighting_gain(self._lighting, t)

    # ---- internals ------------------------------------------------------------------------

    def _new_pass(self, t_enter: float, speed_px_s: float | None) -> _Car:
        rng = self._rng
        speed = speed_px_s or float(rng.uniform(0.55, 1.1)) * self._car_length
        return _Car(
            int(rng.integers(CAR_LOOKS)),
            1 if rng.random() < 0.5 else -1,
            float(rng.uniform(-0.06, 0.06)) * self.geometry.lane_width,
            speed,
            t_enter,
            self._route(),
        )

    def _new_park(self, t_arrive: float, stay_s: float, position: float | None) -> _Car:
        rng, geo = self._rng, self.geometry
        car = self._new_pass(t_arrive, float(rng.uniform(0.5, 0.8)) * self._car_length)
        fraction = float(rng.uniform(0.3, 0.7)) if position is None else position
        half = self._car_length * 0.6
        lo, hi = geo.s_min + half, geo.s_max - half
        stop_s = (
            (lo + hi) / 2 if hi < lo else min(max(geo.s_min + fraction * geo.lane_length, lo), hi)
        )
        entry_s = (
            geo.frame_s_min - self._car_length
            if car.direction > 0
            else geo.frame_s_max + self._car_length
        )
        park_at = abs(stop_s - entry_s)
        lateral = float(rng.uniform(-0.08, 0.08)) * geo.lane_width
        return _Car(
            car.look,
            car.direction,
            lateral,
            car.speed,
            t_arrive,
            car.route,
            park_at=park_at,
            stay_s=stay_s,
        )

    def _route(self) -> float:
        geo = self.geometry
        return geo.frame_s_max - geo.frame_s_min + 2 * self._car_length

    def _add_car(self, car: _Car) -> None:
        index = bisect.bisect_right(self._car_starts, car.t_enter)
        self._cars.insert(index, car)
        self._car_starts.insert(index, car.t_enter)
        self._longest = max(self._longest, car.t_end - car.t_enter)

    def _car_position(self, car: _Car, t: float) -> tuple[float, float]:
        geo = self.geometry
        travelled = car.distance(t)
        if car.direction > 0:
            s = geo.frame_s_min - self._car_length + travelled
        else:
            s = geo.frame_s_max + self._car_length - travelled
        return geo.point(s, geo.l_centre + car.lateral)

    def _active(self, items: Sequence[Any], starts: list[float], t: float) -> list[Any]:
        """Items on screen at t; they are sorted by entry time, so only a window is scanned."""
        first = bisect.bisect_left(starts, t - self._longest)
        last = bisect.bisect_right(starts, t)
        return [i for i in items[first:last] if i.t_enter <= t <= i.t_end]

    def _poses(self, t: float) -> Iterator[tuple[str, Sprite, float, float]]:
        """(kind, sprite, x, y) of every car, then every person, on screen at t."""
        for car in self._active(self._cars, self._car_starts, t):
            x, y = self._car_position(car, t)
            yield "car", self._car_sprite(car.look, car.direction), x, y
        for walker in self._active(self._walkers, self._walker_starts, t):
            elapsed = t - walker.t_enter
            x = walker.start[0] + walker.step[0] * elapsed
            y = walker.start[1] + walker.step[1] * elapsed
            heading = round(math.degrees(math.atan2(walker.step[1], walker.step[0])))
            cycle = self._person_sprites(walker.look, heading)
            yield "person", cycle[int(elapsed * 4) % 4], x, y

    def _car_sprite(self, look: int, direction: int) -> Sprite:
        key = (look, direction)
        if key not in self._car_cache:
            shape, colour = self._car_looks[look]
            heading = self.geometry.axis_deg + (0 if direction > 0 else 180)
            self._car_cache[key] = car_sprite(shape, colour, self._car_length, heading, self._sun)
        return self._car_cache[key]

    def _person_sprites(self, look: int, heading: int) -> list[Sprite]:
        key = (look, heading)
        if key not in self._person_cache:
            clothes, hair = self._person_looks[look]
            shade = (self._sun[0] * 0.5, self._sun[1] * 0.5)
            self._person_cache[key] = pedestrian_sprites(
                clothes, hair, self._car_length * 0.13, heading, shade
            )
        return self._person_cache[key]


def schedule_random_incidents(
    scene: FireLaneScene,
    *,
    seed: int,
    duration_s: float,
    park_every_s: float = 240,
    park_stay_s: float = 150,
    first_park_at: float | None = None,
) -> None:
    """Fill `duration_s` of scene time with a plausible day: cars passing every 10-30 s,
    pedestrians, and every few minutes a car that parks in the lane for longer than 2 min.
    The first car parks at `first_park_at` when given (a demo wants an incident early).

    Passing cars are held back while a car is parked, so no car drives through another.
    """
    rng = np.random.default_rng(seed)
    parked: list[tuple[float, float]] = []  # (enters, has left) of each parking car, in order
    t = float(rng.uniform(0.2, 0.5)) * park_every_s
    if first_park_at is not None:
        t = first_park_at
    while t < duration_s:
        car = scene._new_park(t, park_stay_s * float(rng.uniform(0.95, 1.2)), None)
        scene._add_car(car)
        parked.append((car.t_enter, car.t_end))
        t = max(t + park_every_s * float(rng.uniform(0.8, 1.2)), car.t_end + 10)
    t = float(rng.uniform(2, 10))
    while t < duration_s:
        car = scene._new_pass(t, None)
        while parked and parked[0][1] + 2 < car.t_enter:
            parked.pop(0)  # both lists advance in time, so passed parkings can go
        if not (parked and parked[0][0] - 2 < car.t_end):
            scene._add_car(car)
        t = max(t + float(rng.uniform(10, 30)), car.t_end + 1)
    t = float(rng.uniform(0, 8))
    while t < duration_s:
        scene.pass_pedestrian(t)
        t += float(rng.uniform(6, 25))


def encode_jpeg(frame: np.ndarray, quality: int = 80) -> bytes:
    """JPEG bytes of a BGR frame, as a camera would send them."""
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be 1..100, got {quality}")
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError(f"could not encode a frame of shape {frame.shape} as JPEG")
    return data.tobytes()
