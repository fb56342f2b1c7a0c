"""How a ride moves: from the landing through the door to a free spot in the car, and back.

A ride follows three floor points: on the landing, just inside the door, and its spot. People
walk in straight through the door and then to their spot, where someone alone turns to face
the door. Whatever is wheeled in enters straight, turns on its way to the spot (so it may
stand at an angle), and is backed out the same way it came in.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from simulators.scenes.elevator_layout import CarLayout

OPEN_S, CLOSE_S = 1.6, 2.2  # how long the doors take to open and to close
HOLD_S = 2.5  # the doors stay open this long after the last person is through
STRIDE = 0.3  # m walked per step of the four-step walk
TURN_S = 1.2  # how long someone alone takes to turn round once in
WALL_GAP = 0.06  # m kept free between the wheeled item and the walls

Point2 = tuple[float, float]


@dataclass(frozen=True)
class Group:
    """Who rides together: a person, maybe with something wheeled and someone helping."""

    carrying: str | None
    person: int  # index into the scene's person looks
    item: int = 0  # index into that kind's item looks
    helper: int | None = None  # who pushes a wheelchair, if anyone
    side: int = 1  # the side of a bike its owner walks on: +1 its left, -1 its right


@dataclass(frozen=True)
class Ride:
    group: Group
    path: tuple[Point2, Point2, Point2]  # on the landing, just inside the door, the spot
    facing_in: tuple[float, float, float]  # radians at each path point on the way in
    standing: float  # facing during the ride
    facing_out: tuple[float, float, float]  # at each path point on the way out (spot first)
    t_enter: float
    t_arrive: float
    t_leave: float
    t_gone: float

    @property
    def carrying(self) -> str | None:
        return self.group.carrying

    @property
    def spot(self) -> Point2:
        return self.path[2]

    def pose(self, t: float) -> tuple[float, float, float, int | None]:
        """(x, y, facing, walk step or None when standing still) at time t."""
        if t < self.t_arrive:
            done = ease((t - self.t_enter) / (self.t_arrive - self.t_enter))
            return _along(self.path, self.facing_in, done)
        if t < self.t_leave:
            turned = (t - self.t_arrive) / TURN_S
            x, y = self.spot
            if turned < 1.0 and self.standing != self.facing_in[2]:
                facing = _turn(self.facing_in[2], self.standing, ease(turned))
                return x, y, facing, int(turned * 8) % 4
            return x, y, self.standing, None
        done = ease((t - self.t_leave) / (self.t_gone - self.t_leave))
        return _along(self.path[::-1], self.facing_out, done)


def plan_ride(
    car: CarLayout,
    outline: np.ndarray,
    carrying: str | None,
    taken: Sequence[Point2],
    rng: np.random.Generator,
) -> tuple[
    tuple[Point2, Point2, Point2], tuple[float, float, float], float, tuple[float, float, float]
]:
    """Path and facings for a group whose model has floor outline `outline` (N, 2), keeping
    away from the spots in `taken`: (path, facing in, standing, facing out)."""
    entry = -math.pi / 2  # facing into the car, from the door towards the back wall
    if carrying is None:
        grid = [
            (car.width * fx, car.depth * fy) for fx in (0.25, 0.5, 0.75) for fy in (0.2, 0.45, 0.7)
        ]
        options = [
            ((x + jx, y + jy), entry)
            for (x, y), (jx, jy) in zip(grid, rng.uniform(-0.07, 0.07, (9, 2)), strict=True)
        ]
    else:
        if carrying in ("ebike", "bicycle") and rng.random() < 0.3:
            entry += math.pi  # backed in, so it can be ridden straight out
        options = []
        for k in range(12):
            facing = entry + float(rng.uniform(-0.7, 0.7) if k else rng.uniform(-0.1, 0.1))
            dx, dy = _turned(outline, facing)
            lo_x, hi_x = WALL_GAP - dx.min(), car.width - WALL_GAP - dx.max()
            lo_y, hi_y = WALL_GAP - dy.min(), car.depth - 0.1 - dy.max()
            if lo_x <= hi_x and lo_y <= hi_y:
                spot = (
                    float(rng.uniform(lo_x, hi_x)),
                    lo_y + (hi_y - lo_y) * float(rng.uniform(0, 0.4)),
                )
                options.append((spot, facing))
        options = options or [((car.width / 2, car.depth / 2), entry)]
    spot, facing = max(options, key=lambda o: min((math.dist(o[0], p) for p in taken), default=0.0))
    middle = (car.door_x0 + car.door_x1) / 2
    if carrying is None:
        cross = min(max(spot[0], car.door_x0 + 0.25), car.door_x1 - 0.25)
        inside = (cross, max(car.depth - 0.35, spot[1]))
        start = (cross, car.depth + 1.2)
        heading = math.atan2(spot[1] - inside[1], spot[0] - inside[0])
        if math.dist(spot, inside) < 0.05:
            heading = entry
        standing = math.pi / 2 + float(rng.uniform(-0.35, 0.35))
        return (
            (start, inside, spot),
            (entry, heading, heading),
            standing,
            (
                heading + math.pi,
                entry + math.pi,
                entry + math.pi,
            ),
        )
    dx, dy = _turned(outline, entry)
    cross = middle + float(rng.uniform(-0.05, 0.05))
    inside = (cross, max(car.depth - dy.max() - 0.05, spot[1]))
    start = (cross, car.depth - dy.min() + 0.8)
    return (start, inside, spot), (entry, entry, facing), facing, (facing, entry, entry)


def path_length(path: Sequence[Point2]) -> float:
    return sum(math.dist(a, b) for a, b in zip(path, path[1:], strict=False))


def _turned(outline: np.ndarray, facing: float) -> tuple[np.ndarray, np.ndarray]:
    """World x and y offsets of the outline's points when the model faces `facing`."""
    c, s = math.cos(facing), math.sin(facing)
    return outline[:, 0] * c - outline[:, 1] * s, outline[:, 0] * s + outline[:, 1] * c


def ease(p: float) -> float:
    """0 at p <= 0, 1 at p >= 1: steady in the middle, gentle at both ends."""
    p = min(max(p, 0.0), 1.0)
    return 0.5 * (p + p * p * (3 - 2 * p))


def _turn(a: float, b: float, u: float) -> float:
    """The angle a fraction u of the short way from a to b."""
    return a + (math.remainder(b - a, 2 * math.pi)) * u


def _along(
    path: Sequence[Point2], facings: Sequence[float], done: float
) -> tuple[float, float, float, int]:
    """Point, facing and walk step a fraction `done` of the way along a path."""
    lengths = [math.dist(a, b) for a, b in zip(path, path[1:], strict=False)]
    total = sum(lengths)
    travelled = done * total
    left = travelled
    for i, length in enumerate(lengths):
        if left <= length or i == len(lengths) - 1:
            u = min(1.0, left / length) if length > 1e-9 else 1.0
            (ax, ay), (bx, by) = path[i], path[i + 1]
            facing = _turn(facings[i], facings[i + 1], u)
            return ax + (bx - ax) * u, ay + (by - ay) * u, facing, int(travelled / STRIDE) % 4
        left -= length
    raise AssertionError("unreachable: a path has at least one segment")


@dataclass(frozen=True)
class Stop:
    opening: float  # the doors start to open
    opened: float
    closing: float
    closed: float
    floor: int


class Timetable:
    """The car's stops, implied by the rides: the doors open for everyone walking in or out,
    and stay open between people close enough together that the car could not have left."""

    def __init__(self, rides: Sequence[Ride], seed: int, top_floor: int) -> None:
        windows = sorted(w for r in rides for w in ((r.t_enter, r.t_arrive), (r.t_leave, r.t_gone)))
        merged: list[list[float]] = []
        for a, b in windows:
            if merged and a - OPEN_S < merged[-1][1] + HOLD_S + CLOSE_S + 3.0:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        self.stops: list[Stop] = []
        floor = 0
        for a, b in merged:
            mixed = (int(a * 10) * 0x9E3779B1 + seed * 0x85EBCA77) & 0xFFFFFFFF
            nxt = 1 + mixed % top_floor
            floor = nxt if nxt != floor else nxt % top_floor + 1
            self.stops.append(Stop(a - OPEN_S, a, b + HOLD_S, b + HOLD_S + CLOSE_S, floor))
        self._openings = [stop.opening for stop in self.stops]

    def door_fraction(self, t: float) -> float:
        """How far the doors are open at t: 0 closed, 1 fully open."""
        k = bisect.bisect_right(self._openings, t) - 1
        if k < 0:
            return 0.0
        stop = self.stops[k]
        if t < stop.opened:
            return ease((t - stop.opening) / (stop.opened - stop.opening))
        if t < stop.closing:
            return 1.0
        return 1.0 - ease((t - stop.closing) / (stop.closed - stop.closing))

    def floor_at(self, t: float) -> tuple[int, int]:
        """(floor on the display, +1 going up / -1 down / 0 standing) at time t."""
        if not self.stops:
            return 1, 0
        k = bisect.bisect_right(self._openings, t) - 1
        if k < 0:
            return self.stops[0].floor, 0
        here = self.stops[k]
        if t <= here.closed or k + 1 == len(self.stops):
            return here.floor, 0
        there = self.stops[k + 1]
        floors = abs(there.floor - here.floor)
        travel = min(there.opening - here.closed - 1.6, 1.6 * floors + 1.0)
        done = (t - here.closed - 0.8) / max(travel, 1e-6)
        if done <= 0 or done >= 1:
            return (here.floor, 0) if done <= 0 else (there.floor, 0)
        going = 1 if there.floor > here.floor else -1
        return here.floor + going * int(done * floors + 0.5), going


def settled(test: Callable[[float], bool], t0: float, t1: float) -> float:
    """The moment within [t0, t1] after which `test` holds to the end: sampled, then refined,
    as a turning path may cross the door plane more than once."""
    steps = np.linspace(t0, t1, 61)
    failing = [t for t in steps if not test(float(t))]
    if not failing:
        return t0
    lo, hi = float(failing[-1]), float(failing[-1] + steps[1] - steps[0])
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if test(mid) else (mid, hi)
    return min(hi, t1)


def first_failing(test: Callable[[float], bool], t0: float, t1: float) -> float:
    """The first moment within [t0, t1] at which `test` no longer holds (t1 if it always does)."""
    steps = np.linspace(t0, t1, 61)
    failing = [t for t in steps if not test(float(t))]
    if not failing:
        return t1
    hi = float(failing[0])
    lo = max(t0, hi - float(steps[1] - steps[0]))
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if test(mid) else (lo, mid)
    return hi
