"""Where things are on a building facade seen from the ground, looking up, and how it looks.

Positions on the facade are in metres: `u` across the wall from the facade's left edge, `h`
up from the ground floor's floor level. The camera's floor lines tie heights to picture rows
(floor n's bottom edge lies n - 1 storeys up); between lines heights are interpolated and
beyond them extrapolated, so a falling object's picture position follows the same
perspective as the painted floors. Across the wall, `u` runs evenly between the left and
right edges of the facade polygon at that row.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

STOREY_M = 3.0
GRAVITY = 9.81  # m/s²

# BGR colours of painted or tiled residential walls, and of darker stone bases.
WALL_COLOURS = (
    (168, 198, 222),  # cream
    (196, 198, 196),  # light grey
    (220, 226, 230),  # off-white
    (146, 200, 228),  # pale yellow
    (160, 174, 214),  # salmon
    (122, 160, 198),  # tan
    (204, 190, 176),  # grey-blue
)
ACCENT_COLOURS = (
    (62, 82, 150),  # brick red
    (64, 96, 128),  # brown
    (110, 110, 112),  # dark grey
    (232, 236, 238),  # white
    (120, 150, 180),  # sand
)
BASE_COLOURS = ((92, 110, 132), (120, 124, 128), (70, 84, 104), (150, 160, 170))
FRAME_COLOURS = ((232, 232, 230), (150, 150, 150), (70, 70, 74), (60, 80, 100))


@dataclass(frozen=True)
class FacadeGeometry:
    """Picture geometry of the facade: floor lines, outline and the metre <-> pixel mapping."""

    width: int
    height: int
    knots_h: np.ndarray  # metres, ascending: each floor line, then the roof
    knots_y: np.ndarray  # picture rows of the same, descending
    polygon: np.ndarray  # facade outline, (N, 2) pixels
    width_m: float  # facade width in metres

    @classmethod
    def from_config(
        cls,
        floor_lines: Sequence[Mapping[str, float]],
        facade: Sequence[Sequence[float]],
        width: int,
        height: int,
        width_m: float,
    ) -> FacadeGeometry:
        """Measure the floor lines and the normalised facade polygon at the given frame size."""
        if len(floor_lines) < 2:
            raise ValueError(f"a facade needs at least 2 floor lines, got {len(floor_lines)}")
        try:
            floors = np.array([float(_field(line, "floor")) for line in floor_lines])
            rows = np.array([float(_field(line, "y")) for line in floor_lines])
        except (AttributeError, KeyError, TypeError) as error:
            raise ValueError(
                f"floor lines are {{floor, y}} mappings, got {floor_lines!r}"
            ) from error
        if np.any(np.diff(floors) <= 0) or np.any(np.diff(rows) >= 0):
            raise ValueError(
                f"floor lines must go up: floors ascending, y descending, got {floor_lines!r}"
            )
        if rows.min() < 0 or rows.max() > 1:
            raise ValueError("floor line y values are normalised and must lie within 0..1")
        points = np.asarray(facade, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != 2 or len(points) < 3:
            raise ValueError(f"facade must be at least 3 [x, y] points, got {facade!r}")
        if points.min() < 0 or points.max() > 1:
            raise ValueError("facade coordinates are normalised and must lie within 0..1")
        polygon = points * [width, height]
        knots_h = list((floors - 1) * STOREY_M)
        knots_y = list(rows * height)
        # The roof is the top of the facade polygon when that lies above the top floor line;
        # otherwise the top floor is one storey, extrapolated.
        spacing = knots_y[-2] - knots_y[-1]
        top = float(polygon[:, 1].min())
        if top < knots_y[-1] - 0.3 * spacing:
            storeys = max(1, round((knots_y[-1] - top) / spacing))
        else:
            storeys, top = 1, knots_y[-1] - spacing * 0.9
        knots_h.append(knots_h[-1] + storeys * STOREY_M)
        knots_y.append(top)
        return cls(width, height, np.array(knots_h), np.array(knots_y), polygon, float(width_m))

    @property
    def roof_h(self) -> float:
        return float(self.knots_h[-1])

    @property
    def roof_y(self) -> float:
        return float(self.knots_y[-1])

    @property
    def ground_y(self) -> float:
        return float(self.y_at(0.0))

    @property
    def first_floor(self) -> int:
        return int(round(self.knots_h[0] / STOREY_M)) + 1

    @property
    def top_floor(self) -> int:
        return int(round(self.roof_h / STOREY_M))

    def y_at(self, h: float | np.ndarray) -> np.ndarray:
        """Picture row of height h (metres) on the facade."""
        return _interp(np.asarray(h, np.float64), self.knots_h, self.knots_y)

    def h_at(self, y: float | np.ndarray) -> np.ndarray:
        """Height on the facade (metres) seen at picture row y."""
        return _interp(np.asarray(y, np.float64), self.knots_y[::-1], self.knots_h[::-1])

    def floor_at(self, h: float) -> int:
        """The floor whose storey contains height h."""
        return int(math.floor(h / STOREY_M)) + 1

    def edges(self, y: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Left and right picture x of the facade at row(s) y (clamped to the outline's rows)."""
        poly = self.polygon
        ys = np.clip(np.asarray(y, np.float64), poly[:, 1].min(), poly[:, 1].max())
        left = np.full(ys.shape, np.inf)
        right = np.full(ys.shape, -np.inf)
        for (x0, y0), (x1, y1) in zip(poly, np.roll(poly, -1, axis=0), strict=True):
            if y0 == y1:
                continue
            inside = (ys >= min(y0, y1)) & (ys <= max(y0, y1))
            x = x0 + (ys - y0) * (x1 - x0) / (y1 - y0)
            left = np.where(inside, np.minimum(left, x), left)
            right = np.where(inside, np.maximum(right, x), right)
        return left, right

    def point(self, u: float, h: float) -> tuple[float, float]:
        """Picture (x, y) of the facade point u metres across, h metres up."""
        y = float(self.y_at(h))
        left, right = self.edges(y)
        return float(left + u / self.width_m * (right - left)), y

    def u_at(self, x: float, y: float) -> float:
        """Metres across the facade of picture point (x, y)."""
        left, right = self.edges(y)
        return float((x - left) / (right - left) * self.width_m)

    def px_per_m(self, y: float) -> float:
        """Horizontal picture scale at row y: pixels per metre across the facade."""
        left, right = self.edges(y)
        return float(right - left) / self.width_m

    def nearness(self, y: float) -> float:
        """How large things look at row y compared with things at the foot of the facade."""
        return self.px_per_m(y) / self.px_per_m(self.ground_y)


def _field(line: object, name: str) -> float:
    """A floor line's field, from a mapping or from a config model."""
    return line[name] if isinstance(line, Mapping) else getattr(line, name)  # type: ignore[no-any-return]


def _interp(x: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Piecewise-linear interpolation through (xs, ys), xs ascending, extrapolated linearly."""
    inside = np.interp(x, xs, ys)
    low = ys[0] + (x - xs[0]) * (ys[1] - ys[0]) / (xs[1] - xs[0])
    high = ys[-1] + (x - xs[-1]) * (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
    return np.where(x < xs[0], low, np.where(x > xs[-1], high, inside))


@dataclass(frozen=True)
class Bay:
    """A vertical strip of the facade repeated on every floor."""

    kind: str  # "balcony", "window", "small" (bathroom window), "ac" (air conditioner), "wall"
    u0: float
    u1: float

    @property
    def centre(self) -> float:
        return (self.u0 + self.u1) / 2


@dataclass(frozen=True)
class Look:
    """What one seed's building and light look like."""

    mode: str  # "day", "dusk" or "night"
    ambient: float  # brightness of daylit surfaces (1 = full day)
    wall: tuple[float, float, float]
    accent: tuple[float, float, float]
    base: tuple[float, float, float]
    frame: tuple[float, float, float]
    base_floors: int  # storeys clad in the base colour
    grille_floors: int  # storeys whose windows have security grilles
    railing: str  # "solid", "glass" or "bars"
    enclosed: float  # share of balconies glazed in
    ac_style: str  # "box" (units on brackets) or "louvre" (screened niches)
    tiles: bool
    lit_share: float  # share of windows lit at the start
    noise: float  # sensor noise sigma
    exposure_s: float  # shutter time, for motion blur
    roll_deg: float  # camera roll


def choose_look(rng: np.random.Generator) -> Look:
    """A random building and time of day."""
    mode = str(rng.choice(["day", "day", "day", "dusk", "night"]))
    ambient = {"day": rng.uniform(0.9, 1.05), "dusk": rng.uniform(0.45, 0.6)}.get(
        mode, rng.uniform(0.12, 0.18)
    )
    wall = WALL_COLOURS[int(rng.integers(len(WALL_COLOURS)))]
    return Look(
        mode=mode,
        ambient=float(ambient),
        wall=tuple(float(c) for c in np.array(wall) * rng.uniform(0.93, 1.03)),  # type: ignore[arg-type]
        accent=ACCENT_COLOURS[int(rng.integers(len(ACCENT_COLOURS)))],
        base=BASE_COLOURS[int(rng.integers(len(BASE_COLOURS)))],
        frame=FRAME_COLOURS[int(rng.integers(len(FRAME_COLOURS)))],
        base_floors=int(rng.integers(1, 4)),
        grille_floors=int(rng.choice([0, 0, 2, 3])),
        railing=str(rng.choice(["solid", "glass", "bars"])),
        enclosed=float(rng.choice([0.0, 0.5, 0.9])),
        ac_style=str(rng.choice(["box", "box", "louvre"])),
        tiles=bool(rng.random() < 0.5),
        lit_share={"day": 0.08, "dusk": 0.35}.get(mode, 0.5),
        noise=float(
            {"day": rng.uniform(1.5, 2.5), "dusk": rng.uniform(2.5, 3.5)}.get(
                mode, rng.uniform(3.5, 5.0)
            )
        ),
        exposure_s={"day": 1 / 120, "dusk": 1 / 40}.get(mode, 1 / 20),
        roll_deg=float(rng.uniform(-0.3, 0.3)),
    )


def plan_bays(rng: np.random.Generator, width_m: float) -> list[Bay]:
    """Bays across the facade: mirrored households between end walls, repeated per floor."""
    widths = {"balcony": (3.0, 4.2), "window": (1.5, 2.4), "small": (0.9, 1.2), "ac": (0.9, 1.2)}
    half: list[tuple[str, float]] = [("wall", float(rng.uniform(0.3, 0.7)))]
    for kind in ("balcony", "window", "ac", "small", "window"):
        if kind in ("balcony", "window") or rng.random() < 0.6:
            half.append((kind, float(rng.uniform(*widths[kind]))))
            half.append(("wall", float(rng.uniform(0.3, 0.8))))
    unit = half + half[::-1]
    unit_m = sum(w for _, w in unit)
    units = max(1, round(width_m / unit_m))
    scale = width_m / (units * unit_m)
    bays, u = [], 0.0
    for _ in range(units):
        for kind, w in unit:
            bays.append(Bay(kind, u, u + w * scale))
            u += w * scale
    return bays
