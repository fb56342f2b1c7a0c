"""Where things are in the charging-shed scene, and its empty shed, painted once.

The camera hangs under the roof at the open front of the shed and looks straight at the back
wall (a one-point perspective). World coordinates are metres: X to the right, Y up from the
floor, Z away from the camera. The back wall stands at Z = depth; the right-hand side of the
shed is open, so the outdoors shows there; the left wall lies beyond the frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SOCKET_BOX_M = (0.30, 0.46)  # width, height of a charging box on the wall
SOCKET_BOX_Y = 1.12  # height of its bottom edge above the floor
MAX_PITCH_M = 1.25  # widest spacing between charging places
BIKE_SETBACK_M = 0.85  # parked bikes stand this far in front of the wall
AISLE_M = 1.15  # people wheel bikes this far in front of the parked row

ROOF_COLOURS = ((176, 128, 58), (208, 208, 204), (150, 150, 146), (190, 160, 120))
POST_COLOURS = ((150, 100, 40), (70, 120, 60), (120, 122, 124), (205, 205, 200))
DADO_COLOURS = ((120, 140, 110), (150, 130, 95), (100, 104, 108), (170, 180, 190))
UPPER_WALL = ((214, 222, 226), (200, 206, 206), (190, 204, 214))


@dataclass(frozen=True)
class ShedGeometry:
    width: int
    height: int
    focal: float  # px per metre at one metre away
    cx: float  # where the camera's axis meets the image (the vanishing point)
    cy: float
    camera_height: float
    depth: float  # camera to back wall
    roof_height: float
    right: float  # X of the open side
    slot_x: tuple[float, ...]  # X of each charging place, left to right

    @classmethod
    def from_seed(
        cls, rng: np.random.Generator, sockets: int, width: int, height: int
    ) -> ShedGeometry:
        """A slightly different camera pose and shed size for every seed."""
        focal = height * float(rng.uniform(0.84, 0.92))
        cx = width * float(rng.uniform(0.39, 0.46))
        cy = height * float(rng.uniform(0.11, 0.16))
        camera_height = float(rng.uniform(2.5, 2.75))
        depth = float(rng.uniform(5.2, 6.0))
        roof_height = camera_height + float(rng.uniform(0.3, 0.45))
        open_x = width * float(rng.uniform(0.70, 0.78))
        right = (open_x - cx) * depth / focal
        bike_z = depth - BIKE_SETBACK_M
        first = -cx * bike_z / focal + 0.55
        last = min(right - 0.75, (width - cx) * bike_z / focal - 0.6)
        pitch = min(MAX_PITCH_M, (last - first) / max(sockets - 1, 1))
        middle = (first + last) / 2
        slots = tuple(middle + (i - (sockets - 1) / 2) * pitch for i in range(sockets))
        return cls(width, height, focal, cx, cy, camera_height, depth, roof_height, right, slots)

    @property
    def bike_z(self) -> float:
        return self.depth - BIKE_SETBACK_M

    @property
    def aisle_z(self) -> float:
        return self.bike_z - AISLE_M

    def project(self, x: float, y: float, z: float) -> tuple[float, float]:
        """Pixel (x, y) of the world point (x, y, z)."""
        return (
            self.cx + self.focal * x / z,
            self.cy - self.focal * (y - self.camera_height) / z,
        )

    def scale(self, z: float) -> float:
        """Pixels per metre at depth z."""
        return self.focal / z

    def off_frame_x(self, z: float) -> float:
        """World X just beyond the right edge of the frame at depth z."""
        return (self.width - self.cx) * z / self.focal + 1.3

    def box_px(
        self, x0: float, y0: float, x1: float, y1: float, z: float
    ) -> tuple[float, float, float, float]:
        """Pixel (x0, y0, x1, y1) of a world rectangle facing the camera at depth z."""
        left, top = self.project(x0, y1, z)
        right, bottom = self.project(x1, y0, z)
        return left, top, right, bottom


@dataclass(frozen=True)
class PaintedShed:
    image: np.ndarray  # BGR uint8, the empty shed by day
    sun_weight: np.ndarray  # float32 (h, w): where sunlight can fall on the floor, 0..1
    lamp_gain: np.ndarray  # float32 (h, w): extra light on the inside when the lamps are on
    lamps: tuple[tuple[int, int, int, int], ...]  # pixel boxes of the lamp tubes
    leds: tuple[tuple[int, int], ...]  # pixel of each charging box's status light
    plugs: tuple[tuple[float, float], ...]  # pixel where each box's cable comes out


def paint_shed(geo: ShedGeometry, rng: np.random.Generator) -> PaintedShed:
    """The empty shed: back wall with charging boxes, floor, roof, posts and the outdoors."""
    h, w = geo.height, geo.width
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d, f = geo.depth, geo.focal
    wall_x = (xx - geo.cx) * d / f
    wall_y = geo.camera_height - (yy - geo.cy) * d / f
    on_wall = (wall_x <= geo.right) & (wall_y >= 0) & (wall_y <= geo.roof_height)
    below = yy > geo.cy + 0.5
    floor_z = f * geo.camera_height / np.maximum(yy - geo.cy, 0.5)
    floor_x = (xx - geo.cx) * floor_z / f
    roof_z = f * (geo.roof_height - geo.camera_height) / np.maximum(geo.cy - yy, 0.5)
    roof_x = (xx - geo.cx) * roof_z / f
    on_floor = below & ~on_wall & (floor_x <= geo.right)
    on_roof = ~below & ~on_wall & (roof_x <= geo.right + 0.3)
    outdoors_ground = below & ~on_wall & ~on_floor
    inside = on_wall | on_floor | on_roof

    image = _sky_and_buildings(rng, h, w, geo.cy)
    ground = _outdoor_ground(rng, floor_x - geo.right, floor_z)
    image = np.where(outdoors_ground[..., None], ground, image)
    image = np.where(on_wall[..., None], _wall(rng, wall_x, wall_y), image)
    image = np.where(on_floor[..., None], _floor(rng, geo, floor_x, floor_z), image)
    roof = _roof(rng, roof_x, roof_z)
    image = np.where(on_roof[..., None], roof, image)
    # The inside is in the roof's shade; it is brighter towards the open side and the front.
    shade = 0.74 + 0.12 * np.clip((floor_x - geo.right + 3.5) / 3.5, 0, 1)
    shade = np.where(on_floor, shade + 0.12 * np.clip(4.0 - floor_z, 0, 1), 0.8)
    image = np.where(inside[..., None], image * shade[..., None], image)
    image += rng.normal(0, 1.6, image.shape).astype(np.float32)
    canvas = np.clip(image, 0, 255).astype(np.uint8)

    leds, plugs = _wall_fittings(canvas, geo, rng)
    lamps = _roof_fittings(canvas, geo, rng)
    sun_weight = np.where(
        on_floor, np.clip((floor_x - (geo.right - 3.2)) / 1.8, 0, 1) * (floor_z < d - 0.15), 0
    ).astype(np.float32)
    lamp_gain = np.zeros((h, w), np.float32)
    for x0, y0, x1, _ in lamps:
        centre = ((x0 + x1) / 2, y0 + (x1 - x0) * 0.9)
        spread = (x1 - x0) * 1.6
        lamp_gain += np.exp(-((xx - centre[0]) ** 2 + (yy - centre[1]) ** 2) / (2 * spread**2))
    lamp_gain = (0.35 + 0.65 * np.clip(lamp_gain, 0, 1)) * inside
    return PaintedShed(canvas, sun_weight, lamp_gain.astype(np.float32), lamps, leds, plugs)


def sun_patches(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Patches of sunlight with soft edges, repeating every `w` px across, laid out twice so
    that any `w`-wide window can be cut from it: sliding the window moves the patches."""
    cells = max(4, w // 40)
    grid = rng.uniform(-1, 1, (max(3, h // 16), cells)).astype(np.float32)
    side = round((cells + 4) * w / cells)
    big = cv2.resize(
        np.pad(grid, ((0, 0), (2, 2)), mode="wrap"), (side, h), interpolation=cv2.INTER_CUBIC
    )
    start = round(2 * w / cells)
    tile = np.clip((big[:, start : start + w] - 0.25) / 0.35, 0, 1)
    return np.concatenate([tile, tile], axis=1).astype(np.float32)


def smooth_noise(rng: np.random.Generator, h: int, w: int, cell: float) -> np.ndarray:
    """Smooth noise in about -1..1 with features about `cell` pixels across."""
    gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    grid = rng.uniform(-1, 1, (gh, gw)).astype(np.float32)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)


def _sky_and_buildings(rng: np.random.Generator, h: int, w: int, horizon: float) -> np.ndarray:
    yy = np.arange(h, dtype=np.float32)[:, None, None]
    top, low = np.float32([236, 214, 190]), np.float32([250, 244, 236])
    blend = np.clip(yy / max(horizon, 1), 0, 1)
    sky = np.broadcast_to(top * (1 - blend) + low * blend, (h, w, 3)).copy()
    x = int(w * 0.55)
    while x < w:
        bw = int(rng.uniform(0.06, 0.14) * w)
        top_y = int(horizon - rng.uniform(0.05, 0.16) * h)
        colour = np.float32([rng.uniform(170, 205), rng.uniform(195, 220), rng.uniform(215, 235)])
        sky[max(top_y, 0) : int(horizon) + 1, x : x + bw] = colour
        for wy in range(top_y + 3, int(horizon) - 1, 4):
            sky[max(wy, 0) : max(wy + 1, 0), x + 2 : x + bw - 2 : 4] = colour * 0.72
        x += bw + int(rng.uniform(0.01, 0.05) * w)
    trees = smooth_noise(rng, h, w, 9)
    band = (yy[..., 0] > horizon - 0.03 * h - 6 * trees) & (yy[..., 0] <= horizon + 1)
    sky[band] = np.float32([60, 104, 70]) + 18 * trees[band][:, None]
    return sky


def _outdoor_ground(rng: np.random.Generator, beyond: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Sunny paving beside the shed, a strip of grass, then a road, by distance beyond it."""
    h, w = beyond.shape
    grain = smooth_noise(rng, h, w, 6)
    fade = np.clip(1.2 / np.maximum(z, 1), 0, 1)  # joints vanish into the distance
    joints = ((np.mod(beyond, 0.6) < 0.04) | (np.mod(z, 0.6) < 0.04)) * fade
    paving = np.float32([176, 194, 204]) + (8 * grain - 40 * joints)[..., None]
    grass = np.float32([70, 150, 96]) + (22 * grain)[..., None] * [0.5, 1.0, 0.7]
    road = np.float32([120, 122, 124]) + (6 * grain)[..., None]
    out = np.where((beyond < 2.4)[..., None], paving, grass)
    return np.where(((beyond > 4.0) & (beyond < 10.0))[..., None], road, out).astype(np.float32)


def _wall(rng: np.random.Generator, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    h, w = x.shape
    upper = np.float32(UPPER_WALL[int(rng.integers(len(UPPER_WALL)))])
    dado = np.float32(DADO_COLOURS[int(rng.integers(len(DADO_COLOURS)))])
    dado_top = float(rng.uniform(0.9, 1.05))
    stains = smooth_noise(rng, h, w, 30) * 7 + smooth_noise(rng, h, w, 4) * 3
    image = np.where((y < dado_top)[..., None], dado, upper) + stains[..., None]
    if rng.random() < 0.5:  # a colour-steel panel wall: vertical ribs
        image -= (14 * (np.mod(x, 0.25) < 0.035))[..., None]
    image = np.where((np.abs(y - dado_top) < 0.02)[..., None], dado * 0.7, image)
    image = np.where((y < 0.1)[..., None], np.float32([70, 72, 74]), image)
    # Grime where bikes have rubbed the wall for years.
    image -= (10 * np.clip(1 - y / 1.1, 0, 1) * (0.5 + 0.5 * smooth_noise(rng, h, w, 12)))[
        ..., None
    ]
    return image


def _floor(rng: np.random.Generator, geo: ShedGeometry, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    h, w = x.shape
    base = float(rng.uniform(128, 156))
    concrete = base + 6 * smooth_noise(rng, h, w, 24) + 3 * smooth_noise(rng, h, w, 3)
    stains = np.clip(smooth_noise(rng, h, w, 14) - 0.45, 0, 1) * 40
    concrete -= stains * (np.abs(z - geo.bike_z) < 0.9)
    joints = (np.mod(x + 0.3, 3.0) < 0.03) | (np.mod(z, 3.0) < 0.03 * np.maximum(z / 3, 1))
    concrete = np.where(joints, concrete - 22, concrete)
    image = np.stack([concrete + 2, concrete, concrete - 3], axis=-1)
    # Painted bays: one slanted white line between neighbouring charging places.
    pitch = np.diff(geo.slot_x).mean() if len(geo.slot_x) > 1 else 1.0
    for k in range(len(geo.slot_x) + 1):
        edge = geo.slot_x[0] + (k - 0.5) * pitch
        along = edge + (geo.depth - z) * 0.35
        line = (np.abs(x - along) < 0.035) & (z > geo.depth - 2.1)
        image = np.where(line[..., None], np.float32([200, 206, 208]), image)
    return image


def _roof(rng: np.random.Generator, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    colour = np.float32(ROOF_COLOURS[int(rng.integers(len(ROOF_COLOURS)))])
    ribs = 0.82 + 0.18 * (np.mod(x, 0.25) < 0.08)
    purlins = np.mod(z, 1.5) < 0.12
    image = colour * ribs[..., None] * 0.8
    return np.where(purlins[..., None], np.float32([80, 80, 84]), image)


def _wall_fittings(
    canvas: np.ndarray, geo: ShedGeometry, rng: np.random.Generator
) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[float, float], ...]]:
    """Conduit, numbered charging boxes, a notice board, a fire-extinguisher cabinet, posts."""
    d = geo.depth
    px = geo.scale(d)
    conduit_y = SOCKET_BOX_Y + SOCKET_BOX_M[1] + float(rng.uniform(0.2, 0.35))
    thick = max(2, int(px * 0.05))
    a = geo.project(geo.slot_x[0] - 0.6, conduit_y, d)
    b = geo.project(geo.slot_x[-1] + 0.4, conduit_y, d)
    cv2.line(canvas, _pixel(a), _pixel(b), (150, 152, 154), thick, cv2.LINE_AA)
    body = (214, 214, 210) if rng.random() < 0.6 else (190, 192, 188)
    strip = ((170, 110, 40), (90, 150, 60), (60, 60, 64))[int(rng.integers(3))]
    leds, plugs = [], []
    bw, bh = SOCKET_BOX_M
    for i, sx in enumerate(geo.slot_x):
        top = SOCKET_BOX_Y + bh
        cv2.line(
            canvas,
            _pixel(geo.project(sx, conduit_y, d)),
            _pixel(geo.project(sx, top, d)),
            (150, 152, 154),
            max(1, thick // 2),
        )
        x0, y0, x1, y1 = (
            int(round(v)) for v in geo.box_px(sx - bw / 2, SOCKET_BOX_Y, sx + bw / 2, top, d)
        )
        cv2.rectangle(canvas, (x0 + 2, y0 + 3), (x1 + 2, y1 + 3), (60, 62, 64), -1)
        cv2.rectangle(canvas, (x0, y0), (x1, y1), body, -1)
        cv2.rectangle(canvas, (x0, y0), (x1, y0 + max(2, (y1 - y0) // 7)), strip, -1)
        cv2.rectangle(canvas, (x0, y0), (x1, y1), (110, 112, 114), 1)
        label = f"{i + 1:02d}"
        scale = (x1 - x0) * 0.024
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        ty = y0 + (y1 - y0) * 0.22
        cv2.rectangle(
            canvas,
            (int((x0 + x1 - tw) / 2) - 2, int(ty)),
            (int((x0 + x1 + tw) / 2) + 2, int(ty + th + 4)),
            (245, 248, 250),
            -1,
        )
        cv2.putText(
            canvas,
            label,
            (int((x0 + x1 - tw) / 2), int(ty + th + 2)),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            (20, 20, 20),
            1,
            cv2.LINE_AA,
        )
        qr = max(3, (x1 - x0) // 3)
        qx, qy = x0 + (x1 - x0) // 6, int(y0 + (y1 - y0) * 0.55)
        pattern = (rng.random((5, 5)) < 0.5).astype(np.uint8) * 200 + 30
        canvas[qy : qy + qr, qx : qx + qr] = cv2.resize(pattern, (qr, qr), interpolation=0)[
            ..., None
        ]
        outlet = (x1 - (x1 - x0) // 3, int(y0 + (y1 - y0) * 0.72))
        cv2.circle(canvas, outlet, max(2, (x1 - x0) // 7), (70, 70, 72), -1, cv2.LINE_AA)
        leds.append((x1 - (x1 - x0) // 4, int(y0 + (y1 - y0) * 0.5)))
        plugs.append((float(outlet[0]), float(y1)))
    # A blue notice board and a red extinguisher cabinet, as every Chinese shed has.
    nx = geo.slot_x[int(rng.integers(len(geo.slot_x)))] + float(rng.uniform(-0.3, 0.3))
    nb = [
        int(round(v)) for v in geo.box_px(nx - 0.6, conduit_y + 0.2, nx + 0.6, conduit_y + 0.75, d)
    ]
    cv2.rectangle(canvas, (nb[0], nb[1]), (nb[2], nb[3]), (150, 84, 20), -1)
    cv2.rectangle(
        canvas, (nb[0], nb[1]), (nb[2], nb[1] + (nb[3] - nb[1]) // 4), (240, 240, 240), -1
    )
    for row in range(2, 6):
        ry = nb[1] + (nb[3] - nb[1]) * row // 6
        cv2.line(canvas, (nb[0] + 4, ry), (nb[2] - 4 - row * 3, ry), (230, 220, 210), 1)
    ex = geo.right - 0.3
    eb = [int(round(v)) for v in geo.box_px(ex - 0.17, 0.15, ex + 0.17, 0.85, d)]
    cv2.rectangle(canvas, (eb[0], eb[1]), (eb[2], eb[3]), (36, 36, 178), -1)
    cv2.rectangle(canvas, (eb[0] + 2, eb[1] + 3), (eb[2] - 2, eb[1] + 6), (230, 230, 230), -1)
    _posts(canvas, geo, rng)
    return tuple(leds), tuple(plugs)


def _pixel(point: tuple[float, float]) -> tuple[int, int]:
    return (int(round(point[0])), int(round(point[1])))


def _posts(canvas: np.ndarray, geo: ShedGeometry, rng: np.random.Generator) -> None:
    colour = POST_COLOURS[int(rng.integers(len(POST_COLOURS)))]
    z = geo.depth
    while z > 1.0:
        x0, y0, x1, y1 = (
            int(round(v))
            for v in geo.box_px(geo.right - 0.06, 0, geo.right + 0.06, geo.roof_height, z)
        )
        cv2.rectangle(canvas, (x0, y0), (x1, y1), colour, -1)
        cv2.line(canvas, (x1, y0), (x1, y1), tuple(int(c * 0.6) for c in colour), 1)
        stripe = max(2, (y1 - y0) // 16)
        ground = y1
        for k in range(4):  # yellow and black hazard bands at knee height
            band = (0, 200, 230) if k % 2 == 0 else (30, 30, 30)
            cv2.rectangle(
                canvas, (x0, ground - (k + 1) * stripe), (x1, ground - k * stripe), band, -1
            )
        z -= float(rng.uniform(2.8, 3.4))
    a = geo.project(geo.right, geo.roof_height, geo.depth)
    b = geo.project(geo.right, geo.roof_height, 0.8)
    cv2.line(canvas, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), (70, 72, 76), 3, cv2.LINE_AA)


def _roof_fittings(
    canvas: np.ndarray, geo: ShedGeometry, rng: np.random.Generator
) -> tuple[tuple[int, int, int, int], ...]:
    """Tube lamps under the roof, off by day."""
    lamps = []
    y = geo.roof_height - 0.12
    middle = (geo.slot_x[0] + geo.slot_x[-1]) / 2
    for z in (geo.depth - 0.9, geo.depth - 2.6):
        for x in (middle - 1.4, middle + 1.0):
            x0, y0, x1, y1 = geo.box_px(x - 0.6, y - 0.04, x + 0.6, y + 0.04, z)
            box = (int(round(x0)), int(round(y0)), int(round(x1)), max(int(round(y1)), int(y0) + 2))
            if box[3] < 0:
                continue
            cv2.rectangle(canvas, box[:2], box[2:], (188, 190, 190), -1)
            cv2.rectangle(canvas, box[:2], box[2:], (120, 120, 122), 1)
            lamps.append(box)
    return tuple(lamps)
