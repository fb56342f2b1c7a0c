"""Domain vocabulary: alert types, severities and the lifecycles of alerts and work orders."""

from __future__ import annotations

from enum import StrEnum


class AlertType(StrEnum):
    FIRE_LANE_OCCUPIED = "fire_lane_occupied"
    EBIKE_IN_ELEVATOR = "ebike_in_elevator"
    FALLING_OBJECT = "falling_object"
    SHED_FIRE = "shed_fire"
    SOCKET_OVERHEAT = "socket_overheat"
    SOCKET_OVERCURRENT = "socket_overcurrent"
    SMOKE = "smoke"
    HYDRANT_LOW_PRESSURE = "hydrant_low_pressure"
    DEVICE_OFFLINE = "device_offline"
    THRESHOLD = "threshold"


class Severity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"

    @property
    def rank(self) -> int:
        """Higher is worse; used to colour a grid by its worst open alert."""
        return SEVERITY_RANK[self]


SEVERITY_RANK = {Severity.CRITICAL: 4, Severity.MAJOR: 3, Severity.MINOR: 2, Severity.WARNING: 1}

DEFAULT_SEVERITY: dict[AlertType, Severity] = {
    AlertType.FIRE_LANE_OCCUPIED: Severity.MAJOR,
    AlertType.EBIKE_IN_ELEVATOR: Severity.MAJOR,
    AlertType.FALLING_OBJECT: Severity.CRITICAL,
    AlertType.SHED_FIRE: Severity.CRITICAL,
    # A charging socket that overheats or draws too much is a fire about to start.
    AlertType.SOCKET_OVERHEAT: Severity.CRITICAL,
    AlertType.SOCKET_OVERCURRENT: Severity.MAJOR,
    AlertType.SMOKE: Severity.CRITICAL,
    AlertType.HYDRANT_LOW_PRESSURE: Severity.MAJOR,
    AlertType.DEVICE_OFFLINE: Severity.WARNING,
    AlertType.THRESHOLD: Severity.MINOR,
}


# (Chinese, English) names of each alert type, for screens, titles and messages.
ALERT_TYPE_LABELS: dict[str, tuple[str, str]] = {
    AlertType.FIRE_LANE_OCCUPIED: ("消防通道占用", "Fire lane blocked"),
    AlertType.EBIKE_IN_ELEVATOR: ("电动车进电梯", "E-bike in elevator"),
    AlertType.FALLING_OBJECT: ("高空抛物", "Falling object"),
    AlertType.SHED_FIRE: ("充电棚火情", "Charging-shed fire"),
    AlertType.SOCKET_OVERHEAT: ("插座过热", "Socket overheating"),
    AlertType.SOCKET_OVERCURRENT: ("插座过流", "Socket over-current"),
    AlertType.SMOKE: ("烟雾报警", "Smoke"),
    AlertType.HYDRANT_LOW_PRESSURE: ("消防栓压力低", "Hydrant pressure low"),
    AlertType.DEVICE_OFFLINE: ("设备离线", "Device offline"),
    AlertType.THRESHOLD: ("阈值越限", "Threshold exceeded"),
}


class AlertState(StrEnum):
    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"


class WorkOrderState(StrEnum):
    REPORTED = "reported"
    ACCEPTED = "accepted"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    VERIFIED = "verified"
    CLOSED = "closed"


W = WorkOrderState
# The closed loop as data: which state may follow which. Closing early is allowed from
# any open state because an alert that clears before anyone acts closes its order.
WORK_ORDER_TRANSITIONS: dict[WorkOrderState, frozenset[WorkOrderState]] = {
    W.REPORTED: frozenset({W.ACCEPTED, W.DISPATCHED, W.CLOSED}),
    W.ACCEPTED: frozenset({W.DISPATCHED, W.IN_PROGRESS, W.CLOSED}),
    W.DISPATCHED: frozenset({W.ACCEPTED, W.IN_PROGRESS, W.CLOSED}),
    W.IN_PROGRESS: frozenset({W.RESOLVED, W.CLOSED}),
    W.RESOLVED: frozenset({W.VERIFIED, W.IN_PROGRESS}),
    W.VERIFIED: frozenset({W.CLOSED, W.IN_PROGRESS}),
    W.CLOSED: frozenset(),
}

OPEN_WORK_ORDER_STATES = frozenset(s for s in WorkOrderState if s is not W.CLOSED)


class InvalidTransition(ValueError):
    """A work-order state change the closed loop does not allow."""


def check_transition(current: WorkOrderState, target: WorkOrderState) -> None:
    """Raise InvalidTransition unless the loop allows going from current to target."""
    if target not in WORK_ORDER_TRANSITIONS[current]:
        allowed = ", ".join(sorted(WORK_ORDER_TRANSITIONS[current])) or "none (closed)"
        raise InvalidTransition(
            f"a work order that is {current} cannot become {target}; allowed next: {allowed}"
        )


class AreaLevel(StrEnum):
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"


ESCALATION_ORDER = [AreaLevel.GRID, AreaLevel.COMMUNITY, AreaLevel.STREET, AreaLevel.DISTRICT]


class DeviceKind(StrEnum):
    FIRE_LANE_CAMERA = "fire_lane_camera"
    ELEVATOR_CAMERA = "elevator_camera"
    FACADE_CAMERA = "facade_camera"
    SHED_CAMERA = "shed_camera"
    SOUND_LIGHT_ALARM = "sound_light_alarm"
    ELEVATOR_CONTROLLER = "elevator_controller"
    CHARGING_SOCKET = "charging_socket"
    SMOKE_DETECTOR = "smoke_detector"
    HYDRANT_PRESSURE = "hydrant_pressure"
    FIRE_DOOR = "fire_door"

    @property
    def is_camera(self) -> bool:
        return self.value.endswith("_camera")
