"""A supersampled drawing surface for a facade seen from below, in facade metres.

Shapes are given as rectangles in facade metres (u across, h up) and drawn as the quads they
project to. There are two canvases, identical except for glazing, which is painted unlit on
one and lit on the other; an id map remembers which pixels belong to which pane.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import cv2
import numpy as np

from simulators.scenes.facade_layout import FacadeGeometry

SUPERSAMPLE = 3
SHIFT = 2  # fractional bits of polygon coordinates
ONE = 1 << SHIFT

Colour = tuple[float, float, float]


@dataclass(frozen=True)
class Glazing:
    """A window (or glazed-in balcony) that can be lit: where its pixels are in the picture."""

    floor: int
    bay: int
    x0: int
    y0: int
    mask: np.ndarray  # bool, True where the pane covers a pixel


class Canvas:
    """Two supersampled BGR canvases (unlit and lit glazing) and a pane id map."""

    def __init__(self, geo: FacadeGeometry, ambient: float) -> None:
        self.geo, self.ambient = geo, ambient
        h, w = geo.height * SUPERSAMPLE, geo.width * SUPERSAMPLE
        self.layers = [np.zeros((h, w, 3), np.uint8), np.zeros((h, w, 3), np.uint8)]
        self.ids = np.zeros((h, w), np.uint16)
        self.glass = np.zeros((h, w), np.uint8)  # where see-through railings are
        self.panes: list[tuple[int, int, float, float, float, float]] = []
        left, right = geo.edges(np.arange(h + 1) / SUPERSAMPLE)
        self._left, self._right = left.tolist(), right.tolist()
        self._knots_h, self._knots_y = geo.knots_h.tolist(), geo.knots_y.tolist()

    # ---- projection -----------------------------------------------------------------------

    def y(self, h: float) -> float:
        """Supersampled row of height h; a scalar twin of FacadeGeometry.y_at, for speed."""
        hs, ys = self._knots_h, self._knots_y
        i = min(max(bisect.bisect_right(hs, h) - 1, 0), len(hs) - 2)
        return (ys[i] + (h - hs[i]) * (ys[i + 1] - ys[i]) / (hs[i + 1] - hs[i])) * SUPERSAMPLE

    def x(self, u: float, y_ss: float) -> float:
        """Supersampled column of the point u metres across at supersampled row y_ss."""
        row = min(max(y_ss, 0.0), len(self._left) - 1.001)
        i, f = int(row), row - int(row)
        left = self._left[i] * (1 - f) + self._left[i + 1] * f
        right = self._right[i] * (1 - f) + self._right[i + 1] * f
        return (left + u / self.geo.width_m * (right - left)) * SUPERSAMPLE

    def quad(self, u0: float, u1: float, h0: float, h1: float) -> np.ndarray:
        """Fixed-point corners of the facade rectangle u0..u1 x h0..h1."""
        y0, y1 = self.y(h0), self.y(h1)
        corners = [
            (self.x(u0, y0), y0),
            (self.x(u1, y0), y0),
            (self.x(u1, y1), y1),
            (self.x(u0, y1), y1),
        ]
        return np.round(np.array(corners) * ONE).astype(np.int32)

    # ---- drawing --------------------------------------------------------------------------

    def shade(self, colour: Colour | np.ndarray, factor: float = 1.0) -> Colour:
        """A surface colour as the ambient light shows it."""
        k = factor * self.ambient
        b, g, r = (min(255.0, max(0.0, float(c) * k)) for c in colour)
        return (b, g, r)

    def fill(
        self, u0: float, u1: float, h0: float, h1: float, colour: Colour, lit: Colour | None = None
    ) -> None:
        """Fill a facade rectangle; `lit` is its colour on the lit canvas, when different."""
        self.polygon(self.quad(u0, u1, h0, h1), colour, lit)

    def polygon(self, pts: np.ndarray, colour: Colour, lit: Colour | None = None) -> None:
        for layer, c in zip(self.layers, (colour, lit or colour), strict=True):
            cv2.fillPoly(layer, [pts], c, cv2.LINE_8, SHIFT)

    def picture_polygon(self, points: list[tuple[float, float]], colour: Colour) -> None:
        """Fill a polygon given in (unsupersampled) picture pixels."""
        pts = np.round(np.array(points) * SUPERSAMPLE * ONE).astype(np.int32)
        self.polygon(pts, colour)

    def line(self, u0: float, h0: float, u1: float, h1: float, colour: Colour) -> None:
        """A thin line on the facade, such as a grille bar or a louvre slat."""
        y0, y1 = self.y(h0), self.y(h1)
        p0 = (round(self.x(u0, y0) * ONE), round(y0 * ONE))
        p1 = (round(self.x(u1, y1) * ONE), round(y1 * ONE))
        for layer in self.layers:
            cv2.line(layer, p0, p1, colour, 1, cv2.LINE_8, SHIFT)

    def see_through(self, u0: float, u1: float, h0: float, h1: float) -> None:
        """Mark a glass railing, tinted when the picture is finished."""
        cv2.fillPoly(self.glass, [self.quad(u0, u1, h0, h1)], 255, cv2.LINE_8, SHIFT)

    def foliage(
        self, x: float, y: float, rx: float, ry: float, colour: Colour, rng: np.random.Generator
    ) -> None:
        """A shrub or tree crown at picture (x, y): clumps of leaves, lit from above."""
        s = SUPERSAMPLE
        clumps = [(0.0, 0.15, 1.0, 0.8)] + [
            (rng.uniform(-0.7, 0.7), rng.uniform(-0.6, 0.4), rng.uniform(0.3, 0.5), 0.0)
            for _ in range(10)
        ]
        for dx, dy, size, _ in clumps:
            light = 0.75 + 0.5 * (0.5 - dy) / 1.1
            cx, cy = (x + dx * rx) * s, (y + dy * ry) * s
            axes = (max(1, int(rx * size * s)), max(1, int(ry * size * s * 0.9)))
            for layer in self.layers:
                cv2.ellipse(
                    layer, (int(cx), int(cy)), axes, 0, 0, 360, self.shade(colour, light), -1
                )

    def pane(self, floor: int, bay: int, pts: np.ndarray, dark: Colour, lit: Colour) -> None:
        """A pane of glass that can be lit: `dark` on one canvas, `lit` on the other."""
        self.polygon(pts, dark, lit)
        cv2.fillPoly(self.ids, [pts], len(self.panes) + 1, cv2.LINE_8, SHIFT)
        xs, ys = pts[:, 0] / ONE, pts[:, 1] / ONE
        self.panes.append((floor, bay, xs.min(), ys.min(), xs.max(), ys.max()))

    # ---- results --------------------------------------------------------------------------

    def downsampled(self, tint: Colour, opacity: float) -> list[np.ndarray]:
        """Both canvases at picture size (float32), glass railings tinted."""
        w, h = self.geo.width, self.geo.height
        glass = cv2.resize(self.glass, (w, h), interpolation=cv2.INTER_AREA)
        alpha = (glass.astype(np.float32) * (opacity / 255))[..., None]
        out = []
        for layer in self.layers:
            small = cv2.resize(layer, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
            out.append(small * (1 - alpha) + np.array(tint, np.float32) * alpha)
        return out

    def glazing(self) -> list[Glazing]:
        """Each pane's pixels at picture size."""
        s, h, w = SUPERSAMPLE, self.geo.height, self.geo.width
        found = []
        for pane_id, (floor, bay, x0, y0, x1, y1) in enumerate(self.panes, start=1):
            fx0, fy0 = max(int(x0 // s), 0), max(int(y0 // s), 0)
            fx1, fy1 = min(int(x1 // s) + 1, w), min(int(y1 // s) + 1, h)
            if fx1 <= fx0 or fy1 <= fy0:
                continue
            region = self.ids[fy0 * s : fy1 * s, fx0 * s : fx1 * s] == pane_id
            mask = region.reshape(fy1 - fy0, s, fx1 - fx0, s).any(axis=(1, 3))
            if mask.any():
                found.append(Glazing(floor, bay, fx0, fy0, mask))
        return found
