"""Flames and smoke for synthetic camera scenes, drawn from seeded noise.

Nothing here keeps state between frames: a flame or a plume is computed from the scene's
noise textures and the time asked for, so a frame depends only on (seed, timeline, t).

A flame is a heat field: a teardrop cut into tongues by noise that scrolls upwards faster than
a 5 fps camera can follow, so consecutive frames differ the way a real flame flickers. Heat
maps to colour through a red-orange-yellow-white ramp. Smoke is an opacity field at a fraction
of the frame's resolution: a plume that widens as it rises, a layer that collects under the
roof and spreads sideways, and a haze that slowly fills the room.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

NOISE_SIZE = 256  # side of the tileable noise textures, px

# Heat (0..1) to BGR: dull red at the edges, orange, yellow, a pale core.
FLAME_RAMP = (
    (0.0, (0, 0, 90)),
    (0.15, (12, 40, 196)),
    (0.35, (22, 112, 250)),
    (0.6, (40, 174, 255)),
    (0.8, (112, 226, 255)),
    (1.0, (214, 250, 255)),
)
GLOW_BGR = np.float32([0.25, 0.55, 1.0])


def _flame_lut() -> np.ndarray:
    stops = np.array([s for s, _ in FLAME_RAMP])
    colours = np.array([c for _, c in FLAME_RAMP], np.float32)
    heat = np.linspace(0, 1, 256)
    return np.stack([np.interp(heat, stops, colours[:, k]) for k in range(3)], -1).astype(
        np.float32
    )


FLAME_LUT = _flame_lut()
_GLOW = cv2.getGaussianKernel(65, 14) @ cv2.getGaussianKernel(65, 14).T
_GLOW = (_GLOW / _GLOW.max()).astype(np.float32)


def hash01(*values: int) -> float:
    """A well-mixed number in [0, 1) from integers: per-frame randomness without a global RNG."""
    h = 0x811C9DC5
    for v in values:
        h = ((h ^ (v & 0xFFFFFFFF)) * 0x01000193) & 0xFFFFFFFF
        h ^= h >> 15
        h = (h * 0x2C1B3C6D) & 0xFFFFFFFF
        h ^= h >> 12
    return h / 2**32


class FireNoise:
    """Tileable smooth noise textures, drawn once per scene, shared by all flames and smoke."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.fine = _tileable(rng, 22)
        self.coarse = _tileable(rng, 7)

    @staticmethod
    def window(texture: np.ndarray, x0: float, y0: float, h: int, w: int) -> np.ndarray:
        """An (h, w) view of the texture starting at (x0, y0), wrapping round; h, w <= 256."""
        x, y = int(x0) % NOISE_SIZE, int(y0) % NOISE_SIZE
        return texture[y : y + h, x : x + w]


def _tileable(rng: np.random.Generator, cells: int) -> np.ndarray:
    grid = rng.uniform(-1, 1, (cells, cells)).astype(np.float32)
    cell = NOISE_SIZE / cells
    side = round((cells + 4) * cell)
    big = cv2.resize(np.pad(grid, 2, mode="wrap"), (side, side), interpolation=cv2.INTER_CUBIC)
    start = round(2 * cell)
    tile = big[start : start + NOISE_SIZE, start : start + NOISE_SIZE]
    tile = tile / max(float(np.abs(tile).max()), 1e-6)
    return np.tile(tile, (2, 2)).astype(np.float32)


def paint_flame(
    frame: np.ndarray,
    noise: FireNoise,
    base: tuple[float, float],
    height: float,
    width: float,
    t: float,
    salt: int,
    tongues: int = 3,
) -> tuple[float, float, float, float] | None:
    """Draw a flame standing on pixel `base`, about height x width px; returns its pixel box.

    The flame is `tongues` teardrops side by side, each leaping to its own height in each
    frame, frayed by rising noise.
    """
    if height < 3 or width < 2:
        return None
    bx, by = base
    top, bottom = by - 1.3 * height, by + 0.12 * height
    left, right = bx - 0.9 * width, bx + 0.9 * width
    step = max(2, math.ceil(max(bottom - top, right - left) / (NOISE_SIZE - 2)))
    rows, cols = int((bottom - top) / step) + 1, int((right - left) / step) + 1
    ys = top + np.arange(rows, dtype=np.float32) * step
    xs = left + np.arange(cols, dtype=np.float32) * step
    scroll = t * 2.6 * height / step  # tongues rise through the flame in about half a second
    fine = FireNoise.window(noise.fine, 73 * salt, scroll, rows, cols)
    coarse = FireNoise.window(noise.coarse, 73 * salt + 101, scroll * 0.45, rows, cols)
    turbulence = 0.65 * fine + 0.35 * coarse
    warp = coarse[:, cols // 2 : cols // 2 + 1] * (width * 0.15)
    ms = int(round(t * 1000))
    # A low bed of fire along the base, with tongues leaping out of it.
    v_bed = ((by - ys) / (0.3 * height))[:, None]
    u_bed = (xs[None, :] - bx) / (0.5 * width)
    heat = 1 - u_bed**2 - np.clip(v_bed, 0, None) ** 2 + 0.5 * turbulence
    heat = heat * np.clip(1 + v_bed / 0.25, 0, 1)
    for k in range(tongues):
        spread = (k + 0.5) / tongues - 0.5 + 0.25 * (hash01(salt, k, 1) - 0.5) / tongues
        offset = spread * width * 0.8 + 0.05 * width * math.sin(1.7 * t + k)
        centred = 1 - 2 * abs(spread)  # middle tongues stand taller
        leap = height * (0.45 + 0.35 * centred + 0.35 * hash01(ms, salt, k))
        v = ((by - ys) / leap)[:, None]
        half = width / tongues * (0.55 + 0.5 * hash01(salt, k, 2))
        lean = (warp + 0.25 * half * math.sin(2.3 * t + 3 * k)) * np.clip(v, 0, None)
        u = (xs[None, :] - bx - offset - lean) / half
        envelope = np.clip(1 - v, 0, 1) ** 0.7
        tongue = 1 - np.abs(u) / np.maximum(envelope, 0.02) + 0.9 * (0.25 + 0.75 * v) * turbulence
        tongue = tongue - 0.15 * v - 4 * np.clip(v - 1, 0, None)
        heat = np.maximum(heat, tongue * np.clip(1 + v / 0.08, 0, 1))
    heat = np.clip(heat, 0, 1)
    full = cv2.resize(heat, (cols * step, rows * step), interpolation=cv2.INTER_LINEAR)
    x0, y0 = int(round(left)), int(round(top))
    fx0, fy0 = max(x0, 0), max(y0, 0)
    fx1, fy1 = min(x0 + full.shape[1], frame.shape[1]), min(y0 + full.shape[0], frame.shape[0])
    if fx1 <= fx0 or fy1 <= fy0:
        return None
    heat = full[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0]
    alpha = np.clip(heat * 2.6, 0, 1)[..., None]
    colour = FLAME_LUT[(heat * 255).astype(np.uint8)]
    region = frame[fy0:fy1, fx0:fx1]
    region[...] = (region * (1 - alpha) + colour * alpha).astype(np.uint8)
    ys_hot, xs_hot = np.nonzero(heat > 0.12)
    if len(xs_hot) == 0:
        return None
    return (fx0 + xs_hot.min(), fy0 + ys_hot.min(), fx0 + xs_hot.max() + 1, fy0 + ys_hot.max() + 1)


def paint_glow(
    frame: np.ndarray,
    centre: tuple[float, float],
    radius: float,
    strength: float,
    colour: np.ndarray = GLOW_BGR,
) -> None:
    """Add light around a point: the warm light a fire throws on its surroundings, a lamp's halo."""
    size = int(radius * 2)
    if size < 3 or strength <= 0:
        return
    x0, y0 = int(centre[0] - radius), int(centre[1] - radius)
    fx0, fy0 = max(x0, 0), max(y0, 0)
    fx1, fy1 = min(x0 + size, frame.shape[1]), min(y0 + size, frame.shape[0])
    if fx1 <= fx0 or fy1 <= fy0:
        return
    shape = cv2.resize(_GLOW, (size, size))[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0]
    glow = cv2.merge([cv2.convertScaleAbs(shape, alpha=float(strength * c)) for c in colour])
    region = frame[fy0:fy1, fx0:fx1]
    region[...] = cv2.add(region, glow)


class SmokeField:
    """Smoke opacity and colour at low resolution; plumes add to it, then it is blended in."""

    def __init__(self, width: int, height: int) -> None:
        self.factor = max(4, math.ceil(max(width, height) / (NOISE_SIZE - 2)))
        self.size = (width, height)
        h, w = math.ceil(height / self.factor), math.ceil(width / self.factor)
        self.alpha = np.zeros((h, w), np.float32)
        self.tinted = np.zeros((h, w, 3), np.float32)  # sum of opacity x colour of each plume
        self.weight = np.zeros((h, w), np.float32)  # sum of opacity of each plume
        self._ys = np.arange(h, dtype=np.float32)[:, None]
        self._xs = np.arange(w, dtype=np.float32)[None, :]

    def add_plume(
        self,
        noise: FireNoise,
        t: float,
        source: tuple[float, float],
        ppm: float,
        roof_y: float,
        age_s: float,
        strength: float,
        colour: tuple[int, int, int],
        salt: int,
        base_width_m: float = 0.25,
        source_on: float = 1.0,
    ) -> tuple[float, float, float, float] | None:
        """Smoke from pixel `source` that has been rising for age_s seconds; returns its box.

        `ppm` is pixels per metre near the source; `roof_y` the image row of the ceiling above
        it. `source_on` fades the plume itself (0 once the fire is out) while the layer under
        the roof and the haze linger with `strength`.
        """
        if strength <= 0.003 or age_s <= 0:
            return None
        f = self.factor
        sx, sy, s, roof = source[0] / f, source[1] / f, ppm / f, roof_y / f
        ys, xs = self._ys, self._xs
        rise_speed = 1.3 * s  # smoke climbs about 1.3 m/s
        front = sy - rise_speed * age_s
        above = sy - ys
        texture = FireNoise.window(noise.coarse, 37 * salt, 0.5 * s * t, *self.alpha.shape)
        detail = FireNoise.window(noise.fine, 53 * salt, 0.9 * s * t, *self.alpha.shape)
        sway = texture[:, :1] * 0.25 * np.clip(above, 0, None)
        half = s * base_width_m + 0.3 * np.clip(above, 0, None)
        plume = np.exp(-(((xs - sx - sway) / np.maximum(half, 0.5)) ** 2))
        plume = plume * np.clip((above + 0.1 * s) / (0.6 * s), 0, 1)
        plume = np.minimum(1.5 * plume * np.clip((ys - front) / (0.6 * s), 0, 1), 1) * source_on
        layer = np.zeros_like(plume)
        spreading = age_s - (sy - roof) / rise_speed
        if spreading > 0:
            reach = s * (0.6 + 0.55 * spreading)
            thick = s * min(1.3, 0.3 + 0.02 * spreading)
            across = np.clip(1 - np.abs(xs - sx) / reach, 0, 1) ** 0.5
            edge = roof + thick * (1 + 0.3 * detail)
            layer = across * np.clip((edge - ys) / (0.4 * s + 1), 0, 1)
        rows = self.alpha.shape[0]
        haze = min(0.3, age_s / 500) * (1 - 0.5 * ys / rows)
        density = 1 - (1 - plume) * (1 - layer) * (1 - haze)
        density = density * np.clip(0.78 + 0.35 * detail + 0.2 * texture, 0.3, 1.0)
        alpha = np.clip(density * strength, 0, 0.93)
        self.alpha[...] = 1 - (1 - self.alpha) * (1 - alpha)
        self.tinted += alpha[..., None] * np.float32(colour)
        self.weight += alpha
        seen = np.nonzero((plume + layer) * strength > 0.15)
        if len(seen[0]) == 0:
            return None
        return (
            float(seen[1].min() * f),
            float(seen[0].min() * f),
            float((seen[1].max() + 1) * f),
            float((seen[0].max() + 1) * f),
        )

    def paint(self, frame: np.ndarray, brightness: float) -> None:
        """Blend the accumulated smoke into `frame` (uint8 BGR, in place)."""
        if not self.alpha.any():
            return
        colour = self.tinted / np.maximum(self.weight, 1e-4)[..., None] * brightness
        w, h = self.size
        alpha = cv2.resize(self.alpha, (w, h), interpolation=cv2.INTER_LINEAR)
        smoke = cv2.resize(np.clip(colour, 0, 255).astype(np.uint8), (w, h))
        frame[...] = cv2.blendLinear(frame, smoke, 1 - alpha, alpha)
