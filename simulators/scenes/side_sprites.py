"""Side-view sprites for cameras that look across a room: e-bikes and walking people.

Shapes are given in metres (x forward from the object's front or back, y up from the floor),
scaled by the pixels per metre at the object's depth and supersampled, then pasted with
`sprites.Sprite`. A bike faces left and is shortened by `squeeze`, the way a bike parked at an
angle to the picture looks shorter. Each sprite knows where it touches the floor (its anchor)
and a few named points, such as a bike's tail light, relative to that anchor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from simulators.scenes.sprites import SUPERSAMPLE, Sprite, _ellipse, _poly, _rounded_rect

# BGR plastic colours of everyday e-bikes; the last two are the orange and red ones.
BIKE_COLOURS: tuple[tuple[int, int, int], ...] = (
    (236, 236, 232),  # white
    (44, 44, 48),  # black
    (186, 162, 240),  # pink
    (222, 186, 128),  # light blue
    (172, 212, 156),  # mint
    (150, 150, 154),  # grey
    (118, 62, 30),  # dark blue
    (196, 206, 216),  # champagne
    (150, 84, 128),  # purple
    (60, 198, 232),  # yellow
    (28, 116, 238),  # orange
    (40, 40, 196),  # red
)
TYRE = (28, 28, 30)


@dataclass(frozen=True)
class BikeLook:
    kind: str  # "scooter" or "bicycle"
    colour: tuple[int, int, int]
    top_box: tuple[int, int, int] | None
    basket: bool


@dataclass(frozen=True)
class Person:
    top: tuple[int, int, int]
    legs: tuple[int, int, int]
    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    long_coat: bool = False


@dataclass(frozen=True)
class SideSprite:
    sprite: Sprite
    anchor: tuple[float, float]  # sprite pixel standing on the floor point
    points: dict[str, tuple[float, float]] = field(default_factory=dict)  # px from anchor

    def paste(self, frame: np.ndarray, x: float, y: float) -> None:
        """Blend into `frame` with the anchor on pixel (x, y)."""
        h, w = self.sprite.through.shape[:2]
        self.sprite.paste(frame, x - self.anchor[0] + w / 2, y - self.anchor[1] + h / 2)

    def box(self, x: float, y: float) -> tuple[float, float, float, float]:
        """Pixel (x0, y0, x1, y1) of the object when its anchor stands on (x, y)."""
        bx0, by0, bx1, by1 = self.sprite.body
        left, top = round(x - self.anchor[0]), round(y - self.anchor[1])
        return (left + bx0, top + by0, left + bx1, top + by1)

    def point(self, name: str, x: float, y: float) -> tuple[float, float]:
        dx, dy = self.points[name]
        return (x + dx, y + dy)


class _Pen:
    """Draws on a colour layer and an opacity layer at once, in metres."""

    def __init__(self, width_m: float, height_m: float, ppm: float, squeeze: float = 1.0):
        self.s = ppm * SUPERSAMPLE
        self.squeeze = squeeze
        self.pad = 4 * SUPERSAMPLE + int(0.3 * self.s)
        w = int(math.ceil(width_m * squeeze * self.s)) + 2 * self.pad
        h = int(math.ceil(height_m * self.s)) + 2 * self.pad
        w, h = w + (-w) % SUPERSAMPLE, h + (-h) % SUPERSAMPLE
        self.colour = np.zeros((h, w, 3), np.uint8)
        self.alpha = np.zeros((h, w), np.uint8)
        self.ground = h - self.pad

    def p(self, x: float, y: float) -> tuple[float, float]:
        return (self.pad + x * self.squeeze * self.s, self.ground - y * self.s)

    def ellipse(self, c: tuple[float, float], rx: float, ry: float, colour: object) -> None:
        for layer, value in ((self.colour, colour), (self.alpha, 255)):
            _ellipse(layer, self.p(*c), (rx * self.squeeze * self.s, ry * self.s), value)

    def ring(self, c: tuple[float, float], r: float, width: float, colour: object) -> None:
        centre = tuple(int(round(v)) for v in self.p(*c))
        axes = (int(round(r * self.squeeze * self.s)), int(round(r * self.s)))
        for layer, value in ((self.colour, colour), (self.alpha, 255)):
            cv2.ellipse(layer, centre, axes, 0, 0, 360, value, max(1, int(width * self.s)))  # type: ignore[call-overload]

    def poly(self, pts: list[tuple[float, float]], colour: object) -> None:
        for layer, value in ((self.colour, colour), (self.alpha, 255)):
            _poly(layer, [self.p(*q) for q in pts], value)

    def rect(self, x0: float, y0: float, x1: float, y1: float, r: float, colour: object) -> None:
        (a, b), (c, d) = self.p(x0, y1), self.p(x1, y0)
        for layer, value in ((self.colour, colour), (self.alpha, 255)):
            _rounded_rect(layer, a, b, c, d, r * self.s, value)

    def line(self, pts: list[tuple[float, float]], width: float, colour: object) -> None:
        points = np.round([self.p(*q) for q in pts]).astype(np.int32)
        thick = max(1, int(round(width * self.s)))
        for layer, value in ((self.colour, colour), (self.alpha, 255)):
            cv2.polylines(layer, [points], False, value, thick, cv2.LINE_AA)  # type: ignore[call-overload]

    def finish(
        self, anchor_m: tuple[float, float], points_m: dict[str, tuple[float, float]], flip: bool
    ) -> SideSprite:
        """Downsample, add a soft contact shadow on the floor and name the points in pixels."""
        colour, alpha = self.colour, self.alpha
        if flip:
            colour, alpha = colour[:, ::-1], alpha[:, ::-1]
        h, w = alpha.shape
        small = (w // SUPERSAMPLE, h // SUPERSAMPLE)
        over = cv2.resize(colour, small, interpolation=cv2.INTER_AREA).astype(np.float32)
        opacity = cv2.resize(alpha, small, interpolation=cv2.INTER_AREA).astype(np.float32) / 255
        columns = np.nonzero(opacity.max(axis=0) > 0.3)[0]
        shadow = np.zeros_like(opacity)
        ground = self.ground / SUPERSAMPLE
        if len(columns):
            centre = (int((columns[0] + columns[-1]) / 2), int(ground))
            half = (
                int((columns[-1] - columns[0]) / 2 + 2),
                max(1, int(0.05 * self.s / SUPERSAMPLE)),
            )
            cv2.ellipse(shadow, centre, half, 0, 0, 360, 0.5, -1, cv2.LINE_AA)
            shadow = cv2.GaussianBlur(shadow, (0, 0), max(1.0, half[1] * 0.8))
        through = ((1 - opacity) * (1 - shadow))[..., None].astype(np.float32)
        x, y, bw, bh = cv2.boundingRect((opacity > 0.5).astype(np.uint8))
        sprite = Sprite(over=over, through=through, body=(x, y, x + bw, y + bh))

        def px(q: tuple[float, float]) -> tuple[float, float]:
            sx, sy = self.p(*q)
            if flip:
                sx = w - 1 - sx
            return (sx / SUPERSAMPLE, sy / SUPERSAMPLE)

        anchor = px(anchor_m)
        named = {k: (px(v)[0] - anchor[0], px(v)[1] - anchor[1]) for k, v in points_m.items()}
        return SideSprite(sprite, anchor, named)


def _shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return tuple(int(np.clip(c * factor, 0, 255)) for c in colour)  # type: ignore[return-value]


def bike_sprite(look: BikeLook, ppm: float, squeeze: float = 0.64) -> SideSprite:
    """An e-bike seen from the side, front to the left, parked at an angle (`squeeze`)."""
    pen = _Pen(1.85, 1.35, ppm, squeeze)
    body, dark = look.colour, _shade(look.colour, 0.72)
    if look.kind == "scooter":
        points = _scooter(pen, look, body, dark)
    else:
        points = _bicycle(pen, look, body, dark)
    return pen.finish((0.86, 0.0), points, flip=False)


def _scooter(
    pen: _Pen, look: BikeLook, body: tuple[int, int, int], dark: tuple[int, int, int]
) -> dict[str, tuple[float, float]]:
    r, front, rear = 0.24, 0.34, 1.38
    pen.line([(rear, r), (1.02, 0.40)], 0.08, (48, 48, 52))  # swing arm and hub motor
    for x in (front, rear):
        pen.ellipse((x, r), r, r, TYRE)
        pen.ellipse((x, r), r * 0.56, r * 0.56, (150, 152, 156))
        pen.ellipse((x, r), r * 0.2, r * 0.2, (84, 84, 90))
    arc = [
        (front + (r + 0.04) * math.cos(a), r + (r + 0.04) * math.sin(a))
        for a in np.linspace(0.3, 2.6, 9)
    ]
    pen.poly(arc + [(front - r * 0.7, r + 0.1), (front + r * 0.8, r + 0.12)], body)
    pen.poly(
        [(1.0, 0.40), (1.04, 0.74), (1.74, 0.81), (1.82, 0.66), (1.70, 0.50), (1.50, 0.44)], body
    )
    pen.poly([(1.02, 0.40), (1.50, 0.44), (1.70, 0.50), (1.74, 0.56), (1.2, 0.52)], dark)
    pen.line([(1.08, 0.75), (1.72, 0.80)], 0.018, _shade(body, 1.2))
    pen.rect(1.00, 0.77, 1.64, 0.88, 0.04, (34, 34, 38))  # seat
    pen.rect(0.56, 0.27, 1.06, 0.36, 0.02, (52, 52, 56))  # footboard
    pen.line([(front, r), (0.47, 0.94)], 0.05, (110, 110, 116))  # fork
    pen.poly([(0.47, 0.28), (0.64, 0.28), (0.67, 0.98), (0.54, 1.02), (0.40, 0.72)], body)
    pen.poly([(0.60, 0.30), (0.64, 0.28), (0.67, 0.98), (0.62, 0.99)], dark)
    pen.rect(0.33, 0.94, 0.64, 1.09, 0.05, body)  # handlebar cover
    pen.ellipse((0.36, 1.01), 0.045, 0.04, (228, 236, 236))  # headlight
    pen.line([(0.58, 1.08), (0.72, 1.10)], 0.035, (30, 30, 32))  # grip
    pen.line([(0.55, 1.08), (0.59, 1.27)], 0.015, (30, 30, 32))
    pen.ellipse((0.60, 1.29), 0.05, 0.035, (40, 40, 44))  # mirror
    if look.top_box is not None:
        pen.rect(1.38, 0.85, 1.82, 1.12, 0.05, look.top_box)
        pen.line([(1.40, 0.98), (1.80, 0.98)], 0.012, _shade(look.top_box, 0.7))
    if look.basket:
        _basket(pen, 0.12, 0.86, 0.36, 1.04)
    pen.rect(1.75, 0.64, 1.84, 0.72, 0.01, (40, 40, 150))  # tail light
    return {"tail_light": (1.80, 0.68), "battery": (1.30, 0.58), "port": (1.04, 0.55)}


def _bicycle(
    pen: _Pen, look: BikeLook, body: tuple[int, int, int], dark: tuple[int, int, int]
) -> dict[str, tuple[float, float]]:
    r, front, rear = 0.29, 0.33, 1.36
    for x in (front, rear):
        for k in range(12):
            a = k * math.pi / 6
            pen.line(
                [(x, r), (x + r * 0.9 * math.cos(a), r + r * 0.9 * math.sin(a))],
                0.008,
                (150, 150, 150),
            )
        pen.ring((x, r), r - 0.025, 0.05, TYRE)
        pen.ellipse((x, r), 0.04, 0.04, (90, 90, 96))
    pen.line([(rear, r), (1.0, 0.36), (1.06, 0.86)], 0.035, body)
    pen.line([(1.06, 0.80), (rear, r)], 0.03, body)
    pen.line([(0.49, 0.88), (0.72, 0.46), (1.0, 0.36)], 0.07, body)
    pen.rect(1.09, 0.40, 1.30, 0.74, 0.03, (40, 40, 44))  # battery behind the seat tube
    pen.line([(1.10, 0.60), (1.29, 0.60)], 0.02, dark)
    pen.line([(1.06, 0.85), (1.64, 0.85)], 0.03, (90, 90, 94))  # rear rack
    pen.line([(1.52, 0.85), (rear, r)], 0.02, (90, 90, 94))
    arc = [
        (rear + (r + 0.03) * math.cos(a), r + (r + 0.03) * math.sin(a))
        for a in np.linspace(0.2, 2.2, 9)
    ]
    pen.line(arc, 0.035, body)
    pen.rect(1.00, 0.88, 1.25, 0.95, 0.03, (34, 34, 38))  # saddle
    pen.line([(front, r), (0.49, 0.88), (0.48, 1.06)], 0.04, (120, 120, 126))
    pen.line([(0.40, 1.06), (0.64, 1.08)], 0.03, (30, 30, 32))
    pen.ellipse((0.46, 0.93), 0.04, 0.035, (228, 236, 236))
    pen.line([(0.92, 0.30), (1.08, 0.42)], 0.03, (40, 40, 44))  # crank
    if look.basket:
        _basket(pen, 0.10, 0.80, 0.40, 1.04)
    if look.top_box is not None:
        pen.rect(1.26, 0.87, 1.66, 1.12, 0.05, look.top_box)
    pen.rect(1.60, 0.76, 1.68, 0.84, 0.01, (40, 40, 150))
    return {"tail_light": (1.65, 0.80), "battery": (1.20, 0.56), "port": (1.12, 0.60)}


def _basket(pen: _Pen, x0: float, y0: float, x1: float, y1: float) -> None:
    wire = (58, 58, 62)
    pen.line([(x0, y1), (x0 + 0.03, y0), (x1, y0), (x1, y1), (x0, y1)], 0.015, wire)
    for k in range(1, 4):
        x = x0 + (x1 - x0) * k / 4
        pen.line([(x, y0), (x, y1)], 0.008, wire)
    pen.line([(x0, (y0 + y1) / 2), (x1, (y0 + y1) / 2)], 0.008, wire)


WALK_PHASES = 8


def person_sprites(person: Person, ppm: float, facing: int) -> list[SideSprite]:
    """A person seen from the side: WALK_PHASES frames of a walk cycle, then standing still.

    `facing` is +1 for walking to the right, -1 to the left.
    """
    frames = []
    for phase in range(WALK_PHASES + 1):
        swing = 0.0 if phase == WALK_PHASES else math.sin(2 * math.pi * phase / WALK_PHASES)
        frames.append(_person(person, ppm, swing, phase, facing))
    return frames


def _person(person: Person, ppm: float, swing: float, phase: int, facing: int) -> SideSprite:
    pen = _Pen(0.9, 1.8, ppm)
    ox = 0.45
    stride = 0.42 * swing
    lift = 0.0 if phase == WALK_PHASES else math.cos(2 * math.pi * phase / WALK_PHASES)

    def leg(angle: float, bend: float) -> list[tuple[float, float]]:
        hip = (ox, 0.92)
        knee = (hip[0] + 0.46 * math.sin(angle), hip[1] - 0.46 * math.cos(angle))
        foot = (knee[0] + 0.45 * math.sin(angle - bend), knee[1] - 0.45 * math.cos(angle - bend))
        return [hip, knee, foot]

    legs = [leg(stride, 0.1 + 0.5 * max(0.0, lift)), leg(-stride, 0.1 + 0.5 * max(0.0, -lift))]
    drop = min(p[2][1] for p in legs) - 0.03
    legs = [[(x, y - drop) for x, y in p] for p in legs]
    hip_y = 0.92 - drop
    shoulder = (ox + 0.03, hip_y + 0.5)
    far_leg, near_leg = legs[1], legs[0]
    far = _shade(person.legs, 0.75)
    pen.line(far_leg, 0.13, far)
    pen.ellipse((far_leg[2][0] + 0.05, far_leg[2][1]), 0.12, 0.04, (34, 34, 38))

    def arm(angle: float) -> list[tuple[float, float]]:
        elbow = (shoulder[0] + 0.29 * math.sin(angle), shoulder[1] - 0.29 * math.cos(angle))
        hand = (elbow[0] + 0.27 * math.sin(angle + 0.35), elbow[1] - 0.27 * math.cos(angle + 0.35))
        return [shoulder, elbow, hand]

    pen.line(arm(0.45 * swing), 0.09, _shade(person.top, 0.75))
    hem = hip_y - (0.38 if person.long_coat else 0.04)
    pen.poly(
        [
            (ox - 0.13, hem),
            (ox + 0.13, hem),
            (ox + 0.14, shoulder[1]),
            (ox + 0.02, shoulder[1] + 0.05),
            (ox - 0.12, shoulder[1]),
        ],
        person.top,
    )
    pen.line(near_leg, 0.13, person.legs)
    if person.long_coat:  # the skirt of the coat hangs over the near thigh
        skirt = [(ox - 0.14, hem), (ox + 0.14, hem), (ox + 0.12, hip_y), (ox - 0.12, hip_y)]
        pen.poly(skirt, _shade(person.top, 0.95))
    pen.ellipse((near_leg[2][0] + 0.05, near_leg[2][1]), 0.12, 0.04, (30, 30, 34))
    near_arm = arm(-0.45 * swing)
    pen.line(near_arm, 0.09, _shade(person.top, 0.92))
    pen.ellipse(near_arm[2], 0.045, 0.045, person.skin)
    head = (ox + 0.05, shoulder[1] + 0.18)
    pen.line([(ox + 0.03, shoulder[1]), head], 0.07, person.skin)
    pen.ellipse(head, 0.1, 0.12, person.skin)
    pen.ellipse((head[0] - 0.035, head[1] + 0.05), 0.085, 0.075, person.hair)
    return pen.finish((ox, 0.0), {"head": (head[0], head[1] + 0.12)}, flip=facing < 0)
