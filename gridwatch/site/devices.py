"""Devices and their settings: one config model and one Device subclass per kind.

Zones are polygons in normalised picture coordinates (x to the right, y down, both 0..1).
A config's links() names the other devices it works with; load_site checks that they exist,
are of the expected kind and sit in the same grid.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field, field_validator

from gridwatch.domain import DeviceKind
from gridwatch.site.fields import Fps, Id, Latitude, Longitude, StrictModel, Zone


class FloorLine(StrictModel):
    floor: int = Field(ge=-5, le=200, description="Floor number")
    y: float = Field(ge=0, le=1, description="Where the floor's base appears in the picture")


class DeviceConfig(StrictModel):
    """Settings of one kind of device; unknown keys are errors."""

    def links(self) -> list[tuple[str, str, DeviceKind]]:
        """(field, device id, expected kind) for every other device this config names."""
        return []


class FireLaneCameraConfig(DeviceConfig):
    zones: dict[str, Zone] = Field(description="Picture zones; 'lane' is the fire lane")
    alarm_device: Id = Field(description="Sound-and-light alarm switched on while blocked")
    dwell_seconds: float = Field(120, gt=0, description="Stopped this long in the lane alerts")
    clear_seconds: float = Field(10, ge=0, description="Lane free this long clears the alert")
    fps: Fps = 5
    resolution: tuple[Annotated[int, Field(gt=0)], Annotated[int, Field(gt=0)]] = Field(
        (640, 360), description="Frame width and height in pixels"
    )

    @field_validator("zones")
    @classmethod
    def _has_lane(cls, zones: dict[str, Any]) -> dict[str, Any]:
        if "lane" not in zones:
            raise ValueError("a fire-lane camera needs a 'lane' zone")
        return zones

    def links(self) -> list[tuple[str, str, DeviceKind]]:
        return [("alarm_device", self.alarm_device, DeviceKind.SOUND_LIGHT_ALARM)]


class FacadeCameraConfig(DeviceConfig):
    building_id: Id = Field(description="The building whose facade the camera watches")
    floor_lines: list[FloorLine] = Field(min_length=2, description="Floors, bottom to top")
    zones: dict[str, Zone] = Field(description="Picture zones; 'facade' is the watched wall")
    fps: Fps = 10

    @field_validator("zones")
    @classmethod
    def _has_facade(cls, zones: dict[str, Any]) -> dict[str, Any]:
        if "facade" not in zones:
            raise ValueError("a facade camera needs a 'facade' zone")
        return zones

    @field_validator("floor_lines")
    @classmethod
    def _ordered(cls, lines: list[FloorLine]) -> list[FloorLine]:
        for lower, upper in zip(lines, lines[1:], strict=False):
            if upper.floor <= lower.floor or upper.y >= lower.y:
                raise ValueError(
                    f"floor {upper.floor} (y {upper.y}) must come after and above floor "
                    f"{lower.floor} (y {lower.y}): floors ascending, y descending"
                )
        return lines


class ElevatorCameraConfig(DeviceConfig):
    elevator_controller: Id = Field(description="Controller that gets voice warning and door hold")
    fps: Fps = 5

    def links(self) -> list[tuple[str, str, DeviceKind]]:
        return [("elevator_controller", self.elevator_controller, DeviceKind.ELEVATOR_CONTROLLER)]


class ElevatorControllerConfig(DeviceConfig):
    elevator_camera: Id | None = Field(None, description="The camera in this elevator car")
    door_hold_seconds: float = Field(30, gt=0, description="How long a door hold keeps it open")

    def links(self) -> list[tuple[str, str, DeviceKind]]:
        camera = self.elevator_camera
        return [("elevator_camera", camera, DeviceKind.ELEVATOR_CAMERA)] if camera else []


class ShedCameraConfig(DeviceConfig):
    sockets: list[Id] = Field(min_length=1, description="Charging sockets in the shed")
    smoke_detector: Id | None = Field(None, description="Smoke detector in the shed")
    fps: Fps = 5

    def links(self) -> list[tuple[str, str, DeviceKind]]:
        found = [
            (f"sockets[{n}]", s, DeviceKind.CHARGING_SOCKET) for n, s in enumerate(self.sockets)
        ]
        if self.smoke_detector:
            found.append(("smoke_detector", self.smoke_detector, DeviceKind.SMOKE_DETECTOR))
        return found


class ChargingSocketConfig(DeviceConfig):
    shed_camera: Id | None = Field(None, description="Camera of the shed the socket is in")
    max_temperature_c: float = Field(70, gt=0, le=200, description="Hotter than this alerts")
    max_current_a: float = Field(10, gt=0, le=63, description="More current than this alerts")
    hold_seconds: float = Field(30, ge=0, description="A threshold must be exceeded this long")

    def links(self) -> list[tuple[str, str, DeviceKind]]:
        return (
            [("shed_camera", self.shed_camera, DeviceKind.SHED_CAMERA)] if self.shed_camera else []
        )


class SmokeDetectorConfig(DeviceConfig):
    shed_camera: Id | None = Field(None, description="Camera of the shed it guards, if any")

    def links(self) -> list[tuple[str, str, DeviceKind]]:
        return (
            [("shed_camera", self.shed_camera, DeviceKind.SHED_CAMERA)] if self.shed_camera else []
        )


class SoundLightAlarmConfig(DeviceConfig):
    fire_lane_camera: Id | None = Field(None, description="The camera that switches it on")
    max_on_seconds: float = Field(600, gt=0, description="Longest it sounds per command")

    def links(self) -> list[tuple[str, str, DeviceKind]]:
        camera = self.fire_lane_camera
        return [("fire_lane_camera", camera, DeviceKind.FIRE_LANE_CAMERA)] if camera else []


class HydrantPressureConfig(DeviceConfig):
    min_kpa: float = Field(150, gt=0, description="Water pressure below this alerts")
    hold_seconds: float = Field(60, ge=0, description="Pressure must stay low this long")


class FireDoorConfig(DeviceConfig):
    open_alarm_seconds: float = Field(300, gt=0, description="A closed fire door held open alerts")


class Device(StrictModel):
    id: Id = Field(description="Device id; the {device} topic segment")
    kind: DeviceKind = Field(description="What the device is")
    grid_id: Id = Field(description="The grid the device is installed in")
    building_id: Id | None = Field(None, description="The building it is installed in, if any")
    name: str = Field(min_length=1, description="Chinese name shown to people")
    lat: Latitude
    lon: Longitude
    config: DeviceConfig = Field(default_factory=DeviceConfig, description="Kind's settings")


class FireLaneCamera(Device):
    kind: Literal[DeviceKind.FIRE_LANE_CAMERA] = DeviceKind.FIRE_LANE_CAMERA
    config: FireLaneCameraConfig


class ElevatorCamera(Device):
    kind: Literal[DeviceKind.ELEVATOR_CAMERA] = DeviceKind.ELEVATOR_CAMERA
    config: ElevatorCameraConfig


class FacadeCamera(Device):
    kind: Literal[DeviceKind.FACADE_CAMERA] = DeviceKind.FACADE_CAMERA
    config: FacadeCameraConfig


class ShedCamera(Device):
    kind: Literal[DeviceKind.SHED_CAMERA] = DeviceKind.SHED_CAMERA
    config: ShedCameraConfig


class SoundLightAlarm(Device):
    kind: Literal[DeviceKind.SOUND_LIGHT_ALARM] = DeviceKind.SOUND_LIGHT_ALARM
    config: SoundLightAlarmConfig = Field(default_factory=SoundLightAlarmConfig)


class ElevatorController(Device):
    kind: Literal[DeviceKind.ELEVATOR_CONTROLLER] = DeviceKind.ELEVATOR_CONTROLLER
    config: ElevatorControllerConfig = Field(default_factory=ElevatorControllerConfig)


class ChargingSocket(Device):
    kind: Literal[DeviceKind.CHARGING_SOCKET] = DeviceKind.CHARGING_SOCKET
    config: ChargingSocketConfig = Field(default_factory=ChargingSocketConfig)


class SmokeDetector(Device):
    kind: Literal[DeviceKind.SMOKE_DETECTOR] = DeviceKind.SMOKE_DETECTOR
    config: SmokeDetectorConfig = Field(default_factory=SmokeDetectorConfig)


class HydrantPressure(Device):
    kind: Literal[DeviceKind.HYDRANT_PRESSURE] = DeviceKind.HYDRANT_PRESSURE
    config: HydrantPressureConfig = Field(default_factory=HydrantPressureConfig)


class FireDoor(Device):
    kind: Literal[DeviceKind.FIRE_DOOR] = DeviceKind.FIRE_DOOR
    config: FireDoorConfig = Field(default_factory=FireDoorConfig)


# One Device subclass per kind, each with its typed config.
DEVICE_TYPES: dict[DeviceKind, type[Device]] = {
    DeviceKind.FIRE_LANE_CAMERA: FireLaneCamera,
    DeviceKind.ELEVATOR_CAMERA: ElevatorCamera,
    DeviceKind.FACADE_CAMERA: FacadeCamera,
    DeviceKind.SHED_CAMERA: ShedCamera,
    DeviceKind.SOUND_LIGHT_ALARM: SoundLightAlarm,
    DeviceKind.ELEVATOR_CONTROLLER: ElevatorController,
    DeviceKind.CHARGING_SOCKET: ChargingSocket,
    DeviceKind.SMOKE_DETECTOR: SmokeDetector,
    DeviceKind.HYDRANT_PRESSURE: HydrantPressure,
    DeviceKind.FIRE_DOOR: FireDoor,
}
# Any device, validated as the subclass its `kind` names.
AnyDevice = Annotated[Union[tuple(DEVICE_TYPES.values())], Field(discriminator="kind")]  # noqa: UP007
