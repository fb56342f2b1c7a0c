"""Which device an alert's command goes to."""

from ingest.commands import command_for, command_targets
from ingest.devices import DeviceInfo

CONTROLLER = DeviceInfo("evc-1", "s", "g", "elevator_controller", "lift 1")
SOCKETS = {f"sock-{i}": DeviceInfo(f"sock-{i}", "s", "g", "charging_socket", "s") for i in range(3)}
DEVICES = {"evc-1": CONTROLLER, **SOCKETS}


def _targets(device: DeviceInfo, alert_type: str, details: dict | None = None) -> list[str]:
    return [t.id for t, _ in command_targets(device, alert_type, details or {}, DEVICES.get)]


def test_an_ebike_in_the_car_holds_the_doors_and_warns_through_the_elevator_controller() -> None:
    camera = DeviceInfo(
        "ec-1", "s", "g", "elevator_camera", "cam", {"elevator_controller": "evc-1"}
    )
    assert command_for("ebike_in_elevator", cleared=False) == "hold_doors_and_warn"
    assert command_for("ebike_in_elevator", cleared=True) == "release_doors"
    assert _targets(camera, "ebike_in_elevator") == ["evc-1"]


def test_a_shed_fire_cuts_the_burning_socket_or_the_whole_shed() -> None:
    shed = DeviceInfo("sc-1", "s", "g", "shed_camera", "shed", {"sockets": list(SOCKETS)})
    assert _targets(shed, "shed_fire", {"socket": 1}) == ["sock-1"]
    assert _targets(shed, "shed_fire", {"socket": None}) == list(SOCKETS)
    assert command_for("shed_fire", cleared=True) is None, "power never comes back by itself"


def test_a_fire_lane_camera_switches_its_alarm() -> None:
    camera = DeviceInfo("fl-1", "s", "g", "fire_lane_camera", "cam", {"alarm_device": "alarm-1"})
    [(target, params)] = command_targets(camera, "fire_lane_occupied", {}, DEVICES.get)
    assert (target.id, params) == ("fl-1", {"alarm_device": "alarm-1"})
