"""Things that move in front of a facade: falling objects, birds, drifting leaves and bags,
and people stepping onto balconies.

Each mover knows where it is at any scene time, so a frame can be drawn for any t. Heights and
positions across the wall are in facade metres and go through the facade geometry, so a fall
follows the floors' perspective; birds fly in picture pixels. Drawing is sub-pixel, straight
into the frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from simulators.scenes.facade_layout import GRAVITY, FacadeGeometry

SHIFT = 4
ONE = 1 << SHIFT

Colour = tuple[float, float, float]
Box = tuple[float, float, float, float]  # picture x0, y0, x1, y1
Shape = list[tuple[np.ndarray, Colour]]

# Outlines one unit tall, centred: (points, which of the object's two colours).
OUTLINES: dict[str, list[tuple[list[tuple[float, float]], int]]] = {
    "bottle": [
        (
            [(-0.17, 0.5), (0.17, 0.5), (0.17, -0.1), (0.07, -0.25), (0.07, -0.42)]
            + [(-0.07, -0.42), (-0.07, -0.25), (-0.17, -0.1)],
            0,
        ),
        ([(-0.08, -0.5), (0.08, -0.5), (0.08, -0.42), (-0.08, -0.42)], 1),
    ],
    "flower_pot": [
        ([(-0.38, -0.2), (0.38, -0.2), (0.27, 0.45), (-0.27, 0.45)], 0),
        ([(-0.36, -0.2), (-0.22, -0.5), (0.0, -0.34), (0.2, -0.55), (0.36, -0.2)], 1),
    ],
    "rubbish_bag": [
        (
            [(-0.45, 0.1), (-0.38, 0.4), (0.0, 0.48), (0.4, 0.38), (0.47, 0.0)]
            + [(0.3, -0.35), (0.1, -0.42), (-0.1, -0.42), (-0.35, -0.3)],
            0,
        ),
        ([(-0.1, -0.42), (0.1, -0.42), (0.14, -0.58), (-0.14, -0.58)], 1),
    ],
    "can": [
        ([(-0.26, -0.45), (0.26, -0.45), (0.26, 0.45), (-0.26, 0.45)], 0),
        ([(-0.26, -0.15), (0.26, -0.15), (0.26, 0.2), (-0.26, 0.2)], 1),
    ],
}
OBJECT_COLOURS: dict[str, list[tuple[Colour, Colour]]] = {
    "bottle": [((50, 110, 40), (30, 30, 180)), ((30, 60, 110), (200, 200, 200))]
    + [((215, 200, 170), (170, 90, 30))],
    "flower_pot": [((50, 90, 170), (40, 120, 50)), ((210, 210, 206), (40, 110, 60))],
    "rubbish_bag": [((34, 34, 36), (50, 50, 52)), ((210, 212, 214), (180, 180, 184))]
    + [((60, 60, 190), (220, 220, 220))],
    "can": [((190, 190, 196), (40, 40, 200)), ((190, 190, 196), (150, 90, 30))],
}
SHAPES_BY_SIZE = {
    "small": ("can", "bottle"),
    "medium": ("bottle", "flower_pot", "can"),
    "large": ("rubbish_bag", "flower_pot"),
}
SIZE_PX = {"small": 4.0, "medium": 6.0, "large": 9.0}  # at the foot of a 640-px-wide picture


@dataclass(frozen=True)
class Fall:
    """An object let go from a floor: free fall from rest, with a little sideways drift."""

    t_start: float
    t_end: float
    floor: int
    u0: float
    h0: float
    drift: float  # m/s across the facade
    shape: str
    colours: tuple[Colour, Colour]
    size_px: float
    spin: float  # rad/s
    exposure_s: float
    label: str = "falling_object"

    def place(self, t: float) -> tuple[float, float]:
        """(u, h) in facade metres at time t."""
        dt = t - self.t_start
        return self.u0 + self.drift * dt, self.h0 - 0.5 * GRAVITY * dt * dt

    def outline(self, t: float, geo: FacadeGeometry) -> Shape:
        x, y = geo.point(*self.place(t))
        size = self.size_px * geo.nearness(y)
        angle = self.spin * (t - self.t_start)
        return _posed(OUTLINES[self.shape], self.colours, x, y, size, angle)

    def draw(self, frame: np.ndarray, t: float, geo: FacadeGeometry) -> None:
        x, y = geo.point(*self.place(t))
        before = max(self.t_start, t - self.exposure_s)
        bx, by = geo.point(*self.place(before))
        if math.hypot(x - bx, y - by) > 1:  # motion blur along the path
            width = self.size_px * geo.nearness(y) * 0.6
            _streak(frame, (bx, by), (x, y), width, self.colours[0], 0.45)
        _fill(frame, self.outline(t, geo))


@dataclass(frozen=True)
class Bird:
    """A bird crossing the picture, flapping or gliding; it keeps its height, give or take."""

    t_start: float
    t_end: float
    x0: float
    y0: float
    vx: float  # px/s, signed
    climb: float  # px/s, positive downwards
    bob_px: float
    bob_hz: float
    flap_hz: float  # 0 for a glide
    span_px: float
    colour: Colour
    label: str = "bird"

    def centre(self, t: float) -> tuple[float, float]:
        dt = t - self.t_start
        bob = self.bob_px * math.sin(2 * math.pi * self.bob_hz * dt)
        return self.x0 + self.vx * dt, self.y0 + self.climb * dt + bob

    def outline(self, t: float, geo: FacadeGeometry) -> Shape:
        x, y = self.centre(t)
        s = self.span_px
        lift = -0.12 * s
        if self.flap_hz:
            lift = 0.35 * s * math.sin(2 * math.pi * self.flap_hz * (t - self.t_start))
        heading = 1 if self.vx > 0 else -1
        wing = 0.09 * s
        body = [(x - 0.22 * s * heading, y), (x, y - wing * 0.8), (x + 0.25 * s * heading, y)]
        body.append((x, y + wing * 0.9))
        shapes = [(np.array(body), self.colour)]
        for side in (-1, 1):
            tip = (x + side * s / 2, y - lift)
            elbow = (x + side * s / 4, y - lift * 0.3 - wing)
            wing_poly = [
                (x - wing, y),
                elbow,
                tip,
                (x + side * s / 4, y - lift * 0.3),
                (x + wing, y),
            ]
            shapes.append((np.array(wing_poly), self.colour))
        return shapes

    def draw(self, frame: np.ndarray, t: float, geo: FacadeGeometry) -> None:
        _fill(frame, self.outline(t, geo))


@dataclass(frozen=True)
class Drifter:
    """A leaf or plastic bag sinking at a slow, steady speed, swaying from side to side."""

    t_start: float
    t_end: float
    u0: float
    h0: float
    sink: float  # m/s
    drift: float  # m/s across the facade
    sway_m: float
    sway_hz: float
    phase: float
    size_px: float
    colour: Colour
    label: str  # "leaf" or "plastic_bag"

    def place(self, t: float) -> tuple[float, float]:
        dt = t - self.t_start
        sway = self.sway_m * math.sin(2 * math.pi * self.sway_hz * dt + self.phase)
        return self.u0 + self.drift * dt + sway, self.h0 - self.sink * dt

    def outline(self, t: float, geo: FacadeGeometry) -> Shape:
        x, y = geo.point(*self.place(t))
        dt = t - self.t_start
        turn = 1.1 * math.cos(2 * math.pi * self.sway_hz * dt + self.phase)
        if self.label == "leaf":
            a = np.linspace(0, 2 * math.pi, 10, endpoint=False)
            unit = np.stack([0.5 * np.cos(a), 0.2 * np.sin(a)], axis=1)
        else:
            a = np.linspace(0, 2 * math.pi, 12, endpoint=False)
            wobble = 0.42 + 0.08 * np.sin(3 * a + 4 * dt) + 0.05 * np.cos(5 * a - 3 * dt)
            unit = np.stack([wobble * np.cos(a), wobble * np.sin(a) * 0.8], axis=1)
            turn *= 0.3
        return [(_turn(unit, turn) * self.size_px + (x, y), self.colour)]

    def draw(self, frame: np.ndarray, t: float, geo: FacadeGeometry) -> None:
        _fill(frame, self.outline(t, geo), 1.0 if self.label == "leaf" else 0.8)


@dataclass(frozen=True)
class BalconyPerson:
    """Someone who steps out onto a balcony, stands at the railing a while and goes in."""

    t_start: float
    t_end: float
    floor: int
    spot: float  # metres across the facade
    floor_h: float  # height of the balcony floor
    rail_m: float
    behind_glass: bool
    clothes: Colour
    hair: Colour
    skin: Colour
    label: str = "person"

    def opacity(self, t: float) -> float:
        """People come out of the dark room behind and go back into it."""
        ramp = min(t - self.t_start, self.t_end - t, 1.0)
        return max(0.0, ramp) * (0.7 if self.behind_glass else 1.0)

    def outline(self, t: float, geo: FacadeGeometry) -> Shape:
        sway = 0.08 * math.sin(2 * math.pi * 0.15 * (t - self.t_start))
        u, h = self.spot + sway, self.floor_h

        def at(du: float, dh: float) -> tuple[float, float]:
            return geo.point(u + du, h + dh)

        rail = self.rail_m
        torso = [at(-0.22, rail), at(0.22, rail), at(0.23, 1.4), at(0.12, 1.47)]
        torso += [at(-0.12, 1.47), at(-0.23, 1.4)]
        face = [at(dx, dy) for dx, dy in ((-0.09, 1.48), (0.09, 1.48), (0.1, 1.6), (-0.1, 1.6))]
        hair = [at(dx, dy) for dx, dy in ((-0.11, 1.58), (0.11, 1.58), (0.08, 1.72), (-0.08, 1.72))]
        return [
            (np.array(torso), self.clothes),
            (np.array(face), self.skin),
            (np.array(hair), self.hair),
        ]

    def draw(self, frame: np.ndarray, t: float, geo: FacadeGeometry) -> None:
        alpha = self.opacity(t)
        if alpha > 0:
            _fill(frame, self.outline(t, geo), alpha)


Mover = Fall | Bird | Drifter | BalconyPerson


def box_of(shape: Shape) -> Box:
    """Picture bounding box (x0, y0, x1, y1) of an outline."""
    points = np.concatenate([pts for pts, _ in shape])
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


def _turn(points: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return points @ np.array([[c, s], [-s, c]])


def _posed(
    outlines: list[tuple[list[tuple[float, float]], int]],
    colours: tuple[Colour, Colour],
    x: float,
    y: float,
    size: float,
    angle: float,
) -> Shape:
    return [(_turn(np.array(pts), angle) * size + (x, y), colours[i]) for pts, i in outlines]


def _fill(frame: np.ndarray, shape: Shape, alpha: float = 1.0) -> None:
    """Draw an outline anti-aliased at sub-pixel positions, blended by `alpha`."""
    x0, y0, x1, y1 = box_of(shape)
    h, w = frame.shape[:2]
    ix0, iy0 = max(int(x0) - 1, 0), max(int(y0) - 1, 0)
    ix1, iy1 = min(int(x1) + 2, w), min(int(y1) + 2, h)
    if ix1 <= ix0 or iy1 <= iy0:
        return
    region = frame[iy0:iy1, ix0:ix1]
    target = region if alpha >= 1 else region.copy()
    for pts, colour in shape:
        fixed = np.round((pts - (ix0, iy0)) * ONE).astype(np.int32)
        cv2.fillPoly(target, [fixed], colour, cv2.LINE_AA, SHIFT)
    if alpha < 1:
        cv2.addWeighted(target, alpha, region, 1 - alpha, 0, dst=region)


def _streak(
    frame: np.ndarray,
    start: tuple[float, float],
    end: tuple[float, float],
    width: float,
    colour: Colour,
    alpha: float,
) -> None:
    """A faint smear from `start` to `end`, as a fast object leaves on one exposure."""
    h, w = frame.shape[:2]
    pad = int(width) + 2
    ix0, iy0 = max(int(min(start[0], end[0])) - pad, 0), max(int(min(start[1], end[1])) - pad, 0)
    ix1, iy1 = min(int(max(start[0], end[0])) + pad, w), min(int(max(start[1], end[1])) + pad, h)
    if ix1 <= ix0 or iy1 <= iy0:
        return
    region = frame[iy0:iy1, ix0:ix1]
    smear = region.copy()
    p0 = (round((start[0] - ix0) * ONE), round((start[1] - iy0) * ONE))
    p1 = (round((end[0] - ix0) * ONE), round((end[1] - iy0) * ONE))
    cv2.line(smear, p0, p1, colour, max(1, round(width)), cv2.LINE_AA, SHIFT)
    cv2.addWeighted(smear, alpha, region, 1 - alpha, 0, dst=region)
