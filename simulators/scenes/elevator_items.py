"""What passengers wheel into the car: e-bikes, and the look-alikes that are not e-bikes.

An e-bike has two small fat wheels, a battery box or a scooter body with a footboard, a wide
handlebar and usually a big seat. A bicycle has large thin spoked wheels and a frame of thin
tubes; a stroller, a wheelchair and a shopping trolley have their own unmistakable shapes.
Each item is built facing +x, centred on the origin, and says where its pusher stands.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulators.scenes.elevator_models import (
    Colour,
    ModelBuilder,
    PersonLook,
    Point,
    add_person,
)

ITEM_KINDS = ("ebike", "bicycle", "stroller", "wheelchair", "trolley")
BODY_COLOURS: tuple[Colour, ...] = (
    (236, 236, 234), (40, 40, 190), (170, 90, 30), (180, 150, 236), (38, 38, 40),
    (176, 210, 150), (40, 196, 230), (140, 140, 144), (60, 92, 44), (30, 120, 230),
)  # fmt: skip
FABRIC: tuple[Colour, ...] = (
    (90, 90, 94), (90, 50, 30), (150, 176, 196), (50, 50, 160), (70, 110, 70), (170, 140, 210),
    (36, 36, 38),
)  # fmt: skip
TYRE = (34, 34, 36)
CHROME = (196, 198, 200)
DARK = (46, 46, 48)


@dataclass(frozen=True)
class ItemLook:
    """One e-bike, bicycle, stroller, wheelchair or trolley: variant, colours, size, extras."""

    kind: str
    variant: str
    colour: Colour
    accent: Colour
    scale: float
    extras: frozenset[str]  # basket, topcase, mirrors, goods, chrome (rims), painted (frame)

    @classmethod
    def random(cls, kind: str, rng: np.random.Generator) -> ItemLook:
        if kind not in ITEM_KINDS:
            raise ValueError(f"unknown item {kind!r}; expected one of {', '.join(ITEM_KINDS)}")
        variants = {
            "ebike": ("scooter", "step-through"),
            "bicycle": ("diamond", "step-through"),
            "stroller": ("pram", "buggy"),
            "wheelchair": ("self-propelled", "pushed"),
            "trolley": ("supermarket", "folding cart"),
        }[kind]
        palette = FABRIC if kind in ("stroller", "trolley") else BODY_COLOURS
        extras = {
            name
            for name in ("basket", "topcase", "mirrors", "goods", "chrome", "painted")
            if rng.random() < 0.4
        }
        return cls(
            kind=kind,
            variant=str(rng.choice(variants)),
            colour=palette[int(rng.integers(len(palette)))],
            accent=BODY_COLOURS[int(rng.integers(len(BODY_COLOURS)))],
            scale=float(rng.uniform(0.93, 1.07)),
            extras=frozenset(extras),
        )


@dataclass(frozen=True)
class Handling:
    """Where the person with the item stands and holds it, in the item's frame."""

    person_at: tuple[float, float]
    hands: tuple[Point, Point]


def add_item(
    b: ModelBuilder, item: ItemLook, rider: PersonLook, helper: PersonLook | None
) -> Handling | None:
    """Add the item to `b` (and whoever sits in a wheelchair); say where its pusher stands,
    or None when nobody walks with it (a wheelchair its rider propels)."""
    b.member(item.kind)
    b.scale = item.scale
    build = {
        "ebike": _scooter if item.variant == "scooter" else _step_through_ebike,
        "bicycle": _bicycle,
        "stroller": _stroller,
        "wheelchair": _wheelchair,
        "trolley": _trolley if item.variant == "supermarket" else _folding_cart,
    }[item.kind]
    held = build(b, item)
    b.scale = 1.0
    if item.kind == "wheelchair":
        add_person(b, rider, seated=True)
        if helper is None:
            return None
    s = item.scale
    left, right = ((x * s, y * s, z * s) for x, y, z in held.hands)
    return Handling((held.person_at[0] * s, held.person_at[1] * s), (left, right))


def _arc(
    cx: float, cz: float, r0: float, r1: float, a0: float, a1: float
) -> list[tuple[float, float]]:
    """Side outline of a curved band (a mudguard, a hood): radii r0..r1, angles a0..a1 degrees."""
    angles = np.radians(np.linspace(a0, a1, 7))
    outer = [(cx + r1 * math.cos(a), cz + r1 * math.sin(a)) for a in angles]
    inner = [(cx + r0 * math.cos(a), cz + r0 * math.sin(a)) for a in angles[::-1]]
    return outer + inner


def _handlebar(b: ModelBuilder, x: float, z: float, half: float) -> tuple[Point, Point]:
    b.tube((x, -half, z), (x, half, z), 0.014, DARK)
    for side in (1, -1):
        b.tube((x, side * (half - 0.1), z), (x, side * (half + 0.01), z), 0.022, (28, 28, 30))
    return (x, half - 0.05, z), (x, -(half - 0.05), z)


def _wire_box(
    b: ModelBuilder,
    lo: tuple[float, float, float],
    hi: tuple[float, float, float],
    colour: Colour,
    step: float = 0.05,
) -> None:
    """An open mesh basket: rim tubes and thin wires on the sides and bottom."""
    (x0, y0, z0), (x1, y1, z1) = lo, hi
    for y in (y0, y1):
        b.tube((x0, y, z1), (x1, y, z1), 0.008, colour)
    for x in (x0, x1):
        b.tube((x, y0, z1), (x, y1, z1), 0.008, colour)
    wires: list[Point] = []
    for x in np.arange(x0, x1 + 1e-6, step):
        for y in (y0, y1):
            wires += [(x, y, z0), (x, y, z1)]
        wires += [(x, y0, z0), (x, y1, z0)]
    for y in np.arange(y0, y1 + 1e-6, step):
        for x in (x0, x1):
            wires += [(x, y, z0), (x, y, z1)]
    for z in np.linspace(z0, z1, 4)[:-1]:
        for y in (y0, y1):
            wires += [(x0, y, z), (x1, y, z)]
        for x in (x0, x1):
            wires += [(x, y0, z), (x, y1, z)]
    b.add("lines", wires, colour)


def _scooter(b: ModelBuilder, item: ItemLook) -> Handling:
    """A step-on e-scooter: fat 12-14" wheels, a footboard, the battery under a long seat."""
    body, radius = item.colour, 0.22
    rim = CHROME if "chrome" in item.extras else DARK
    b.wheel((-0.6, 0.0, radius), radius, 0.085, TYRE, rim)
    b.wheel((0.62, 0.0, radius), radius, 0.08, TYRE, rim)
    b.extrude(_arc(0.62, radius, radius + 0.02, radius + 0.06, 10, 150), -0.06, 0.06, body)
    b.box((-0.3, -0.17, 0.2), (0.32, 0.17, 0.29), DARK)
    b.extrude(
        [(-0.28, 0.26), (-0.3, 0.62), (-0.92, 0.7), (-0.98, 0.56), (-0.72, 0.36), (-0.45, 0.26)],
        -0.18,
        0.18,
        body,
    )
    b.extrude([(-0.3, 0.62), (-0.33, 0.73), (-0.9, 0.79), (-0.92, 0.7)], -0.15, 0.15, DARK)
    b.box((-1.0, -0.09, 0.55), (-0.96, 0.09, 0.62), (40, 40, 200))
    b.extrude(
        [(0.3, 0.2), (0.42, 0.2), (0.54, 0.92), (0.42, 0.98), (0.32, 0.56)], -0.21, 0.21, body
    )
    for side in (1, -1):
        b.tube((0.62, side * 0.05, radius), (0.5, side * 0.05, 0.78), 0.02, DARK)
    b.box((0.36, -0.14, 0.93), (0.58, 0.14, 1.06), body)
    b.ball((0.59, 0.0, 0.99), 0.05, (210, 240, 250))
    grip, _ = _handlebar(b, 0.45, 1.05, 0.34)
    if "mirrors" in item.extras:
        for side in (1, -1):
            b.tube((0.45, side * 0.24, 1.06), (0.41, side * 0.3, 1.24), 0.008, DARK)
            b.ball((0.41, side * 0.3, 1.26), 0.045, DARK)
    if "topcase" in item.extras:
        b.extrude(
            [(-1.04, 0.72), (-0.7, 0.72), (-0.72, 0.96), (-1.0, 0.98)], -0.19, 0.19, item.accent
        )
    if "basket" in item.extras:
        _wire_box(b, (0.62, -0.17, 0.76), (0.86, 0.17, 0.96), DARK)
    b.footprint(0.0, 0.0, 0.9, 0.24)
    return Handling((0.02, 0.5), (grip, (-0.42, 0.1, 0.8)))


def _step_through_ebike(b: ModelBuilder, item: ItemLook) -> Handling:
    """A pedal-assist e-bike: 14-16" fat wheels, a big battery box, a wide seat, a rack."""
    body, radius = item.colour, 0.24
    for x in (-0.56, 0.56):
        b.wheel((x, 0.0, radius), radius, 0.07, TYRE, CHROME)
        b.extrude(_arc(x, radius, radius + 0.02, radius + 0.05, 20, 160), -0.05, 0.05, body)
    b.tube((0.42, 0.0, 0.86), (0.22, 0.0, 0.36), 0.04, body)
    b.tube((0.22, 0.0, 0.36), (-0.3, 0.0, 0.34), 0.04, body)
    b.tube((-0.16, 0.0, 0.36), (-0.28, 0.0, 0.84), 0.03, body)
    for side in (1, -1):
        b.tube((-0.3, side * 0.05, 0.34), (-0.56, side * 0.05, radius), 0.018, body)
        b.tube((-0.26, side * 0.04, 0.76), (-0.56, side * 0.05, radius), 0.015, body)
        b.tube((0.56, side * 0.05, radius), (0.44, side * 0.05, 0.82), 0.02, DARK)
        b.tube((0.0, side * 0.1, 0.34), (0.04, side * 0.12, 0.24), 0.012, DARK)
    b.box((-0.36, -0.12, 0.36), (0.12, 0.12, 0.7), body)
    b.box((-0.34, -0.122, 0.5), (0.1, 0.122, 0.55), item.accent)
    b.box((0.0, -0.15, 0.3), (0.26, 0.15, 0.34), DARK)
    b.extrude([(-0.5, 0.86), (-0.12, 0.86), (-0.14, 0.95), (-0.48, 0.97)], -0.12, 0.12, DARK)
    b.box((-0.9, -0.11, 0.62), (-0.42, 0.11, 0.66), DARK)
    b.tube((0.42, 0.0, 0.86), (0.4, 0.0, 1.03), 0.022, DARK)
    b.box((0.42, -0.08, 0.9), (0.52, 0.08, 0.98), body)
    b.ball((0.53, 0.0, 0.94), 0.04, (210, 240, 250))
    grip, _ = _handlebar(b, 0.38, 1.04, 0.31)
    if "basket" in item.extras or "goods" in item.extras:
        _wire_box(b, (0.54, -0.17, 0.78), (0.82, 0.17, 0.98), DARK)
    b.footprint(0.0, 0.0, 0.85, 0.22)
    return Handling((-0.02, 0.48), (grip, (-0.3, 0.08, 0.96)))


def _bicycle(b: ModelBuilder, item: ItemLook) -> Handling:
    """A pedal bicycle: 26-28" spoked wheels, a frame of thin tubes, a narrow saddle."""
    frame, radius = item.colour, 0.34
    rear, front = (-0.52, 0.0, radius), (0.5, 0.0, radius)
    for centre in (rear, front):
        b.wheel(centre, radius, 0.03, TYRE, (170, 172, 176), spokes=16)
    crank, seat, head_top, head_bottom = (
        (-0.06, 0.0, 0.3),
        (-0.2, 0.0, 0.8),
        (0.36, 0.0, 0.83),
        (0.4, 0.0, 0.68),
    )
    if item.variant == "diamond":
        b.tube(seat, head_top, 0.017, frame)
    else:
        b.tube((-0.12, 0.0, 0.52), head_bottom, 0.017, frame)
    b.tube(crank, head_bottom, 0.019, frame)
    b.tube(crank, seat, 0.017, frame)
    b.tube(head_bottom, head_top, 0.02, frame)
    for side in (1, -1):
        b.tube(crank, (rear[0], side * 0.05, radius), 0.011, frame)
        b.tube(seat, (rear[0], side * 0.05, radius), 0.01, frame)
        b.tube(head_bottom, (front[0], side * 0.04, radius), 0.012, frame)
        b.tube((-0.06, side * 0.07, 0.3), (-0.02, side * 0.1, 0.16), 0.01, DARK)
    disc = [
        (crank[0] + 0.09 * math.cos(a), -0.06, crank[2] + 0.09 * math.sin(a))
        for a in np.linspace(0, 2 * math.pi, 12, endpoint=False)
    ]
    b.add("poly", disc, (90, 90, 94))
    b.tube(seat, (-0.23, 0.0, 0.92), 0.012, CHROME)
    b.extrude([(-0.33, 0.92), (-0.1, 0.93), (-0.12, 0.96), (-0.32, 0.97)], -0.07, 0.07, DARK)
    b.tube(head_top, (0.33, 0.0, 0.97), 0.014, CHROME)
    grip, _ = _handlebar(b, 0.32, 0.98, 0.29)
    if "basket" in item.extras and "goods" in item.extras:
        _wire_box(b, (0.46, -0.15, 0.8), (0.68, 0.15, 0.96), CHROME)
    b.footprint(0.0, 0.0, 0.85, 0.18)
    return Handling((-0.04, 0.44), (grip, (-0.22, 0.05, 0.96)))


def _stroller(b: ModelBuilder, item: ItemLook) -> Handling:
    """A pushchair: four small wheels, a fabric seat or bassinet, a hood, a push bar."""
    fabric, frame = item.colour, (CHROME if "chrome" in item.extras else DARK)
    for side in (1, -1):
        b.wheel((-0.28, side * 0.25, 0.1), 0.1, 0.045, TYRE, (120, 120, 124))
        b.wheel((0.3, side * 0.2, 0.075), 0.075, 0.04, TYRE, (120, 120, 124))
        b.tube((-0.28, side * 0.24, 0.1), (-0.46, side * 0.23, 1.02), 0.015, frame)
        b.tube((0.3, side * 0.2, 0.08), (0.12, side * 0.22, 0.56), 0.013, frame)
    b.tube((-0.46, -0.25, 1.02), (-0.46, 0.25, 1.02), 0.022, DARK)
    if item.variant == "pram":
        b.extrude([(-0.32, 0.42), (0.26, 0.42), (0.3, 0.7), (-0.34, 0.72)], -0.22, 0.22, fabric)
    else:
        b.extrude(
            [(-0.3, 0.4), (0.22, 0.4), (0.3, 0.52), (0.04, 0.56), (-0.32, 0.78)],
            -0.21,
            0.21,
            fabric,
        )
    b.ball((0.0, 0.0, 0.68), 0.065, (150, 176, 214))
    b.extrude(_arc(-0.08, 0.6, 0.3, 0.33, 70, 175), -0.23, 0.23, np.asarray(fabric) * 0.7)
    b.box((-0.2, -0.17, 0.16), (0.18, 0.17, 0.28), (60, 60, 62))
    b.footprint(0.0, 0.0, 0.42, 0.3)
    return Handling((-0.82, 0.0), ((-0.46, 0.2, 1.02), (-0.46, -0.2, 1.02)))


def _wheelchair(b: ModelBuilder, item: ItemLook) -> Handling:
    """A manual wheelchair: two large spoked wheels with push rims, casters, a sling seat."""
    frame = item.colour if "painted" in item.extras else CHROME
    for side in (1, -1):
        b.wheel((-0.1, side * 0.31, 0.3), 0.3, 0.03, TYRE, (170, 172, 176), spokes=18)
        rim = [
            (-0.1 + 0.26 * math.cos(a), side * 0.345, 0.3 + 0.26 * math.sin(a))
            for a in np.linspace(0, 2 * math.pi, 20, endpoint=False)
        ]
        b.add("loop", rim, CHROME, radius=0.008)
        b.wheel((0.34, side * 0.22, 0.07), 0.07, 0.03, TYRE, (150, 150, 150))
        b.tube((0.34, side * 0.22, 0.14), (0.28, side * 0.22, 0.5), 0.013, frame)
        b.tube((0.28, side * 0.22, 0.5), (-0.2, side * 0.22, 0.5), 0.013, frame)
        b.tube((-0.2, side * 0.22, 0.5), (-0.24, side * 0.22, 0.95), 0.013, frame)
        b.tube((-0.24, side * 0.22, 0.95), (-0.36, side * 0.22, 0.97), 0.02, DARK)
        b.tube((-0.15, side * 0.25, 0.72), (0.18, side * 0.25, 0.72), 0.025, DARK)
        b.tube((0.28, side * 0.2, 0.5), (0.44, side * 0.14, 0.14), 0.012, frame)
    b.box((0.38, 0.02, 0.1), (0.5, 0.2, 0.12), DARK)
    b.box((0.38, -0.2, 0.1), (0.5, -0.02, 0.12), DARK)
    b.box((-0.2, -0.22, 0.47), (0.26, 0.22, 0.52), DARK)
    b.box((-0.26, -0.22, 0.55), (-0.21, 0.22, 0.92), DARK)
    b.footprint(0.0, 0.0, 0.5, 0.38)
    return Handling((-0.74, 0.0), ((-0.36, 0.2, 0.97), (-0.36, -0.2, 0.97)))


def _trolley(b: ModelBuilder, item: ItemLook) -> Handling:
    """A supermarket trolley: a tapered wire basket on a low frame with four casters."""
    for x, half in ((-0.32, 0.21), (0.34, 0.17)):
        for side in (1, -1):
            b.wheel((x, side * half, 0.06), 0.06, 0.035, TYRE, (150, 150, 150))
            b.tube((x, side * half, 0.1), (x * 0.9, side * 0.2, 0.5), 0.01, CHROME)
        b.tube((x, -half, 0.12), (x, half, 0.12), 0.01, CHROME)
    _wire_box(b, (-0.4, -0.26, 0.52), (0.42, 0.26, 0.96), CHROME, step=0.055)
    _wire_box(b, (-0.3, -0.19, 0.14), (0.3, 0.19, 0.16), CHROME, step=0.08)
    if "goods" in item.extras:
        b.box((-0.25, -0.2, 0.53), (0.0, 0.05, 0.75), item.accent)
        b.box((0.05, -0.1, 0.53), (0.3, 0.2, 0.68), (60, 150, 210))
    for side in (1, -1):
        b.tube((-0.4, side * 0.26, 0.96), (-0.5, side * 0.26, 1.0), 0.012, CHROME)
    b.tube((-0.5, -0.27, 1.0), (-0.5, 0.27, 1.0), 0.022, item.accent)
    b.footprint(0.0, 0.0, 0.48, 0.3)
    return Handling((-0.86, 0.0), ((-0.5, 0.2, 1.0), (-0.5, -0.2, 1.0)))


def _folding_cart(b: ModelBuilder, item: ItemLook) -> Handling:
    """A two-wheeled folding shopping cart with a fabric bag, pushed ahead of its owner."""
    for side in (1, -1):
        b.wheel((-0.15, side * 0.2, 0.1), 0.1, 0.035, TYRE, (120, 120, 124))
        b.tube((-0.19, side * 0.15, 0.1), (-0.24, side * 0.15, 0.98), 0.012, DARK)
    b.extrude([(-0.17, 0.14), (0.15, 0.14), (0.16, 0.7), (-0.18, 0.74)], -0.17, 0.17, item.colour)
    b.box((-0.18, -0.175, 0.3), (0.16, 0.175, 0.34), item.accent)
    b.box((0.1, -0.12, 0.02), (0.18, 0.12, 0.05), DARK)
    b.tube((-0.24, -0.17, 0.98), (-0.24, 0.17, 0.98), 0.02, DARK)
    b.footprint(0.0, 0.0, 0.24, 0.24)
    return Handling((-0.56, 0.0), ((-0.24, 0.12, 0.98), (-0.24, -0.12, 0.98)))
