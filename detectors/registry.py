"""Which detector watches which kind of device.

`create_detector` picks the detector for a device kind from a table; kinds without one
(sensors, or cameras whose detector does not exist yet) get None.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from detectors.base import Detector
from detectors.elevator_ebike import ElevatorEbikeDetector
from detectors.falling_object import FallingObjectDetector
from detectors.fire_lane import FireLaneDetector
from detectors.shed_fire import ShedFireDetector

DetectorFactory = Callable[[Mapping[str, Any]], Detector]

# device kind -> factory taking that device's detector config
DETECTORS: dict[str, DetectorFactory] = {
    "fire_lane_camera": FireLaneDetector.from_config,
    "facade_camera": FallingObjectDetector.from_config,
    "shed_camera": ShedFireDetector.from_config,
    "elevator_camera": ElevatorEbikeDetector.from_config,
}

# The detector names used by datasets and `gridwatch eval`, and the device kind each watches.
DETECTOR_DEVICE_KINDS: dict[str, str] = {
    "fire_lane": "fire_lane_camera",
    "elevator_ebike": "elevator_camera",
    "falling_object": "facade_camera",
    "charging_shed": "shed_camera",
}


def create_detector(device_kind: str, config: Mapping[str, Any]) -> Detector | None:
    """A detector for a device of this kind, or None when the kind has none (yet).

    Raises ValueError naming the config field when the config is not valid.
    """
    factory = DETECTORS.get(device_kind)
    return None if factory is None else factory(config)
