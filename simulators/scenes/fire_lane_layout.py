"""Where things are in the fire-lane scene, and its static background, painted once.

Positions are in lane coordinates: `s` runs along the lane's long axis and `l` across it,
both in pixels from the centre of the lane polygon's bounding rectangle.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

MARKING_YELLOW = (38, 196, 232)


@dataclass(frozen=True)
class LaneGeometry:
    width: int
    height: int
    polygon: np.ndarray  # (N, 2) float pixel coordinates
    centre: tuple[float, float]
    u: tuple[float, float]  # unit vector along the lane
    n: tuple[float, float]  # unit vector across the lane
    s_min: float
    s_max: float
    l_min: float
    l_max: float
    frame_s_min: float
    frame_s_max: float
    frame_l_min: float
    frame_l_max: float
    building_side: int  # +1: the building lies towards +n, -1: towards -n
    sidewalk: float  # px
    footpath_s: float

    @classmethod
    def from_polygon(cls, lane: Sequence[Sequence[float]], width: int, height: int) -> LaneGeometry:
        """Measure a normalised lane polygon at the given frame size."""
        points = np.asarray(lane, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != 2 or len(points) < 3:
            raise ValueError(f"lane must be at least 3 [x, y] points, got {lane!r}")
        if points.min() < 0 or points.max() > 1:
            raise ValueError("lane coordinates are normalised and must lie within 0..1")
        pixels = points * [width - 1, height - 1]
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(pixels.astype(np.float32))
        if min(rw, rh) < 4:
            raise ValueError(f"lane polygon is too thin to draw ({rw:.0f}x{rh:.0f} px)")
        theta = math.radians(angle if rw >= rh else angle + 90)
        ux, uy = math.cos(theta), math.sin(theta)
        if ux < -1e-9 or (abs(ux) <= 1e-9 and uy < 0):
            ux, uy = -ux, -uy  # keep lettering readable: the axis points right (or down)
        nx, ny = -uy, ux
        rel = pixels - [cx, cy]
        s, lat = rel @ [ux, uy], rel @ [nx, ny]
        corners = np.array([[0, 0], [width, 0], [0, height], [width, height]]) - [cx, cy]
        fs, fl = corners @ [ux, uy], corners @ [nx, ny]
        lane_width = float(lat.max() - lat.min())
        room_below = float(lat.min() - fl.min())
        room_above = float(fl.max() - lat.max())
        s_lo = max(float(s.min()), float(fs.min())) + 0.1 * (float(s.max()) - float(s.min()))
        s_hi = min(float(s.max()), float(fs.max())) - 0.1 * (float(s.max()) - float(s.min()))
        return cls(
            width=width,
            height=height,
            polygon=pixels,
            centre=(cx, cy),
            u=(ux, uy),
            n=(nx, ny),
            s_min=float(s.min()),
            s_max=float(s.max()),
            l_min=float(lat.min()),
            l_max=float(lat.max()),
            frame_s_min=float(fs.min()),
            frame_s_max=float(fs.max()),
            frame_l_min=float(fl.min()),
            frame_l_max=float(fl.max()),
            # The building takes the narrower side, so most of the view is open ground.
            building_side=1 if room_above <= room_below else -1,
            sidewalk=max(8.0, 0.45 * lane_width),
            footpath_s=s_lo + 0.15 * (s_hi - s_lo),
        )

    @property
    def lane_width(self) -> float:
        return self.l_max - self.l_min

    @property
    def lane_length(self) -> float:
        return self.s_max - self.s_min

    @property
    def l_centre(self) -> float:
        return (self.l_min + self.l_max) / 2

    @property
    def axis_deg(self) -> float:
        return math.degrees(math.atan2(self.u[1], self.u[0]))

    @property
    def door_l(self) -> float:
        """Lateral position of the building wall (where pedestrians come out)."""
        return self.l_centre + self.building_side * (self.lane_width / 2 + self.sidewalk)

    @property
    def sidewalk_l(self) -> float:
        return self.l_centre + self.building_side * (self.lane_width + self.sidewalk) / 2

    def far_l(self, margin: float) -> float:
        """Lateral position just beyond the frame edge on the side away from the building."""
        return self.frame_l_min - margin if self.building_side > 0 else self.frame_l_max + margin

    def point(self, s: float, lat: float) -> tuple[float, float]:
        """Pixel (x, y) of the lane coordinates (s, l)."""
        return (
            self.centre[0] + s * self.u[0] + lat * self.n[0],
            self.centre[1] + s * self.u[1] + lat * self.n[1],
        )


def paint_background(geo: LaneGeometry, rng: np.random.Generator) -> np.ndarray:
    """The empty scene as BGR uint8: driveway, marked fire lane, sidewalk, building, grass."""
    h, w = geo.height, geo.width
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = xx - geo.centre[0], yy - geo.centre[1]
    s = dx * geo.u[0] + dy * geo.u[1]
    rel = (dx * geo.n[0] + dy * geo.n[1] - geo.l_centre) * geo.building_side
    half, walk = geo.lane_width / 2, geo.sidewalk
    verge = 0.3 * geo.lane_width

    asphalt = rng.uniform(76, 104) + 7 * _smooth(rng, h, w, 40) + 4 * _smooth(rng, h, w, 5)
    asphalt_bgr = np.stack([asphalt + 3, asphalt + 1, asphalt], axis=-1)
    tile = max(6.0, geo.lane_width / 3)
    concrete = rng.uniform(160, 185) + 5 * _smooth(rng, h, w, 30)
    joints = (np.mod(s, tile) < 1.3) | (np.mod(rel, tile) < 1.3)
    concrete = np.where(joints, concrete - 28, concrete)
    concrete_bgr = np.stack([concrete - 4, concrete, concrete + 3], axis=-1)
    roof_colour = np.array(
        [(92, 92, 96), (70, 84, 120), (118, 118, 112), (60, 64, 70)][int(rng.integers(4))],
        np.float32,
    )
    roof_bgr = roof_colour + (8 * _smooth(rng, h, w, 12))[..., None]
    grass = _smooth(rng, h, w, 25) * 14 + _smooth(rng, h, w, 3) * 9
    grass_base = np.array([48, 112, 66], np.float32) * rng.uniform(0.8, 1.15)
    grass_bgr = grass_base + grass[..., None] * [0.5, 1.0, 0.7]

    image = np.where((np.abs(rel) <= half)[..., None], asphalt_bgr, grass_bgr)
    sidewalk = ((rel > half) & (rel <= half + walk)) | ((rel < -half) & (rel >= -half - verge))
    footpath = (rel < -half) & (np.abs(s - geo.footpath_s) < max(5.0, 0.14 * geo.lane_width))
    image = np.where((sidewalk | footpath)[..., None], concrete_bgr, image)
    image = np.where((rel > half + walk)[..., None], roof_bgr, image)
    parapet = (rel > half + walk) & (rel <= half + walk + max(3.0, 0.08 * geo.lane_width))
    image = np.where(parapet[..., None], roof_colour * 1.5, image)
    curb = np.abs(np.abs(rel) - half) < 1.2
    image = np.where(curb[..., None], np.float32(205), image)
    image += rng.normal(0, 2.0, image.shape).astype(np.float32)
    canvas = np.clip(image, 0, 255).astype(np.uint8)

    _roof_units(canvas, geo, rng, rel > half + walk + 0.3 * geo.lane_width)
    _trees(canvas, geo, rng, -half - verge)
    _lane_markings(canvas, geo, rng)
    return canvas


def _smooth(rng: np.random.Generator, h: int, w: int, cell: float) -> np.ndarray:
    """Smooth noise in about -1..1 with features about `cell` pixels across."""
    gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    grid = rng.uniform(-1, 1, (gh, gw)).astype(np.float32)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)


def _roof_units(
    canvas: np.ndarray, geo: LaneGeometry, rng: np.random.Generator, roof: np.ndarray
) -> None:
    size = geo.lane_width * 0.35
    for _ in range(int(rng.integers(2, 6))):
        ys, xs = np.nonzero(roof)
        if len(xs) == 0:
            return
        i = int(rng.integers(len(xs)))
        x, y = int(xs[i]), int(ys[i])
        a, b = int(size * rng.uniform(0.6, 1.3)), int(size * rng.uniform(0.5, 1.0))
        cv2.rectangle(canvas, (x + 3, y + 3), (x + a + 3, y + b + 3), (45, 45, 48), -1)
        cv2.rectangle(canvas, (x, y), (x + a, y + b), (182, 184, 186), -1)
        cv2.rectangle(canvas, (x, y), (x + a, y + b), (120, 120, 124), 1)


def _trees(canvas: np.ndarray, geo: LaneGeometry, rng: np.random.Generator, edge: float) -> None:
    radius = geo.lane_width * 0.55
    for _ in range(int(rng.integers(2, 5))):
        s = rng.uniform(geo.frame_s_min, geo.frame_s_max)
        if abs(s - geo.footpath_s) < radius * 1.6:
            continue
        lat = geo.l_centre + geo.building_side * (edge - radius * rng.uniform(1.3, 2.5))
        x, y = geo.point(s, lat)
        r = int(radius * rng.uniform(0.7, 1.1))
        cv2.circle(canvas, (int(x + r * 0.3), int(y + r * 0.3)), r, (30, 60, 36), -1, cv2.LINE_AA)
        cv2.circle(canvas, (int(x), int(y)), r, (34, 92, 44), -1, cv2.LINE_AA)
        cv2.circle(
            canvas,
            (int(x - r * 0.25), int(y - r * 0.25)),
            int(r * 0.55),
            (48, 118, 60),
            -1,
            cv2.LINE_AA,
        )


def _lane_markings(canvas: np.ndarray, geo: LaneGeometry, rng: np.random.Generator) -> None:
    """Yellow edge lines, diagonal hatching and "FIRE LANE" lettering inside the polygon."""
    h, w = canvas.shape[:2]
    yellow = tuple(int(c * rng.uniform(0.85, 1.0)) for c in MARKING_YELLOW)
    poly = np.round(geo.polygon).astype(np.int32)
    inside = np.zeros((h, w), np.uint8)
    cv2.fillPoly(inside, [poly], 255)
    paint = np.zeros((h, w), np.uint8)
    line = max(2, int(round(geo.lane_width * 0.04)))
    spacing = geo.lane_width * 0.7
    diagonal = (geo.u[0] + geo.n[0], geo.u[1] + geo.n[1])
    reach = geo.lane_width * 2
    s = geo.s_min - geo.lane_width
    while s < geo.s_max + geo.lane_width:
        x, y = geo.point(s, geo.l_centre)
        p0 = (int(x - diagonal[0] * reach), int(y - diagonal[1] * reach))
        p1 = (int(x + diagonal[0] * reach), int(y + diagonal[1] * reach))
        cv2.line(paint, p0, p1, 255, line, cv2.LINE_AA)
        s += spacing

    text = "FIRE LANE"
    font = cv2.FONT_HERSHEY_DUPLEX
    (tw, th), _ = cv2.getTextSize(text, font, 1.0, 2)
    scale = geo.lane_width * 0.32 / th
    thickness = max(1, int(round(scale * 2)))
    (tw, th), base = cv2.getTextSize(text, font, scale, thickness)
    letters = np.zeros((h, w), np.uint8)
    count = max(1, int(round(geo.lane_length / (tw * 1.9))))
    for k in range(count):
        s_pos = geo.s_min + geo.lane_length * (k + 0.5) / count
        patch = np.zeros((th + base + 8, tw + 8), np.uint8)
        cv2.putText(patch, text, (4, th + 4), font, scale, 255, thickness, cv2.LINE_AA)
        x, y = geo.point(s_pos, geo.l_centre)
        pc = (patch.shape[1] / 2, patch.shape[0] / 2)
        ux, uy, nx, ny = *geo.u, *geo.n
        place = np.float32(
            [[ux, nx, x - ux * pc[0] - nx * pc[1]], [uy, ny, y - uy * pc[0] - ny * pc[1]]]
        )
        letters |= cv2.warpAffine(patch, place, (w, h), flags=cv2.INTER_LINEAR)
        box = np.array(
            [
                geo.point(s_pos + a * (tw / 2 + 8), geo.l_centre + b * (th / 2 + 6))
                for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))
            ],
            np.int32,
        )
        cv2.fillPoly(paint, [box], 0)
    cv2.polylines(paint, [poly], True, 255, max(2, line + 1), cv2.LINE_AA)
    paint = cv2.bitwise_and(paint, inside)
    paint = np.maximum(paint, letters & inside)
    wear = np.clip(0.8 + 0.25 * _smooth(rng, h, w, 8), 0, 1)
    alpha = (paint.astype(np.float32) / 255.0 * wear)[..., None]
    canvas[...] = (canvas * (1 - alpha) + np.float32(yellow) * alpha).astype(np.uint8)
