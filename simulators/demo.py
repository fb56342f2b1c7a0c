"""What happens in the demo district: a scene for every camera and a model for every sensor,
with incidents spread over the day. Pure: nothing here touches the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from simulators.mqtt_devices import SimDevice
from simulators.scenes import charging_shed, elevator, facade, fire_lane
from simulators.sensors import SensorModel

# Long enough that a demo left running all day never runs out of scripted incidents.
SCENE_HORIZON_S = 48 * 3600.0
# Fire lanes: the first car parks within seconds, then the next camera 40 s later, …
FIRST_PARKING_S, PARKING_STAGGER_S = 15.0, 40.0
FIRST_EBIKE_S, EBIKE_STAGGER_S = 45.0, 50.0
FIRST_DROP_S, DROP_STAGGER_S = 90.0, 70.0
# Fires are rare and serious: the first after eight minutes, each shed about hourly.
FIRST_FIRE_S, FIRE_STAGGER_S, FIRE_EVERY_S = 480.0, 900.0, 3600.0
FIRST_SOCKET_FAULT_S, SOCKET_FAULT_EVERY_S = 60.0, 420.0


class Scene(Protocol):
    def render(self, t: float) -> np.ndarray: ...


def fire_lane_scene(device: SimDevice, seed: int) -> fire_lane.FireLaneScene:
    width, height = device.config.get("resolution", [640, 360])
    return fire_lane.FireLaneScene(
        device.config["zones"]["lane"], seed=seed, width=width, height=height
    )


def _size(device: SimDevice) -> tuple[int, int]:
    width, height = device.config.get("resolution", [640, 480])
    return int(width), int(height)


def camera_scene(device: SimDevice, index: int, seed: int, horizon_s: float) -> Scene | None:
    """The scene a camera sees, with its incidents scheduled; None for a kind with no scene."""
    scene_seed = seed + index
    width, height = _size(device)
    match device.kind:
        case "fire_lane_camera":
            lane = fire_lane_scene(device, scene_seed)
            fire_lane.schedule_random_incidents(
                lane,
                seed=scene_seed,
                duration_s=horizon_s,
                park_every_s=600.0 + 37.0 * index,
                first_park_at=FIRST_PARKING_S + PARKING_STAGGER_S * index,
            )
            return lane
        case "elevator_camera":
            car = elevator.ElevatorScene(seed=scene_seed, width=width, height=height)
            elevator.schedule_random_incidents(
                car,
                seed=scene_seed,
                duration_s=horizon_s,
                ebike_every_s=900.0,
                first_ebike_at=FIRST_EBIKE_S + EBIKE_STAGGER_S * index,
            )
            return car
        case "facade_camera":
            front = facade.FacadeScene(
                device.config["floor_lines"],
                device.config["zones"]["facade"],
                seed=scene_seed,
                width=width,
                height=height,
                fps_hint=float(device.config.get("fps", 10)),
            )
            facade.schedule_random_incidents(
                front,
                seed=scene_seed,
                duration_s=horizon_s,
                drop_every_s=1200.0,
                first_drop_at=FIRST_DROP_S + DROP_STAGGER_S * index,
            )
            return front
        case "shed_camera":
            shed = charging_shed.ChargingShedScene(
                seed=scene_seed,
                sockets=len(device.config.get("sockets", [])) or 5,
                width=width,
                height=height,
            )
            charging_shed.schedule_random_incidents(
                shed,
                seed=scene_seed,
                duration_s=horizon_s,
                fire_every_s=FIRE_EVERY_S,
                first_fire_at=FIRST_FIRE_S + FIRE_STAGGER_S * index,
            )
            return shed
        case _:
            return None


def demo_camera_scenes(
    devices: list[SimDevice], seed: int, horizon_s: float = SCENE_HORIZON_S
) -> list[tuple[SimDevice, Scene]]:
    """A scene per camera. Cameras of a kind start their incidents one after another, the
    first within seconds or minutes, so a newcomer soon sees alerts and then a steady few."""
    scenes: list[tuple[SimDevice, Scene]] = []
    index_in_kind: dict[str, int] = {}
    for device in devices:
        index = index_in_kind.get(device.kind, 0)
        scene = camera_scene(device, index, seed, horizon_s)
        if scene is not None:
            index_in_kind[device.kind] = index + 1
            scenes.append((device, scene))
    return scenes


def demo_sensors(
    devices: list[SimDevice], seed: int, scenes: Sequence[tuple[SimDevice, Any]] = ()
) -> list[tuple[SimDevice, SensorModel]]:
    """A model per sensor. Charging sockets develop a fault one after another through the day;
    a shed's smoke detector reads smoke while its camera's scene shows a fire."""
    sensors = [
        (d, SensorModel(d.kind, seed=seed + i))
        for i, d in enumerate(devices)
        if SensorModel(d.kind, seed=0).reading(0.0) is not None
    ]
    sockets = [model for device, model in sensors if device.kind == "charging_socket"]
    for index, model in enumerate(sockets):
        model.fault_from = FIRST_SOCKET_FAULT_S + SOCKET_FAULT_EVERY_S * index
    fires_by_detector = {
        camera.config["smoke_detector"]: [(t0, t1) for t0, t1, _ in scene.fires()]
        for camera, scene in scenes
        if camera.kind == "shed_camera" and camera.config.get("smoke_detector")
    }
    for device, model in sensors:
        model.smoke_during = fires_by_detector.get(device.id, [])
    return sensors
