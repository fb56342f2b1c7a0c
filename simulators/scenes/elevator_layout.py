"""Where things are in the elevator car, and the camera that watches it.

World coordinates are metres: x runs across the car (0 at the side wall nearest the camera),
y from the back wall (0) to the door wall (`depth`), z up from the floor. The camera hangs
in a back corner under the ceiling and sees through a fisheye lens; a mirrored camera shows
the door on the other side of the picture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

NEAR = 0.05  # m: parts closer to the lens than this are not drawn

# BGR base colour and how strongly its grain (brushing or wood) shows.
WALL_FINISHES: dict[str, tuple[tuple[float, float, float], float]] = {
    "brushed steel": ((178, 174, 168), 9.0),
    "champagne steel": ((136, 166, 188), 8.0),
    "wood laminate": ((62, 102, 150), 14.0),
    "etched steel": ((170, 168, 162), 7.0),
    "dark steel": ((96, 94, 92), 6.0),
}
FLOOR_FINISHES = ("marble tiles", "granite border", "speckled vinyl", "checker tiles")
HALL_PAINT = ((206, 214, 220), (192, 208, 198), (222, 222, 216), (178, 196, 214))


@dataclass(frozen=True)
class CarLayout:
    """Size of the car, where its door and operating panel are, and how it is finished."""

    width: float
    depth: float
    height: float
    door_x0: float
    door_x1: float
    door_height: float
    centre_opening: bool  # two panels parting in the middle, else both slide to one side
    panel_x0: float  # the operating panel (buttons, floor display) beside the door
    panel_x1: float
    wall_finish: str
    floor_finish: str
    hall_paint: tuple[int, int, int]
    back_rail: bool

    @classmethod
    def random(cls, rng: np.random.Generator) -> CarLayout:
        # Residential cars that take a stretcher: narrow and deep, the door in the short wall.
        width, depth = float(rng.uniform(1.35, 1.7)), float(rng.uniform(2.0, 2.25))
        height = float(rng.uniform(2.3, 2.45))
        door_width = float(rng.uniform(0.8, 0.92))
        door_x0 = (width - door_width) * float(rng.uniform(0.15, 0.45))
        door_x1 = door_x0 + door_width
        panel_width = min(0.2, width - door_x1 - 0.1)
        return cls(
            width=width,
            depth=depth,
            height=height,
            door_x0=door_x0,
            door_x1=door_x1,
            door_height=float(rng.uniform(2.0, 2.1)),
            centre_opening=bool(rng.random() < 0.6),
            panel_x0=door_x1 + 0.06,
            panel_x1=door_x1 + 0.06 + panel_width,
            wall_finish=str(rng.choice(list(WALL_FINISHES))),
            floor_finish=str(rng.choice(FLOOR_FINISHES)),
            hall_paint=HALL_PAINT[int(rng.integers(len(HALL_PAINT)))],
            back_rail=bool(rng.random() < 0.6),
        )

    @property
    def door_width(self) -> float:
        return self.door_x1 - self.door_x0


@dataclass(frozen=True)
class CarCamera:
    """A fisheye dome camera: `rotation` rows are its right, down and forward axes."""

    width: int
    height: int
    position: np.ndarray
    rotation: np.ndarray
    focal: float
    mirrored: bool

    @classmethod
    def in_corner(
        cls, car: CarLayout, rng: np.random.Generator, width: int, height: int
    ) -> CarCamera:
        """Mounted in a back corner under the ceiling, aimed across the car at the door wall."""
        position = np.array(
            [rng.uniform(0.05, 0.1), rng.uniform(0.05, 0.1), car.height - rng.uniform(0.04, 0.1)]
        )
        target = np.array(
            [
                car.width * rng.uniform(0.5, 0.65),
                car.depth * rng.uniform(0.58, 0.72),
                rng.uniform(0.0, 0.2),
            ]
        )
        forward = _unit(target - position)
        right = _unit(np.cross(forward, [0.0, 0.0, 1.0]))
        down = np.cross(forward, right)
        roll = math.radians(rng.uniform(-2.0, 2.0))
        right, down = (
            math.cos(roll) * right + math.sin(roll) * down,
            -math.sin(roll) * right + math.cos(roll) * down,
        )
        fov = math.radians(rng.uniform(104, 114))  # across the picture's width
        return cls(
            width=width,
            height=height,
            position=position,
            rotation=np.stack([right, down, forward]),
            focal=width / 4 / math.tan(fov / 4),
            mirrored=bool(rng.random() < 0.5),
        )

    def to_camera(self, world: np.ndarray) -> np.ndarray:
        """Camera coordinates (x right, y down, z forward) of world points (N, 3)."""
        return (world - self.position) @ self.rotation.T

    def to_image(self, cam: np.ndarray) -> np.ndarray:
        """Pixel (x, y) of camera-space points, through the lens's barrel (stereographic) view."""
        off_axis = np.hypot(cam[:, 0], cam[:, 1])
        theta = np.arctan2(off_axis, cam[:, 2])
        scale = 2 * self.focal * np.tan(theta / 2) / np.maximum(off_axis, 1e-9)
        sign = -1.0 if self.mirrored else 1.0
        return np.stack(
            [self.width / 2 + sign * scale * cam[:, 0], self.height / 2 + scale * cam[:, 1]],
            axis=1,
        )

    def rays(self) -> np.ndarray:
        """World direction (unit) of each pixel's ray, shape (height * width, 3)."""
        v, u = np.mgrid[0 : self.height, 0 : self.width].astype(np.float64)
        sign = -1.0 if self.mirrored else 1.0
        dx, dy = (sign * (u - self.width / 2)).ravel(), (v - self.height / 2).ravel()
        radius = np.maximum(np.hypot(dx, dy), 1e-9)
        theta = 2 * np.arctan(radius / (2 * self.focal))
        cam = np.stack(
            [np.sin(theta) * dx / radius, np.sin(theta) * dy / radius, np.cos(theta)], axis=1
        )
        return cam @ self.rotation


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)
