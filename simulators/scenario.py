"""Scenario files: which devices play, what happens when, and which alerts must follow. Pure.

A scenario is a YAML file in simulators/scenarios/ (format: docs/SCENARIOS.md). Loading checks
it against the site model, so a wrong device id or an incident the device cannot show fails
at once, naming the file, the item and the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gridwatch.site import Device, Site

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"

CAMERA_KINDS = ("fire_lane_camera", "elevator_camera", "facade_camera", "shed_camera")


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Incident(_Item):
    at: float = Field(ge=0, description="Scene seconds from the start of the scenario")
    device: str = Field(description="Device id from the site model")


class ParkCar(_Incident):
    incident: Literal["park_car"]
    stay_s: float = Field(150.0, ge=0, description="How long the car stands in the lane")
    position: float | None = Field(None, ge=0, le=1, description="Where along the lane, 0..1")


class PassCar(_Incident):
    incident: Literal["pass_car"]


class PassPedestrian(_Incident):
    incident: Literal["pass_pedestrian"]


class CarryEbike(_Incident):
    incident: Literal["carry_ebike"]
    stay_s: float = Field(30.0, gt=0, description="How long the e-bike rides in the car")


class EnterPerson(_Incident):
    incident: Literal["enter_person"]
    stay_s: float = Field(20.0, gt=0, description="How long the person rides")
    carrying: Literal["bicycle", "stroller", "wheelchair", "trolley"] | None = Field(
        None, description="What the person pushes in (never an e-bike: that is carry_ebike)"
    )


class DropObject(_Incident):
    incident: Literal["drop_object"]
    floor: int = Field(ge=1, description="Floor the object leaves from")
    size: Literal["small", "medium", "large"] = "medium"


class Bird(_Incident):
    incident: Literal["bird"]


class Leaf(_Incident):
    incident: Literal["leaf"]


class ShedFire(_Incident):
    incident: Literal["shed_fire"]
    socket: int = Field(0, ge=0, description="Index of the burning bike's socket in the shed")
    burn_s: float | None = Field(None, gt=0, description="Put out after this long (never: None)")


class PersonInRed(_Incident):
    incident: Literal["person_in_red"]


class SocketOverheat(_Incident):
    incident: Literal["socket_overheat"]


class Lighting(_Incident):
    incident: Literal["lighting"]
    gain: float = Field(gt=0, le=3, description="Brightness to reach; 1 is the scene's normal")
    ramp_s: float = Field(60.0, ge=0, description="Seconds to get there (dusk: minutes)")


class DeviceOffline(_Incident):
    incident: Literal["device_offline"]
    for_s: float | None = Field(
        None, gt=0, description="Come back online after this long (None: stay offline)"
    )


Incident = Annotated[
    ParkCar
    | PassCar
    | PassPedestrian
    | CarryEbike
    | EnterPerson
    | DropObject
    | Bird
    | Leaf
    | ShedFire
    | PersonInRed
    | SocketOverheat
    | Lighting
    | DeviceOffline,
    Field(discriminator="incident"),
]

# Which kinds of device can show each incident (None: any device).
INCIDENT_DEVICE_KINDS: dict[str, tuple[str, ...] | None] = {
    "park_car": ("fire_lane_camera",),
    "pass_car": ("fire_lane_camera",),
    "pass_pedestrian": ("fire_lane_camera",),
    "carry_ebike": ("elevator_camera",),
    "enter_person": ("elevator_camera",),
    "drop_object": ("facade_camera",),
    "bird": ("facade_camera",),
    "leaf": ("facade_camera",),
    "shed_fire": ("shed_camera",),
    "person_in_red": ("shed_camera",),
    "socket_overheat": ("charging_socket",),
    "lighting": CAMERA_KINDS,
    "device_offline": None,
}


class Expectation(_Item):
    """An alert, a device status or a command to the device that must follow within
    `within_s` scene seconds."""

    alert: str | None = Field(None, description="Alert type, e.g. fire_lane_occupied")
    status: Literal["online", "offline"] | None = Field(None, description="A status instead")
    command: str | None = Field(
        None, description="A command the device must receive instead, e.g. power_off"
    )
    device: str = Field(description="Device the alert, status or command is about")
    within_s: float = Field(gt=0, description="Scene seconds after `since_s` at most")
    since_s: float | None = Field(
        None, ge=0, description="Scene time latency counts from (default: its incident)"
    )

    @model_validator(mode="after")
    def _one_of(self) -> Expectation:
        if sum(x is not None for x in (self.alert, self.status, self.command)) != 1:
            raise ValueError("give exactly one of `alert`, `status` and `command`")
        return self

    def what(self) -> str:
        if self.alert is not None:
            return f"{self.alert} on {self.device}"
        if self.status is not None:
            return f"status {self.status} on {self.device}"
        return f"command {self.command} to {self.device}"


class Scenario(_Item):
    name: str = Field(description="A short title shown while it runs")
    description: str = ""
    seed: int = Field(1, description="Same seed, same frames and readings")
    speed: float = Field(10.0, gt=0, le=200, description="Scene seconds per wall second")
    max_fps: float = Field(2.0, gt=0, le=30, description="Cap on every camera's frame rate")
    duration_s: float = Field(gt=0, le=6 * 3600, description="Scene seconds to play")
    devices: list[str] = Field(min_length=1, description="Device ids that play, from the site")
    timeline: list[Incident] = Field(default_factory=list)
    expect: list[Expectation] = Field(default_factory=list)
    other_alerts: Literal["fail", "ignore"] = Field(
        "fail", description="Whether an alert nobody expected on these devices fails the run"
    )

    def since(self, expectation: Expectation) -> float:
        """Scene time an expectation's latency counts from."""
        if expectation.since_s is not None:
            return expectation.since_s
        for item in sorted(self.timeline, key=lambda i: i.at):
            if item.device == expectation.device:
                return item.at
        return 0.0


class ScenarioError(ValueError):
    """A scenario file that cannot be played; the message names the file, item and reason."""


def _location(loc: tuple[int | str, ...]) -> str:
    parts = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif part in INCIDENT_DEVICE_KINDS:
            continue  # the union's tag: the item index already says which incident
        else:
            parts.append(f".{part}" if parts else str(part))
    return "".join(parts) or "(top level)"


def parse_scenario(text: str, source: str, site: Site) -> Scenario:
    """Validate a scenario's YAML text against the model and the site; `source` names it."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ScenarioError(f"{source}: not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise ScenarioError(f"{source}: expected a mapping with name, devices, timeline, expect")
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as err:
        lines = [
            f"{source}: {_location(tuple(e['loc']))}: {e['msg']}"
            + (f" (got {e['input']!r})" if e["type"] == "literal_error" else "")
            for e in err.errors()
        ]
        raise ScenarioError("\n".join(lines)) from None
    problems = check_against_site(scenario, site)
    if problems:
        raise ScenarioError("\n".join(f"{source}: {p}" for p in problems))
    return scenario


def incident_problem(item: Incident, device: Device) -> str | None:
    """Why this device cannot show this incident (wrong kind, no such socket), or None."""
    allowed = INCIDENT_DEVICE_KINDS[item.incident]
    kind = str(device.kind)
    if allowed is not None and kind not in allowed:
        return f"{device.id} is a {kind}; {item.incident} needs a " + " or ".join(allowed)
    if isinstance(item, ShedFire):
        # The shed's scene has a bay per socket it lists (5 when it lists none).
        count = len(device.config.model_dump().get("sockets") or []) or 5
        if item.socket >= count:
            return (
                f"{device.id} has {count} sockets (0 to {count - 1}); "
                f"socket {item.socket} does not exist"
            )
    return None


def check_against_site(scenario: Scenario, site: Site) -> list[str]:
    """What in the scenario the site contradicts: unknown devices, incidents of the wrong kind."""
    devices = {device.id: device for device in site.devices}
    problems = [
        f"devices[{i}]: {device!r} is not a device of site {site.id}"
        for i, device in enumerate(scenario.devices)
        if device not in devices
    ]
    playing = set(scenario.devices)
    for i, item in enumerate(scenario.timeline):
        where = f"timeline[{i}] ({item.incident})"
        if item.device not in playing:
            problems.append(f"{where}: device {item.device!r} is not listed under devices")
            continue
        device = devices.get(item.device)
        problem = incident_problem(item, device) if device is not None else None
        if problem:
            problems.append(f"{where}: {problem}")
        if item.at > scenario.duration_s:
            problems.append(f"{where}: at {item.at} s is after the end ({scenario.duration_s} s)")
    for i, expectation in enumerate(scenario.expect):
        if expectation.device not in playing:
            problems.append(
                f"expect[{i}]: device {expectation.device!r} is not listed under devices"
            )
    return problems


def load_scenario(path: Path, site: Site) -> Scenario:
    """Read and validate a scenario file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ScenarioError(f"cannot read scenario {path}: {err.strerror or err}") from None
    return parse_scenario(text, str(path), site)


def find_scenario(name_or_path: str) -> Path:
    """A path as given, or the name of a file in simulators/scenarios/ (`.yaml` optional)."""
    path = Path(name_or_path)
    if path.exists():
        return path
    for candidate in (SCENARIO_DIR / name_or_path, SCENARIO_DIR / f"{name_or_path}.yaml"):
        if candidate.exists():
            return candidate
    known = ", ".join(p.stem for p in sorted(SCENARIO_DIR.glob("*.yaml")))
    raise ScenarioError(f"no scenario file {name_or_path!r}; the bundled ones: {known}")
