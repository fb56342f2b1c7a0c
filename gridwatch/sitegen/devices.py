"""Devices installed in the planned grids, each installation with its linked devices."""

from __future__ import annotations

import math
import random
from collections import Counter
from typing import Any

from gridwatch.domain import DeviceKind
from gridwatch.sitegen.layout import Lattice, PlannedBuilding, PlannedGrid

MIN_DEVICES = 10  # one installation of every kind
HIGH_RISE_FLOORS = 10  # buildings from this height have elevators


class Installer:
    """Adds devices, each installation with its linked devices, within a device budget."""

    def __init__(self, rng: random.Random, lattice: Lattice, budget: int) -> None:
        self.rng, self.lattice, self.budget = rng, lattice, budget
        self.devices: list[dict[str, Any]] = []
        self.numbers: Counter[tuple[str, str]] = Counter()

    @property
    def left(self) -> int:
        return self.budget - len(self.devices)

    def _id(self, prefix: str, code: str) -> str:
        self.numbers[(prefix, code)] += 1
        return f"{prefix}-{code}-{self.numbers[(prefix, code)]}"

    def _add(
        self,
        kind: DeviceKind,
        device_id: str,
        grid: PlannedGrid,
        name: str,
        where: tuple[float, float],
        config: dict[str, Any],
        building: PlannedBuilding | None = None,
    ) -> None:
        device: dict[str, Any] = {"id": device_id, "kind": kind.value, "grid_id": grid.id}
        if building is not None:
            device["building_id"] = building.id
        lat, lon = where
        self.devices.append({**device, "name": name, "lat": lat, "lon": lon, "config": config})

    def _near(self, building: PlannedBuilding, du: float, dv: float) -> tuple[float, float]:
        u, v = building.uv
        return self.lattice.at(
            building.cell, min(0.8, max(0.2, u + du)), min(0.8, max(0.2, v + dv))
        )

    def fire_lane(self, grid: PlannedGrid) -> None:
        rng = self.rng
        building = rng.choice(grid.buildings)
        side, du, dv = rng.choice(
            [("东", 0.12, 0), ("西", -0.12, 0), ("南", 0, -0.12), ("北", 0, 0.12)]
        )
        camera, alarm = self._id("fl", grid.code), self._id("alarm", grid.code)
        top, bottom = 0.45, 0.85
        lane = [
            [0.0, round(top + rng.uniform(-0.03, 0.04), 3)],
            [1.0, round(top + rng.uniform(-0.03, 0.04), 3)],
            [1.0, round(bottom + rng.uniform(-0.04, 0.03), 3)],
            [0.0, round(bottom + rng.uniform(-0.04, 0.03), 3)],
        ]
        place = f"{building.name}{side}侧消防通道"
        self._add(
            DeviceKind.FIRE_LANE_CAMERA,
            camera,
            grid,
            place + "摄像头",
            self._near(building, du, dv),
            {
                "zones": {"lane": lane},
                "alarm_device": alarm,
                "dwell_seconds": 120,
                "clear_seconds": 10,
                "fps": 5,
                "resolution": [640, 360],
            },
        )
        self._add(
            DeviceKind.SOUND_LIGHT_ALARM,
            alarm,
            grid,
            place + "声光报警器",
            self._near(building, du * 1.3, dv * 1.3),
            {"fire_lane_camera": camera},
        )

    def elevator(self, grid: PlannedGrid, building: PlannedBuilding) -> None:
        code = building.id.removeprefix("b-")
        camera, controller = self._id("ev", code), self._id("evc", code)
        car = camera.rsplit("-", 1)[1]
        where = (building.lat, building.lon)
        self._add(
            DeviceKind.ELEVATOR_CAMERA,
            camera,
            grid,
            f"{building.name}{car}号电梯轿厢摄像头",
            where,
            {"elevator_controller": controller, "fps": 5},
            building,
        )
        self._add(
            DeviceKind.ELEVATOR_CONTROLLER,
            controller,
            grid,
            f"{building.name}{car}号电梯控制器",
            where,
            {"elevator_camera": camera, "door_hold_seconds": 30},
            building,
        )

    def shed(self, grid: PlannedGrid, sockets: int) -> None:
        rng = self.rng
        camera = self._id("shed", grid.code)
        number = camera.rsplit("-", 1)[1]
        socket_ids = [f"sock-{grid.code}-{number}-{n:02d}" for n in range(1, sockets + 1)]
        smoke = f"smoke-{grid.code}-{number}"
        where = self.lattice.at(
            rng.choice(grid.cells), rng.uniform(0.25, 0.75), rng.uniform(0.25, 0.75)
        )
        shed = f"{grid.estate[0]}{number}号电动车充电棚"
        self._add(
            DeviceKind.SHED_CAMERA,
            camera,
            grid,
            shed + "摄像头",
            where,
            {"sockets": socket_ids, "smoke_detector": smoke, "fps": 5},
        )
        for n, socket in enumerate(socket_ids, start=1):
            self._add(
                DeviceKind.CHARGING_SOCKET,
                socket,
                grid,
                f"{shed}{n}号插座",
                where,
                {
                    "shed_camera": camera,
                    "max_temperature_c": 70,
                    "max_current_a": 10,
                    "hold_seconds": 30,
                },
            )
        self._add(
            DeviceKind.SMOKE_DETECTOR,
            smoke,
            grid,
            shed + "烟感探测器",
            where,
            {"shed_camera": camera},
        )

    def facade(self, grid: PlannedGrid, building: PlannedBuilding) -> None:
        rng = self.rng
        camera = self._id("fc", building.id.removeprefix("b-"))
        side, du, dv = [("南", 0, -0.1), ("北", 0, 0.1), ("东", 0.1, 0), ("西", -0.1, 0)][
            (int(camera.rsplit("-", 1)[1]) - 1) % 4
        ]
        config = {"building_id": building.id, **_facade_view(rng, building.floors), "fps": 10}
        self._add(
            DeviceKind.FACADE_CAMERA,
            camera,
            grid,
            f"{building.name}{side}立面高空抛物摄像头",
            self._near(building, du, dv),
            config,
            building,
        )

    def hydrant(self, grid: PlannedGrid) -> None:
        device = self._id("hyd", grid.code)
        number = device.rsplit("-", 1)[1]
        where = self.lattice.at(
            self.rng.choice(grid.cells), self.rng.uniform(0.22, 0.78), self.rng.uniform(0.22, 0.78)
        )
        self._add(
            DeviceKind.HYDRANT_PRESSURE,
            device,
            grid,
            f"{grid.estate[0]}{number}号室外消火栓水压",
            where,
            {"min_kpa": 150, "hold_seconds": 60},
        )

    def fire_door(self, grid: PlannedGrid, building: PlannedBuilding) -> None:
        device = self._id("fd", building.id.removeprefix("b-"))
        number = device.rsplit("-", 1)[1]
        self._add(
            DeviceKind.FIRE_DOOR,
            device,
            grid,
            f"{building.name}{number}号常闭防火门",
            (building.lat, building.lon),
            {"open_alarm_seconds": 300},
            building,
        )


def facade_camera_view(
    floors: int, distance: float, left: float, right: float, narrowing: float
) -> tuple[list[dict[str, float]], list[list[float]]]:
    """Floor lines and facade polygon seen by a camera 1.5 m up, `distance` m from the wall,
    tilted up to take in the whole building; the facade spans `left`..`right` at the bottom
    and narrows by `narrowing` on each side at the roof (normalised picture coordinates)."""
    eye, storey = 1.5, 3.0
    low = math.atan2(-eye, distance) - 0.03
    high = math.atan2(floors * storey - eye, distance) + 0.04
    tilt, half = (low + high) / 2, (high - low) / 2

    def picture_y(height: float) -> float:  # pinhole camera tilted up by `tilt`
        return round(
            0.5 - math.tan(math.atan2(height - eye, distance) - tilt) / (2 * math.tan(half)), 3
        )

    lines = [{"floor": f, "y": picture_y((f - 1) * storey)} for f in range(1, floors + 1)]
    roof = picture_y(floors * storey)
    polygon = [
        [left, lines[0]["y"]],
        [right, lines[0]["y"]],
        [round(right - narrowing, 3), roof],
        [round(left + narrowing, 3), roof],
    ]
    return lines, polygon


def _facade_view(rng: random.Random, floors: int) -> dict[str, Any]:
    """A facade camera at a random distance framing the building a little differently."""
    distance = rng.uniform(18, 30)
    left, right = round(rng.uniform(0.18, 0.3), 3), round(rng.uniform(0.7, 0.82), 3)
    narrowing = (right - left) * rng.uniform(0.12, 0.2)
    lines, facade = facade_camera_view(floors, distance, left, right, narrowing)
    return {"floor_lines": lines, "zones": {"facade": facade}}


def install_devices(
    rng: random.Random, grids: list[PlannedGrid], lattice: Lattice, budget: int
) -> list[dict[str, Any]]:
    """Spend the device budget: fire lanes, elevators, sheds, facades, then hydrants and doors.

    Each phase keeps enough budget for one installation of every later phase, so all device
    kinds appear from MIN_DEVICES on.
    """
    put = Installer(rng, lattice, budget)
    buildings = [b for g in grids for b in g.buildings]
    grid_of = {g.id: g for g in grids}
    high = [b for b in buildings if b.floors >= HIGH_RISE_FLOORS]

    def rounds(items: list[Any], times: int) -> list[Any]:
        return [item for _ in range(times) for item in rng.sample(items, len(items))]

    spend = min(max(2, int(0.5 * budget)), put.left - 8)
    for grid in rounds(grids, 2)[: spend // 2]:
        put.fire_lane(grid)
    spend = min(max(2, int(0.16 * budget)), put.left - 6)
    for building in rounds(high, 2)[: spend // 2]:
        put.elevator(grid_of[building.grid_id], building)
    spend = min(max(3, int(0.16 * budget)), put.left - 3)
    old_first = sorted(rng.sample(grids, len(grids)), key=lambda g: g.style != "old")
    for grid in old_first * 3:
        if spend < 3:
            break
        sockets = min(rng.randint(4, 8), spend - 2)
        put.shed(grid, sockets)
        spend -= sockets + 2
    spend = min(max(1, int(0.06 * budget)), put.left - 2)
    tallest = sorted(rng.sample(buildings, len(buildings)), key=lambda b: -b.floors)
    for building in (tallest * (spend // len(tallest) + 1))[:spend]:
        put.facade(grid_of[building.grid_id], building)
    hydrants, doors = rounds(grids, 2), rounds(buildings, 1)
    put.hydrant(hydrants.pop())
    for n in range(put.left):
        if n > 0 and hydrants and rng.random() < 0.35:
            put.hydrant(hydrants.pop())
        else:
            building = doors[n % len(doors)]
            put.fire_door(grid_of[building.grid_id], building)
    order = {g.id: n for n, g in enumerate(grids)}
    return sorted(put.devices, key=lambda d: order[d["grid_id"]])
