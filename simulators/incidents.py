"""Scenes and sensor models for the devices a scenario plays, and incidents applied to them.

Pure: an incident only adds to a scene's or a model's timeline. Going offline is the one
incident that is about the connection, not the picture; the player handles it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from simulators.demo import Scene, fire_lane_scene
from simulators.mqtt_devices import SimDevice
from simulators.scenario import (
    Bird,
    CarryEbike,
    DropObject,
    EnterPerson,
    Incident,
    Leaf,
    Lighting,
    ParkCar,
    PassCar,
    PassPedestrian,
    PersonInRed,
    ShedFire,
    SocketOverheat,
)
from simulators.scenes import charging_shed, elevator, facade, fire_lane
from simulators.sensors import SensorModel

SceneT = TypeVar("SceneT")
# A fall lasts a few seconds: a facade camera needs several frames on its curve. At 2 fps
# the e-bike detector took a bicycle for an e-bike in 2 of 4 seeds of the quiet scenario;
# at its cameras' own 5 fps in none.
MIN_FPS = {"facade_camera": 5.0, "elevator_camera": 5.0}


def plain_scene(device: SimDevice, seed: int) -> Scene | None:
    """The camera's scene with nothing happening in it; None for a device with no camera."""
    width, height = device.config.get("resolution", [640, 480])
    match device.kind:
        case "fire_lane_camera":
            return fire_lane_scene(device, seed)
        case "elevator_camera":
            return elevator.ElevatorScene(seed=seed, width=width, height=height)
        case "facade_camera":
            return facade.FacadeScene(
                device.config["floor_lines"],
                device.config["zones"]["facade"],
                seed=seed,
                width=width,
                height=height,
                fps_hint=float(device.config.get("fps", 10)),
            )
        case "shed_camera":
            return charging_shed.ChargingShedScene(
                seed=seed,
                sockets=len(device.config.get("sockets", [])) or 5,
                width=width,
                height=height,
            )
        case _:
            return None


def camera_fps(device: SimDevice, max_fps: float) -> float:
    """The camera's configured frame rate, capped, but never below what its feed needs."""
    fps = float(device.config.get("fps", 5))
    return min(fps, max(max_fps, MIN_FPS.get(device.kind, 0.0)))


@dataclass
class Stage:
    """Everything a scenario plays: camera scenes and sensor models, by device id."""

    devices: dict[str, SimDevice]
    scenes: dict[str, Scene] = field(default_factory=dict)
    sensors: dict[str, SensorModel] = field(default_factory=dict)

    @classmethod
    def build(cls, devices: list[SimDevice], seed: int) -> Stage:
        stage = cls({})
        stage.add(devices, seed)
        return stage

    def add(self, devices: list[SimDevice], seed: int) -> None:
        """Put devices on stage; the n-th device ever added plays with seed + n."""
        for device in devices:
            index = len(self.devices)
            self.devices[device.id] = device
            scene = plain_scene(device, seed + index)
            if scene is not None:
                self.scenes[device.id] = scene
            elif SensorModel(device.kind, seed=0).reading(0.0) is not None:
                self.sensors[device.id] = SensorModel(device.kind, seed=seed + index)

    def _scene(self, item: Incident, kind: type[SceneT]) -> SceneT:
        scene = self.scenes.get(item.device)
        if not isinstance(scene, kind):
            raise ValueError(f"{item.device} has no {kind.__name__} for {item.incident}")
        return scene

    def apply(self, item: Incident) -> None:
        """Add the incident to its device's timeline (a device_offline is the player's)."""
        lane, car, front = fire_lane.FireLaneScene, elevator.ElevatorScene, facade.FacadeScene
        match item:
            case ParkCar():
                self._scene(item, lane).park_car(item.at, item.stay_s, position=item.position)
            case PassCar():
                self._scene(item, lane).pass_car(item.at)
            case PassPedestrian():
                self._scene(item, lane).pass_pedestrian(item.at)
            case CarryEbike():
                self._scene(item, car).carry_in_ebike(item.at, item.stay_s)
            case EnterPerson():
                self._scene(item, car).enter_person(item.at, item.stay_s, item.carrying)
            case DropObject():
                self._scene(item, front).drop_object(item.at, item.floor, size=item.size)
            case Bird():
                self._scene(item, front).bird(item.at)
            case Leaf():
                self._scene(item, front).leaf_or_bag(item.at)
            case ShedFire():
                self._shed_fire(item)
            case PersonInRed():
                self._scene(item, charging_shed.ChargingShedScene).person_in_red(item.at)
            case SocketOverheat():
                self.sensors[item.device].fault_from = item.at
            case Lighting():
                scene = self.scenes[item.device]
                scene.set_lighting(item.at, item.at + item.ramp_s, item.gain)  # type: ignore[attr-defined]

    def _shed_fire(self, item: ShedFire) -> None:
        scene = self._scene(item, charging_shed.ChargingShedScene)
        sockets = self.devices[item.device].config.get("sockets", [])
        if sockets and item.socket >= len(sockets):
            raise ValueError(
                f"{item.device} has {len(sockets)} sockets; socket {item.socket} does not exist"
            )
        scene.start_fire(item.at, socket=item.socket)
        end = item.at + item.burn_s if item.burn_s else float("inf")
        if item.burn_s:
            scene.extinguish(end, socket=item.socket)
        # The shed's smoke detector reads the smoke of the fire in view.
        detector = self.sensors.get(self.devices[item.device].config.get("smoke_detector", ""))
        if detector is not None:
            detector.smoke_during.append((item.at, end))
            detector.smoke_during.sort()
