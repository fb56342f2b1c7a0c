"""The static picture of a facade camera, painted once: sky, neighbours, the building, ground.

The building is painted floor by floor from its bay plan; each floor's slab edge and the
shadow under it fall exactly on that floor's line, so floors can be read off the picture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from simulators.scenes.facade_canvas import ONE, SHIFT, SUPERSAMPLE, Canvas, Colour, Glazing
from simulators.scenes.facade_layout import STOREY_M, Bay, FacadeGeometry, Look

NEIGHBOUR_COLOURS = ((196, 200, 204), (170, 190, 210), (150, 160, 172), (200, 208, 214))
CURTAINS = ((170, 200, 220), (120, 150, 180), (150, 150, 150), (70, 90, 120), (200, 210, 214))
LIGHTS = ((120, 200, 250), (150, 216, 250), (214, 224, 228), (90, 160, 226))  # BGR lamp glow


@dataclass(frozen=True)
class Balcony:
    floor: int
    u0: float
    u1: float
    rail_m: float  # top of railing or parapet above the floor
    enclosed: bool


@dataclass(frozen=True)
class StaticPicture:
    dark: np.ndarray  # BGR uint8, every window unlit
    lit: np.ndarray  # the same with every window lit
    glazing: list[Glazing]
    balconies: list[Balcony]


def paint_facade(
    geo: FacadeGeometry, look: Look, bays: list[Bay], rng: np.random.Generator
) -> StaticPicture:
    """Paint the empty scene for this geometry, look and bay plan."""
    canvas = Canvas(geo, look.ambient)
    sky = _sky(canvas, look, rng)
    _neighbours(canvas, look, rng, sky)
    painter = _Building(canvas, look, rng, sky)
    painter.paint(bays)
    _ground(canvas, rng)
    dark, lit = _finish(canvas, look, rng)
    return StaticPicture(dark, lit, canvas.glazing(), painter.balconies)


def _sky(canvas: Canvas, look: Look, rng: np.random.Generator) -> np.ndarray:
    """Paint the sky; return its average colour high up, which windows reflect."""
    h, w = canvas.geo.height, canvas.geo.width
    top, low = {
        "day": ((205, 150, 95), (232, 212, 196)),
        "dusk": ((130, 84, 78), (120, 160, 236)),
        "night": ((34, 20, 12), (60, 62, 76)),
    }[look.mode]
    if look.mode == "day" and rng.random() < 0.35:  # hazy city sky
        top, low = (208, 200, 192), (226, 224, 220)
    rows = ((np.arange(h, dtype=np.float32) / h) ** 0.8)[:, None, None]
    sky = np.array(top, np.float32) * (1 - rows) + np.array(low, np.float32) * rows
    sky = np.broadcast_to(sky, (h, w, 3)).copy()
    if look.mode != "night":
        cloud = _smooth(rng, h, w, 90) + 0.6 * _smooth(rng, h, w, 30) + 0.2 * _smooth(rng, h, w, 9)
        amount = np.clip((cloud - rng.uniform(0.3, 0.9)) * 0.8, 0, 0.7)[..., None]
        white = np.array((240, 240, 240) if look.mode == "day" else (150, 170, 220), np.float32)
        sky = sky * (1 - amount) + white * amount
    size = (w * canvas.layers[0].shape[1] // w, canvas.layers[0].shape[0])
    big = cv2.resize(np.clip(sky, 0, 255).astype(np.uint8), size, interpolation=cv2.INTER_LINEAR)
    for layer in canvas.layers:
        layer[...] = big
    return sky[: h // 3].reshape(-1, 3).mean(axis=0)


def _neighbours(canvas: Canvas, look: Look, rng: np.random.Generator, sky: np.ndarray) -> None:
    """Other towers beside the building: farther away, so smaller floors, and hazier."""
    geo = canvas.geo
    left, right = geo.edges(np.array([geo.ground_y, geo.roof_y]))
    span, gy = geo.ground_y - geo.roof_y, geo.ground_y
    for side, edge, lean in ((-1, left[0], left[1] - left[0]), (1, right[0], right[1] - right[0])):
        if rng.random() < 0.25:
            continue
        inner = edge + side * rng.uniform(0.02, 0.08) * geo.width
        outer = inner + side * rng.uniform(0.3, 0.5) * geo.width
        top = rng.uniform(0.05, 0.5) * geo.height
        haze = rng.uniform(0.4, 0.6)
        paint = NEIGHBOUR_COLOURS[int(rng.integers(len(NEIGHBOUR_COLOURS)))]
        body = np.array(canvas.shade(paint)) * (1 - haze) + sky * haze

        def at(x_ground: float, y: float, lean: float = lean) -> tuple[float, float]:
            return x_ground + 0.8 * lean * (gy - y) / span, y

        canvas.picture_polygon([at(inner, gy), at(outer, gy), at(outer, top), at(inner, top)], body)
        ratio, columns, storey = rng.uniform(1.4, 2.2), int(rng.integers(7, 14)), 0.0
        while (y1 := float(geo.y_at((storey + 2.3) / ratio))) > top + 1:
            y0 = float(geo.y_at((storey + 0.9) / ratio))
            for c in range(columns):
                a = inner + (outer - inner) * (c + 0.2) / columns
                b = inner + (outer - inner) * (c + 0.8) / columns
                lit = look.mode != "day" and rng.random() < look.lit_share
                glass = LIGHTS[0] if lit else tuple(body * 0.62)
                canvas.picture_polygon([at(a, y0), at(b, y0), at(b, y1), at(a, y1)], glass)
            storey += STOREY_M


class _Building:
    def __init__(
        self, canvas: Canvas, look: Look, rng: np.random.Generator, sky: np.ndarray
    ) -> None:
        self.canvas, self.look, self.rng, self.sky = canvas, look, rng, sky
        self.balconies: list[Balcony] = []
        self.frame = canvas.shade(look.frame)

    def paint(self, bays: list[Bay]) -> None:
        c, geo, look, rng = self.canvas, self.canvas.geo, self.look, self.rng
        width, roof = geo.width_m, geo.roof_h
        outline = np.round(geo.polygon * c.layers[0].shape[1] / geo.width * ONE).astype(np.int32)
        c.polygon(outline, c.shade(look.wall))
        if geo.knots_h[0] > 0:  # floors below the lowest floor line, down to the ground
            c.fill(0, width, 0, float(geo.knots_h[0]), c.shade(look.wall))
        if look.base_floors:
            c.fill(0, width, 0, look.base_floors * STOREY_M, c.shade(look.base))
        # Slab edges are light and cast a dark shadow: the floor line is the sharpest edge.
        band = c.shade(np.maximum(look.wall, look.base), float(rng.uniform(1.12, 1.25)))
        pilaster = c.shade(look.accent) if rng.random() < 0.5 else c.shade(look.wall, 0.9)
        cuts = [0.0, width] + [
            a.u1 for a, b in zip(bays, bays[1:], strict=False) if a.kind == b.kind == "wall"
        ]
        for u in cuts:
            c.fill(u - 0.25, u + 0.25, 0, roof + 1.1, pilaster)
        for floor in range(1, geo.top_floor + 1):
            h0 = (floor - 1) * STOREY_M
            wall = look.base if floor <= look.base_floors else look.wall
            for index, bay in enumerate(bays):
                if bay.kind == "balcony":
                    self.balcony(floor, index, bay, h0, wall)
                elif bay.kind in ("window", "small"):
                    self.window(floor, index, bay, h0, wall)
                elif bay.kind == "ac":
                    self.air_conditioner(bay, h0, wall)
            # Every floor's slab edge sits on its floor line, with a shadow just below; both
            # stay at least a pixel tall so the floors can be told apart high up.
            pixel_m = STOREY_M * SUPERSAMPLE / max(c.y(h0) - c.y(h0 + STOREY_M), 1e-6)
            c.fill(-0.2, width + 0.2, h0, h0 + max(0.18, 1.2 * pixel_m), band)
            if floor > 1:
                below = look.base if floor - 1 <= look.base_floors else look.wall
                shadow = max(0.12, pixel_m)
                c.fill(0, width, h0 - 2.5 * shadow, h0 - shadow, c.shade(below, 0.8))
                c.fill(0, width, h0 - shadow, h0, c.shade(below, 0.55))
        c.fill(-0.3, width + 0.3, roof - 0.05, roof + 1.1, band)
        c.fill(-0.3, width + 0.3, roof - 0.15, roof - 0.05, c.shade(look.wall, 0.6))
        middle, half = width * rng.uniform(0.3, 0.7), width * rng.uniform(0.1, 0.16)
        c.fill(middle - half, middle + half, roof + 1.1, roof + 4.2, c.shade(look.wall, 0.85))
        c.fill(middle - 0.5, middle + 0.5, roof + 1.1, roof + 3.2, c.shade(look.wall, 0.4))
        if rng.random() < 0.6:  # a decorative frame on the roof
            for k in range(7):
                u = width * (0.08 + 0.84 * k / 6)
                c.fill(u - 0.2, u + 0.2, roof + 1.1, roof + 3.6, band)
            c.fill(width * 0.06, width * 0.94, roof + 3.2, roof + 3.6, band)

    def window(self, floor: int, index: int, bay: Bay, h0: float, wall: Colour) -> None:
        c, frame = self.canvas, self.frame
        margin = (bay.u1 - bay.u0) * 0.12
        a, b = bay.u0 + margin, bay.u1 - margin
        sill, head = (0.9, 2.5) if bay.kind == "window" else (1.5, 2.4)
        c.fill(a, b, h0 + 0.25, h0 + sill, c.shade(wall, 0.94))  # rain stain under the sill
        c.fill(a - 0.06, b + 0.06, h0 + sill - 0.08, h0 + sill, c.shade(wall, 1.18))
        c.fill(a, b, h0 + sill, h0 + head, frame)
        kind = "window" if bay.kind == "window" else "frosted"
        self.pane(floor, index, a + 0.06, b - 0.06, h0 + sill + 0.06, h0 + head - 0.06, kind)
        if bay.kind == "window":
            middle = (a + b) / 2
            c.fill(middle - 0.03, middle + 0.03, h0 + sill, h0 + head, frame)
            c.fill(a, b, h0 + 2.0, h0 + 2.05, frame)
            if floor <= self.look.grille_floors:  # security grille
                grey = c.shade((120, 124, 126))
                for u in np.arange(a - 0.05, b + 0.06, 0.13):
                    c.line(u, h0 + sill - 0.05, u, h0 + head + 0.05, grey)
                c.fill(a - 0.08, b + 0.08, h0 + head + 0.02, h0 + head + 0.1, grey)

    def air_conditioner(self, bay: Bay, h0: float, wall: Colour) -> None:
        c = self.canvas
        if self.look.ac_style == "louvre":
            c.fill(bay.u0 + 0.05, bay.u1 - 0.05, h0 + 0.25, h0 + 2.6, c.shade(wall, 0.82))
            for k in range(16):
                h = h0 + 0.3 + k * 0.145
                c.line(bay.u0 + 0.05, h, bay.u1 - 0.05, h, c.shade(wall, 0.55))
        elif self.rng.random() < 0.85:
            m = bay.centre + self.rng.uniform(-0.1, 0.1)
            c.fill(m - 0.42, m + 0.42, h0 + 0.2, h0 + 0.78, c.shade((222, 224, 224)))
            c.fill(m - 0.02, m + 0.34, h0 + 0.26, h0 + 0.72, c.shade((150, 152, 152)))
            c.fill(m - 0.45, m + 0.45, h0 + 0.16, h0 + 0.2, c.shade((90, 90, 92)))

    def balcony(self, floor: int, index: int, bay: Bay, h0: float, wall: Colour) -> None:
        c, look, rng, frame = self.canvas, self.look, self.rng, self.frame
        u0, u1 = bay.u0, bay.u1
        c.fill(u0 + 0.1, u1 - 0.1, h0 + 0.15, h0 + 2.7, c.shade(wall, 0.62))  # recess
        c.fill(u0, u1, h0 + 2.62, h0 + 3.0, c.shade(wall, 0.42))  # underside of the slab above
        enclosed = bool(rng.random() < look.enclosed)
        if enclosed:  # glazed in, as many are
            c.fill(u0, u1, h0 + 0.15, h0 + 0.95, c.shade(wall, 1.05))
            self.pane(floor, index, u0 + 0.06, u1 - 0.06, h0 + 0.95, h0 + 2.62, "window")
            panes = max(2, round((u1 - u0) / 0.9))
            for k in range(panes + 1):
                u = u0 + 0.06 + (u1 - u0 - 0.12) * k / panes
                c.fill(u - 0.03, u + 0.03, h0 + 0.95, h0 + 2.62, frame)
            c.fill(u0, u1, h0 + 2.15, h0 + 2.2, frame)
            c.fill(u0, u1, h0 + 0.95, h0 + 1.0, frame)
        else:
            self.pane(floor, index, u0 + 0.45, u1 - 0.45, h0 + 0.2, h0 + 2.3, "window")
            c.fill(bay.centre - 0.03, bay.centre + 0.03, h0 + 0.2, h0 + 2.3, frame)
            if rng.random() < 0.15:  # laundry on the line
                u = u0 + 0.3
                while u < u1 - 0.6:
                    w = rng.uniform(0.25, 0.5)
                    cloth = c.shade(rng.integers(60, 200, 3) * 0.5 + 110)
                    c.fill(u, u + w, h0 + rng.uniform(1.7, 2.1), h0 + 2.55, cloth)
                    u += w + rng.uniform(0.05, 0.3)
            if look.railing == "solid":
                c.fill(u0, u1, h0 + 0.15, h0 + 1.1, c.shade(wall, 1.06))
            elif look.railing == "glass":
                c.see_through(u0, u1, h0 + 0.15, h0 + 1.05)
            else:
                for u in np.arange(u0 + 0.06, u1, 0.12):
                    c.line(u, h0 + 0.15, u, h0 + 1.05, c.shade(look.frame, 0.6))
            c.fill(u0 - 0.03, u1 + 0.03, h0 + 1.05, h0 + 1.12, c.shade(wall, 1.18))
            if rng.random() < 0.2:  # pot plants on the parapet
                m = rng.uniform(u0 + 0.4, u1 - 0.4)
                c.fill(m - 0.3, m + 0.3, h0 + 1.12, h0 + 1.45, c.shade((50, 120, 60)))
        self.balconies.append(Balcony(floor, u0, u1, 0.95 if enclosed else 1.1, enclosed))

    def pane(
        self, floor: int, bay: int, u0: float, u1: float, h0: float, h1: float, kind: str
    ) -> None:
        """Glass that reflects the sky by day and glows when the room is lit."""
        c, rng, mode = self.canvas, self.rng, self.look.mode
        if mode == "night":
            dark = np.array((24, 24, 28)) * rng.uniform(0.7, 1.4)
        else:
            reflect = rng.uniform(0.45, 0.95) if mode == "day" else rng.uniform(0.3, 0.6)
            dark = self.sky * reflect * np.array((0.95, 0.97, 0.9))
        glow = np.array(LIGHTS[int(rng.integers(len(LIGHTS)))], np.float64)
        if kind == "frosted":
            dark, glow = dark * 0.6 + np.array(c.shade(self.look.wall)) * 0.4, glow * 0.8
        k = {"day": 0.3, "dusk": 0.75}.get(mode, 1.0)
        lit = dark * (1 - k) + glow * k
        c.pane(floor, bay, c.quad(u0, u1, h0, h1), tuple(dark), tuple(lit))
        if kind == "window" and rng.random() < 0.45:  # a curtain drawn to one side
            curtain = np.array(CURTAINS[int(rng.integers(len(CURTAINS)))]) * rng.uniform(0.8, 1.1)
            share = rng.uniform(0.15, 0.35) * (u1 - u0)
            a, b = (u0, u0 + share) if rng.random() < 0.5 else (u1 - share, u1)
            c.fill(a, b, h0, h1, c.shade(curtain, 0.7), tuple(glow * 0.6 + curtain * 0.3))


def _ground(canvas: Canvas, rng: np.random.Generator) -> None:
    """Paving at the foot of the building, shrubs, and trees at the corners of the view."""
    geo = canvas.geo
    gy = geo.ground_y
    canvas.picture_polygon(
        [(0, gy), (geo.width, gy), (geo.width, geo.height), (0, geo.height)],
        canvas.shade((142, 146, 146)),
    )
    green = np.array((40, 96, 52))
    for _ in range(int(rng.integers(6, 14))):
        x, rx = rng.uniform(0, geo.width), rng.uniform(0.03, 0.08) * geo.width
        ry = rng.uniform(0.015, 0.035) * geo.height
        canvas.foliage(x, gy + ry * 0.3, rx, ry, tuple(green * rng.uniform(0.8, 1.2)), rng)
    for side in (0, geo.width):
        if rng.random() < 0.6:
            r = rng.uniform(0.08, 0.16) * geo.width
            for _ in range(5):
                x = side + rng.uniform(-0.8, 0.8) * r
                y = geo.height - rng.uniform(0.2, 1.1) * r
                size = rng.uniform(0.45, 0.7) * r
                canvas.foliage(x, y, size, size * 0.85, tuple(green * rng.uniform(0.7, 1.1)), rng)


def _finish(canvas: Canvas, look: Look, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Both pictures at final size with wall texture, stains, vignetting and night glow."""
    geo = canvas.geo
    h, w = geo.height, geo.width
    layers = canvas.downsampled(canvas.shade((176, 186, 168)), 0.35)
    facade = np.zeros((h, w), np.uint8)
    outline = np.round(geo.polygon * ONE).astype(np.int32)
    cv2.fillPoly(facade, [outline], 1, cv2.LINE_8, SHIFT)
    texture = 0.035 * _smooth(rng, h, w, 40) + 0.02 * _smooth(rng, h, w, 5)
    streaks = rng.uniform(0, 1, (max(2, h // 40), max(2, w // 3))).astype(np.float32)
    texture -= np.clip(cv2.resize(streaks, (w, h)) - 0.65, 0, 1) * 0.2  # rain streaks
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float32)
    if look.tiles:
        centres = rows[:, 0] + 0.5
        height_m = geo.h_at(centres).astype(np.float32)[:, None]
        left, right = (e.astype(np.float32)[:, None] for e in geo.edges(centres))
        scale = (right - left) / geo.width_m
        u = (cols + 0.5 - left) / scale
        gap = np.minimum(np.abs((u / 0.45) % 1 - 0.5), np.abs((height_m / 0.3) % 1 - 0.5))
        texture -= np.clip(1 - (0.5 - gap) * 0.45 * scale, 0, 1) * 0.06
    if look.mode == "day":  # sunlight from one side
        texture += (cols / w - 0.5) * rng.choice([-0.1, 0.1])
    multiplier = 1 + texture * facade
    radius = ((cols - w / 2) ** 2 + (rows - h / 2) ** 2) / ((w / 2) ** 2 + (h / 2) ** 2)
    multiplier *= 1 - rng.uniform(0.08, 0.22) * radius
    glow = np.zeros((h, 1, 3), np.float32)
    if look.mode != "day":  # street lights below
        near = np.exp(-np.clip(geo.ground_y - rows[:, :1], 0, None) / (0.25 * h))
        glow = near[..., None] * np.array((16, 36, 64), np.float32)
    dark, lit = (np.clip(p * multiplier[..., None] + glow, 0, 255).astype(np.uint8) for p in layers)
    return dark, lit


def paint_rain(
    width: int, height: int, look: Look, count: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """`count` different layers of rain streaks, to add to frames in turn."""
    angle = float(rng.uniform(-0.3, 0.3))
    layers = []
    for _ in range(count):
        layer = np.zeros((height, width, 3), np.uint8)
        for _ in range(width * height // 700):
            x, y = rng.uniform(-20, width + 20), rng.uniform(-30, height)
            length = rng.uniform(10, 26) * width / 640
            end = (int(x + length * math.sin(angle)), int(y + length * math.cos(angle)))
            level = int(rng.uniform(25, 60) * max(look.ambient, 0.5))
            cv2.line(layer, (int(x), int(y)), end, (level, level, level), 1)
        layers.append(cv2.GaussianBlur(layer, (3, 3), 0.6))
    return layers


def _smooth(rng: np.random.Generator, h: int, w: int, cell: float) -> np.ndarray:
    """Smooth noise in about -1..1 with features about `cell` pixels across."""
    gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    grid = rng.uniform(-1, 1, (gh, gw)).astype(np.float32)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
