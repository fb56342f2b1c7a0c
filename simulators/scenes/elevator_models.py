"""Small 3D models for the elevator camera: people, and the parts their belongings are made of.

A model is a set of points and parts in its own frame (metres; x forward, y to its left, z up):
flat faces, tubes, balls, convex solids and wheels. Placing it in the car is one rotation and
shift of all its points; drawing it is one projection, then its parts from far to near.
Each part belongs to a member (a person, an e-bike, ...) so each can be boxed on its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from simulators.scenes.elevator_layout import NEAR, CarCamera

Colour = tuple[int, int, int]
Point = tuple[float, float, float]
SHIFT = 3  # sub-pixel bits for OpenCV drawing
ONE = 1 << SHIFT


@dataclass(frozen=True)
class Part:
    kind: str  # face | poly | hull | tube | ball | loop | lines
    start: int
    stop: int
    colour: Colour
    radius: float = 0.0  # m, for tubes, balls and loops
    normal: Point | None = None  # faces are skipped when turned away from the camera
    member: int = 0


@dataclass(frozen=True)
class Model:
    points: np.ndarray  # (N, 3) float64, model frame
    parts: tuple[Part, ...]
    members: tuple[str, ...]  # label of each member, e.g. ("person", "ebike")
    footprints: tuple[tuple[float, float, float, float], ...]  # (x, y, rx, ry) floor shadows

    @cached_property
    def _starts(self) -> np.ndarray:
        return np.array([part.start for part in self.parts])

    @cached_property
    def _sizes(self) -> np.ndarray:
        return np.array([part.stop - part.start for part in self.parts], np.float64)

    @cached_property
    def _normals(self) -> np.ndarray:
        """(P, 3) part normals in the model frame, zero for parts seen from every side."""
        return np.array([part.normal or (0.0, 0.0, 0.0) for part in self.parts])

    def per_part_mean(self, values: np.ndarray) -> np.ndarray:
        """Mean of per-point `values` (N,) or (N, k) over each part's points."""
        sums = np.add.reduceat(values, self._starts, axis=0)
        return sums / (self._sizes if values.ndim == 1 else self._sizes[:, None])


class ModelBuilder:
    """Collects parts; `member(label)` starts tagging new parts with a new member."""

    def __init__(self) -> None:
        self._points: list[np.ndarray] = []
        self._parts: list[Part] = []
        self._count = 0
        self._members: list[str] = []
        self._footprints: list[tuple[float, float, float, float]] = []
        self.scale = 1.0  # applied to the points and sizes of parts added from now on

    def member(self, label: str) -> None:
        self._members.append(label)

    def footprint(self, x: float, y: float, rx: float, ry: float) -> None:
        k = self.scale
        self._footprints.append((x * k, y * k, rx * k, ry * k))

    def add(
        self,
        kind: str,
        points: Sequence[Sequence[float]] | np.ndarray,
        colour: Sequence[float],
        radius: float = 0.0,
        normal: Point | None = None,
    ) -> None:
        pts = np.asarray(points, np.float64).reshape(-1, 3) * self.scale
        radius *= self.scale
        rgb = tuple(int(np.clip(c, 0, 255)) for c in colour)
        member = max(0, len(self._members) - 1)
        self._parts.append(
            Part(kind, self._count, self._count + len(pts), rgb, radius, normal, member)  # type: ignore[arg-type]
        )
        self._points.append(pts)
        self._count += len(pts)

    def tube(self, p0: Point, p1: Point, radius: float, colour: Sequence[float]) -> None:
        self.add("tube", [p0, p1], colour, radius)

    def ball(self, centre: Point, radius: float, colour: Sequence[float]) -> None:
        self.add("ball", [centre], colour, radius)

    def box(self, lo: Point, hi: Point, colour: Sequence[float]) -> None:
        (x0, y0, z0), (x1, y1, z1) = lo, hi
        self.extrude([(x0, z0), (x1, z0), (x1, z1), (x0, z1)], y0, y1, colour)

    def extrude(
        self, profile: Sequence[tuple[float, float]], y0: float, y1: float, colour: Sequence[float]
    ) -> None:
        """A solid from a side view: the (x, z) outline, reaching from y0 to y1 across."""
        pts = np.asarray(profile, np.float64)
        area = np.sum(pts[:, 0] * np.roll(pts[:, 1], -1) - np.roll(pts[:, 0], -1) * pts[:, 1])
        if area < 0:
            pts = pts[::-1]
        base = np.asarray(colour, np.float64)
        for y, sign in ((y0, -1.0), (y1, 1.0)):
            side = [(x, y, z) for x, z in pts]
            self.add("face", side, base * 0.86, normal=(0.0, sign, 0.0))
        for (xa, za), (xb, zb) in zip(pts, np.roll(pts, -1, axis=0), strict=True):
            nx, nz = zb - za, -(xb - xa)
            length = math.hypot(nx, nz) or 1.0
            nx, nz = nx / length, nz / length
            quad = [(xa, y0, za), (xb, y0, zb), (xb, y1, zb), (xa, y1, za)]
            self.add("face", quad, base * (0.82 + 0.26 * nz), normal=(nx, 0.0, nz))

    def cylinder(
        self,
        centre: tuple[float, float],
        z0: float,
        z1: float,
        radii: tuple[float, float],
        colour: Sequence[float],
    ) -> None:
        """An upright elliptic cylinder: its silhouette, then a lighter top."""
        ring = [(centre[0] + radii[0] * c, centre[1] + radii[1] * s) for c, s in _CIRCLE12]
        self.add("hull", [(x, y, z) for x, y in ring for z in (z0, z1)], colour)
        self.add("poly", [(x, y, z1) for x, y in ring], np.asarray(colour) * 1.06)

    def wheel(
        self,
        centre: Point,
        radius: float,
        width: float,
        tyre: Sequence[float],
        rim: Sequence[float],
        spokes: int = 0,
    ) -> None:
        """A wheel rolling along x: spoked and see-through, or a solid fat tyre with a disc hub."""
        cx, cy, cz = centre
        if spokes:
            ring = [(cx + radius * c, cy, cz + radius * s) for c, s in _CIRCLE20]
            self.add("loop", ring, tyre, radius=width / 2)
            pairs = []
            for k in range(spokes):
                angle = 2 * math.pi * k / spokes
                pairs += [
                    (cx, cy, cz),
                    (cx + radius * math.cos(angle), cy, cz + radius * math.sin(angle)),
                ]
            self.add("lines", pairs, rim)
            self.ball((cx, cy, cz), radius * 0.08, rim)
            return
        tread = [
            (cx + radius * c, cy + side * width / 2, cz + radius * s)
            for side in (-1, 1)
            for c, s in _CIRCLE20
        ]
        self.add("hull", tread, tyre)
        for side in (-1, 1):
            y = cy + side * width * 0.52
            disc = [(cx + radius * 0.62 * c, y, cz + radius * 0.62 * s) for c, s in _CIRCLE12]
            self.add("poly", disc, rim, normal=(0.0, float(side), 0.0))
            self.add("ball", [(cx, y + side * 0.005, cz)], np.asarray(rim) * 0.6, radius * 0.2)

    def build(self) -> Model:
        return Model(
            np.concatenate(self._points),
            tuple(self._parts),
            tuple(self._members) or ("object",),
            tuple(self._footprints),
        )


_CIRCLE12 = [(math.cos(a), math.sin(a)) for a in np.linspace(0, 2 * math.pi, 12, endpoint=False)]
_CIRCLE20 = [(math.cos(a), math.sin(a)) for a in np.linspace(0, 2 * math.pi, 20, endpoint=False)]


@dataclass(frozen=True)
class Placed:
    """A model put in the car: its points in world and picture coordinates."""

    model: Model
    x: float
    y: float
    yaw: float
    world: np.ndarray
    pixels: np.ndarray
    distance: np.ndarray  # from the lens, m
    in_front: np.ndarray  # bool, far enough in front of the lens to draw


def place(model: Model, camera: CarCamera, x: float, y: float, yaw: float) -> Placed:
    """Turn the model to `yaw` (radians, 0 = facing +x) and stand it at floor point (x, y)."""
    c, s = math.cos(yaw), math.sin(yaw)
    turn = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    world = model.points @ turn.T + (x, y, 0.0)
    cam = camera.to_camera(world)
    distance = np.linalg.norm(cam, axis=1)
    return Placed(model, x, y, yaw, world, camera.to_image(cam), distance, cam[:, 2] > NEAR)


Stroke = tuple[float, Part, np.ndarray, int]  # (distance, part, pixel points << SHIFT, thickness)


def strokes(
    placed: Placed, camera: CarCamera, outside_y: float
) -> tuple[list[Stroke], list[Stroke]]:
    """Drawable parts split into (inside the car, beyond the door plane at y = outside_y)."""
    model, world = placed.model, placed.world
    c, s = math.cos(placed.yaw), math.sin(placed.yaw)
    seen = np.minimum.reduceat(placed.in_front, model._starts)
    distance = model.per_part_mean(placed.distance)
    centre = model.per_part_mean(world)
    n = model._normals
    normal = np.stack([c * n[:, 0] - s * n[:, 1], s * n[:, 0] + c * n[:, 1], n[:, 2]], axis=1)
    facing = np.einsum("ij,ij->i", normal, camera.position - centre)
    seen &= (facing > 0) | ~n.any(axis=1)
    inside: list[Stroke] = []
    outside: list[Stroke] = []
    pixels = np.round(placed.pixels * ONE).astype(np.int32)
    for index in np.flatnonzero(seen):
        part = model.parts[index]
        thickness = 1
        if part.radius:
            thickness = max(1, round(2 * part.radius * camera.focal / distance[index]))
        stroke = (float(distance[index]), part, pixels[part.start : part.stop], thickness)
        (outside if centre[index, 1] > outside_y else inside).append(stroke)
    return inside, outside


def draw(frame: np.ndarray, items: list[Stroke]) -> None:
    """Paint strokes far to near (a painter's algorithm; the parts are small enough for it)."""
    for _, part, pts, thickness in sorted(items, key=lambda item: -item[0]):
        colour = part.colour
        if part.kind in ("face", "poly"):
            cv2.fillPoly(frame, [pts], colour, cv2.LINE_AA, SHIFT)
        elif part.kind == "hull":
            cv2.fillPoly(frame, [cv2.convexHull(pts)], colour, cv2.LINE_AA, SHIFT)
        elif part.kind == "tube":
            cv2.line(frame, tuple(pts[0]), tuple(pts[1]), colour, thickness, cv2.LINE_AA, SHIFT)
        elif part.kind == "ball":
            cv2.circle(
                frame, tuple(pts[0]), max(ONE, thickness * ONE // 2), colour, -1, cv2.LINE_AA, SHIFT
            )
        elif part.kind == "loop":
            cv2.polylines(frame, [pts], True, colour, thickness, cv2.LINE_AA, SHIFT)
        elif part.kind == "lines":
            cv2.polylines(frame, list(pts.reshape(-1, 2, 2)), False, colour, 1, cv2.LINE_AA, SHIFT)


Box = tuple[float, float, float, float]  # (x0, y0, x1, y1) pixels


def pixel_bounds(pixels: np.ndarray) -> Box | None:
    """(x0, y0, x1, y1) around pixel points (N, 2), None when there are none."""
    if len(pixels) == 0:
        return None
    return (
        float(pixels[:, 0].min()),
        float(pixels[:, 1].min()),
        float(pixels[:, 0].max()),
        float(pixels[:, 1].max()),
    )


def union(boxes: list[Box | None]) -> Box | None:
    """The box around all given boxes, None when there are none."""
    real = [b for b in boxes if b is not None]
    if not real:
        return None
    return (
        min(b[0] for b in real),
        min(b[1] for b in real),
        max(b[2] for b in real),
        max(b[3] for b in real),
    )


def clip(box: Box, x0: float, y0: float, x1: float, y1: float) -> Box | None:
    """The part of `box` within (x0, y0, x1, y1), None when they do not overlap."""
    cx0, cy0, cx1, cy1 = max(box[0], x0), max(box[1], y0), min(box[2], x1), min(box[3], y1)
    return (cx0, cy0, cx1, cy1) if cx1 > cx0 and cy1 > cy0 else None


# ---- people ---------------------------------------------------------------------------------

TOPS: tuple[Colour, ...] = (
    (40, 40, 44), (120, 60, 30), (200, 200, 204), (60, 60, 150), (70, 110, 60), (150, 150, 150),
    (40, 70, 170), (150, 110, 70), (110, 160, 200), (90, 50, 110), (30, 140, 210), (180, 120, 200),
)  # fmt: skip
TROUSERS: tuple[Colour, ...] = (
    (40, 36, 34), (110, 70, 40), (80, 80, 84), (120, 150, 170), (60, 50, 40), (150, 140, 130),
)  # fmt: skip
HAIR: tuple[Colour, ...] = ((20, 22, 26), (24, 30, 44), (30, 44, 70), (150, 150, 152))
SKIN: tuple[Colour, ...] = ((150, 176, 214), (120, 150, 196), (96, 124, 168), (164, 190, 226))
HELMETS: tuple[Colour, ...] = ((30, 200, 240), (200, 130, 20), (230, 230, 230), (40, 40, 200))


@dataclass(frozen=True)
class PersonLook:
    height: float
    shoulders: float  # half width, m
    top: Colour
    trousers: Colour
    hair: Colour
    skin: Colour
    helmet: Colour | None = None
    backpack: Colour | None = None

    @classmethod
    def random(cls, rng: np.random.Generator, helmet_chance: float = 0.0) -> PersonLook:
        jitter = rng.uniform(0.85, 1.12, 3)

        def pick(options: Sequence[Colour]) -> Colour:
            return tuple(
                int(min(255, c * j))
                for c, j in zip(options[int(rng.integers(len(options)))], jitter, strict=True)
            )  # type: ignore[return-value]

        return cls(
            height=float(rng.uniform(1.52, 1.86)),
            shoulders=float(rng.uniform(0.17, 0.22)),
            top=pick(TOPS),
            trousers=pick(TROUSERS),
            hair=HAIR[int(rng.integers(len(HAIR)))],
            skin=SKIN[int(rng.integers(len(SKIN)))],
            helmet=HELMETS[int(rng.integers(len(HELMETS)))]
            if rng.random() < helmet_chance
            else None,
            backpack=pick(TOPS) if rng.random() < 0.2 else None,
        )


def add_person(
    b: ModelBuilder,
    look: PersonLook,
    at: tuple[float, float] = (0.0, 0.0),
    phase: int | None = None,
    hands: tuple[Point, Point] | None = None,
    seated: bool = False,
) -> None:
    """A person at `at` facing +x; `phase` 0-3 is a step of the walk, None standing still;
    `hands` holds (left, right) hand positions when they push or wheel something."""
    b.member("person")
    ox, oy = at
    h, sw = look.height, look.shoulders
    swing = 0.0 if phase is None else (0.0, 1.0, 0.0, -1.0)[phase] * 0.2
    hip = 0.5 * h if not seated else 0.52
    for side in (1, -1):
        foot_x = ox + (side * swing if not seated else 0.42)
        hip_point = (ox - (0.08 if seated else 0.0), oy + side * 0.09, hip)
        if seated:
            knee = (ox + 0.32, oy + side * 0.1, hip + 0.04)
            b.tube(hip_point, knee, 0.075, look.trousers)
            b.tube(knee, (foot_x, oy + side * 0.1, 0.14), 0.06, look.trousers)
            b.ball((foot_x + 0.04, oy + side * 0.1, 0.12), 0.055, (30, 30, 34))
        else:
            b.tube(hip_point, (foot_x, oy + side * 0.09, 0.07), 0.068, look.trousers)
            b.ball((foot_x + 0.04, oy + side * 0.09, 0.05), 0.055, (30, 30, 34))
    base_x = ox - (0.08 if seated else 0.0)
    torso_top = hip + 0.31 * h
    b.cylinder((base_x, oy), hip - 0.03, hip + 0.06, (0.11, 0.16), look.trousers)
    b.cylinder((base_x, oy), hip + 0.04, torso_top, (0.12, sw - 0.02), look.top)
    if look.backpack is not None:
        b.box(
            (base_x - 0.26, oy - 0.14, hip + 0.12),
            (base_x - 0.1, oy + 0.14, torso_top - 0.04),
            look.backpack,
        )
    for side, hand in zip((1, -1), hands or (None, None), strict=True):
        shoulder = (base_x, oy + side * sw, torso_top - 0.04)
        if hand is None and seated:
            hand = (base_x + 0.15, oy + side * (sw + 0.06), hip + 0.18)  # on the armrest
        elif hand is None:
            hand = (base_x - side * swing * 0.7, oy + side * (sw + 0.04), torso_top - 0.3 * h)
        b.tube(shoulder, hand, 0.045, look.top)
        b.ball(hand, 0.04, look.skin)
    head_z = torso_top + 0.115 * h
    b.tube((base_x, oy, torso_top - 0.02), (base_x + 0.01, oy, head_z - 0.06), 0.045, look.skin)
    b.ball((base_x + 0.035, oy, head_z - 0.005), 0.088, look.skin)
    if look.helmet is not None:
        b.ball((base_x - 0.005, oy, head_z + 0.035), 0.118, look.helmet)
    else:
        b.ball((base_x - 0.02, oy, head_z + 0.02), 0.096, look.hair)
    b.footprint(base_x + (0.15 if seated else 0.0), oy, 0.24, 0.26)
