"""Where things are: streets, communities and grids on a jittered lattice, buildings in grids.

The district is a lattice of cells of about 200 m whose corners and edge midpoints are
jittered, so neighbouring grids share every boundary position and tile without gaps or
overlaps. Streets are bands three cells high, communities blocks of 2 x 3 cells along their
street, and a grid is one cell or two merged neighbours, which gives 4-6 grids per community.
Bigger sites get more communities (about five grids each) and more streets (about the square
root of the number of communities).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from gridwatch.sitegen.names import (
    COMMUNITY_NAMES,
    ESTATE_NAMES,
    ESTATE_SUFFIXES,
    STREET_NAMES,
    WORKS_NAMES,
    unique_names,
)

CENTER_LAT, CENTER_LON = 39.66, 106.82
CELL_M = 200.0
M_PER_DEG_LAT = 111_320.0
M_PER_DEG_LON = M_PER_DEG_LAT * math.cos(math.radians(CENTER_LAT))


@dataclass
class PlannedBuilding:
    """A building as planned: its cell and place in it (u, v), then its position."""

    id: str
    grid_id: str
    name: str
    floors: int
    cell: tuple[int, int]
    uv: tuple[float, float]
    lat: float = 0.0
    lon: float = 0.0


@dataclass
class PlannedGrid:
    """A grid as planned: its lattice cells, estate name and style, then outline and buildings."""

    id: str
    code: str
    number: int
    community: dict[str, Any]
    cells: list[tuple[int, int]]
    estate: tuple[str, str]
    style: str  # "old" walk-ups, "mid" or "high" rise
    ring: list[list[float]] = field(default_factory=list)
    buildings: list[PlannedBuilding] = field(default_factory=list)
    households: int = 0


class Lattice:
    """Jittered cell corners and edge midpoints, in metres east and north of the south-west."""

    def __init__(self, rng: random.Random, cols: int, rows: int) -> None:
        xs, ys = [0.0], [0.0]
        for _ in range(cols):
            xs.append(xs[-1] + CELL_M * rng.uniform(0.85, 1.2))
        for _ in range(rows):
            ys.append(ys[-1] + CELL_M * rng.uniform(0.85, 1.15))
        self.width, self.height = xs[-1], ys[-1]
        jitter = 0.12 * CELL_M
        self.corner = {
            (i, j): (xs[i] + rng.uniform(-jitter, jitter), ys[j] + rng.uniform(-jitter, jitter))
            for j in range(rows + 1)
            for i in range(cols + 1)
        }
        bend = 0.05 * CELL_M
        self.middle: dict[tuple[tuple[int, int], tuple[int, int]], tuple[float, float]] = {}
        for (i, j), (x, y) in self.corner.items():
            if i < cols:  # the edge to the east, bent north or south
                x2, y2 = self.corner[(i + 1, j)]
                self.middle[((i, j), (i + 1, j))] = (
                    (x + x2) / 2,
                    (y + y2) / 2 + rng.uniform(-bend, bend),
                )
            if j < rows:  # the edge to the north, bent east or west
                x2, y2 = self.corner[(i, j + 1)]
                self.middle[((i, j), (i, j + 1))] = (
                    (x + x2) / 2 + rng.uniform(-bend, bend),
                    (y + y2) / 2,
                )

    def lonlat(self, x: float, y: float) -> list[float]:
        lon = CENTER_LON + (x - self.width / 2) / M_PER_DEG_LON
        lat = CENTER_LAT + (y - self.height / 2) / M_PER_DEG_LAT
        return [round(lon, 6), round(lat, 6)]

    def ring(self, cells: list[tuple[int, int]]) -> list[list[float]]:
        """Counter-clockwise outline of adjacent cells: their edges minus the shared ones."""
        edges: set[tuple[tuple[int, int], tuple[int, int]]] = set()
        for i, j in cells:
            corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)]
            for a, b in zip(corners, corners[1:] + corners[:1], strict=True):
                if (b, a) in edges:
                    edges.remove((b, a))
                else:
                    edges.add((a, b))
        following = dict(edges)
        if len(following) != len(edges):
            raise ValueError(f"cells {cells} do not make one simple outline")
        start = min(following)
        ring, point = [], start
        for _ in range(len(following)):
            after = following[point]
            ring.append(self.lonlat(*self.corner[point]))
            ring.append(self.lonlat(*self.middle[(min(point, after), max(point, after))]))
            point = after
        if point != start:
            raise ValueError(f"cells {cells} do not make one simple outline")
        return [*ring, ring[0]]

    def at(self, cell: tuple[int, int], u: float, v: float) -> tuple[float, float]:
        """(lat, lon) of a point in a cell, u west to east and v south to north (0..1)."""
        i, j = cell
        (x0, y0), (x1, y1) = self.corner[(i, j)], self.corner[(i + 1, j)]
        (x3, y3), (x2, y2) = self.corner[(i, j + 1)], self.corner[(i + 1, j + 1)]
        x = (1 - v) * ((1 - u) * x0 + u * x1) + v * ((1 - u) * x3 + u * x2)
        y = (1 - v) * ((1 - u) * y0 + u * y1) + v * ((1 - u) * y3 + u * y2)
        lon, lat = self.lonlat(x, y)
        return lat, lon


def _split(rng: random.Random, total: int, parts: int, low: int, high: int) -> list[int]:
    """`parts` whole numbers between low and high adding up to total, varied at random."""
    sizes = [total // parts + (1 if n < total % parts else 0) for n in range(parts)]
    for _ in range(parts * 2):
        a, b = rng.randrange(parts), rng.randrange(parts)
        if a != b and sizes[a] > low and sizes[b] < high:
            sizes[a] -= 1
            sizes[b] += 1
    return sizes


def _community_cells(rng: random.Random, grids: int) -> list[list[tuple[int, int]]]:
    """Split a 2 x 3 block into `grids` parts (3-6) by merging pairs of neighbouring cells."""
    pairs = [((0, r), (1, r)) for r in range(3)] + [
        ((c, r), (c, r + 1)) for c in range(2) for r in range(2)
    ]
    while True:
        merged: list[tuple[tuple[int, int], tuple[int, int]]] = []
        used: set[tuple[int, int]] = set()
        for a, b in rng.sample(pairs, len(pairs)):
            if len(merged) < 6 - grids and a not in used and b not in used:
                merged.append((a, b))
                used.update((a, b))
        if len(merged) == 6 - grids:
            break
    parts = [list(pair) for pair in merged]
    parts += [[(c, r)] for r in range(3) for c in range(2) if (c, r) not in used]
    return sorted(parts, key=lambda cells: (-max(r for _, r in cells), min(c for c, _ in cells)))


def plan_district(
    rng: random.Random, grid_count: int
) -> tuple[list[dict[str, Any]], list[PlannedGrid], Lattice]:
    """Streets with their communities, the grids (cells, names, style) and the lattice."""
    communities = min(max(round(grid_count / 5), math.ceil(grid_count / 6)), grid_count // 3)
    street_count = max(1, round(math.sqrt(communities)))
    per_street = [
        communities // street_count + (s < communities % street_count) for s in range(street_count)
    ]
    low = 4 if grid_count >= 4 * communities else 3
    grids_per_community = _split(rng, grid_count, communities, low, 6)
    width = max(2, len(str(max(street_count, *per_street))))
    lattice = Lattice(rng, 2 * max(per_street), 3 * street_count)
    street_names = unique_names(rng, STREET_NAMES, street_count)
    community_names = iter(unique_names(rng, COMMUNITY_NAMES, communities))
    estate_pool = [
        (zh + s, f"{en} {s_en}") for zh, en in ESTATE_NAMES for s, s_en in ESTATE_SUFFIXES
    ]
    estates = iter(unique_names(rng, estate_pool, grid_count, "区"))
    works_pool = [(zh + "家属院", f"{en} Quarters") for zh, en in WORKS_NAMES]
    works = iter(unique_names(rng, works_pool, grid_count, "区"))
    streets: list[dict[str, Any]] = []
    grids: list[PlannedGrid] = []
    sizes = iter(grids_per_community)
    for s in range(street_count):
        zh, en = street_names[s]
        street = {
            "id": f"s-{s + 1:0{width}d}",
            "name": zh + "街道",
            "name_en": f"{en} Subdistrict",
            "communities": [],
        }
        streets.append(street)
        top_row = 3 * (street_count - 1 - s)  # the first street lies furthest north
        for c in range(per_street[s]):
            code = f"{s + 1:0{width}d}{c + 1:0{width}d}"
            zh, en = next(community_names)
            community = {
                "id": f"c-{code}",
                "name": zh + "社区",
                "name_en": f"{en} Community",
                "households": 0,
            }
            street["communities"].append(community)
            for number, cells in enumerate(_community_cells(rng, next(sizes)), start=1):
                style = rng.choices(["old", "mid", "high"], weights=[35, 30, 35])[0]
                estate = next(works) if style == "old" else next(estates)
                grid_code = f"{code}{number:02d}"
                placed = [(2 * c + col, top_row + row) for col, row in cells]
                grids.append(
                    PlannedGrid(
                        f"g-{grid_code}", grid_code, number, community, placed, estate, style
                    )
                )
    if not any(grid.style == "high" for grid in grids):
        grids[0].style, grids[0].estate = "high", next(estates)
    return streets, grids, lattice


FLOORS = {"old": (6, 7), "mid": (11, 18), "high": (18, 33)}
BUILDINGS_PER_CELL = {"old": (4, 6), "mid": (3, 5), "high": (2, 4)}
SLOTS = [(u, v) for v in (0.74, 0.5, 0.26) for u in (0.26, 0.5, 0.74)]


def add_buildings(rng: random.Random, grid: PlannedGrid, lattice: Lattice) -> None:
    """Place the grid's buildings in its cells and count its (and its community's) households."""
    number = 0
    for cell in grid.cells:
        count = rng.randint(*BUILDINGS_PER_CELL[grid.style])
        for u, v in sorted(rng.sample(SLOTS, count), key=lambda uv: (-uv[1], uv[0])):
            number += 1
            uv = (u + rng.uniform(-0.03, 0.03), v + rng.uniform(-0.03, 0.03))
            floors = rng.randint(*FLOORS[grid.style])
            building = PlannedBuilding(
                f"b-{grid.code}-{number:02d}",
                grid.id,
                f"{grid.estate[0]}{number}号楼",
                floors,
                cell,
                uv,
            )
            building.lat, building.lon = lattice.at(cell, *uv)
            grid.buildings.append(building)
            units = rng.randint(2, 4) if grid.style == "old" else rng.randint(1, 2)
            per_floor = 2 if grid.style == "old" else rng.randint(2, 4)
            grid.households += floors * units * per_floor
    grid.community["households"] += grid.households
