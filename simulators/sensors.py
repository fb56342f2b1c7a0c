"""Sensor models: what each kind of simulated sensor reads at a scene time. Pure."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

MAINS_VOLTAGE_V = 220.0
AMBIENT_C = 24.0
# A faulty socket heats at about half a degree a second until its power is cut; after that
# it cools towards the air temperature over a few minutes.
FAULT_HEATING_C_PER_S = 0.5
FAULT_MAX_RISE_C = 80.0
COOLING_TIME_CONSTANT_S = 90.0
# Smoke from a burning e-bike fills the detector's chamber within half a minute.
SMOKE_PEAK_PCT, SMOKE_BUILD_S, SMOKE_CLEAR_S = 8.0, 30.0, 60.0


@dataclass
class SensorModel:
    """Readings of one sensor. A charging socket overheats from `fault_from` until its power
    is cut with power_off(t); it then reads no current and cools down."""

    kind: str
    seed: int
    fault_from: float | None = None
    power_off_at: float | None = None
    smoke_during: list[tuple[float, float]] = field(default_factory=list)
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._phase = self._rng.uniform(0, 3600)

    def power_off(self, t: float) -> None:
        if self.power_off_at is None:
            self.power_off_at = t

    def reading(self, t: float) -> dict[str, float] | None:
        noise = self._rng.gauss
        match self.kind:
            case "charging_socket":
                return self._socket(t)
            case "smoke_detector":
                smoke = self._smoke(t)
                return {"obscuration_pct": round(max(0.0, noise(0.2, 0.05)) + smoke, 3)}
            case "hydrant_pressure":
                return {"pressure_kpa": round(320 + 15 * math.sin(t / 900.0) + noise(0, 2), 1)}
            case "fire_door":
                return {"open": 1.0 if self._rng.random() < 0.03 else 0.0}
            case "elevator_controller":
                return {
                    "floor": float(int(abs(math.sin((t + self._phase) / 40.0)) * 18) + 1),
                    "door_open": 1.0 if self._rng.random() < 0.2 else 0.0,
                }
            case _:
                return None  # cameras and alarms send no periodic telemetry

    def _socket(self, t: float) -> dict[str, float]:
        noise = self._rng.gauss
        off = self.power_off_at is not None and t >= self.power_off_at
        # An e-bike charges for roughly an hour, then the socket idles.
        charging = not off and math.sin((t + self._phase) / 1800.0) > -0.3
        current = (2.5 + noise(0, 0.1)) if charging else max(0.0, noise(0.02, 0.01)) * (not off)
        temperature = AMBIENT_C + 4.0 * current + self._fault_rise(t) + noise(0, 0.3)
        return {
            "current_a": round(current, 3),
            "power_w": round(current * MAINS_VOLTAGE_V, 1),
            "temperature_c": round(temperature, 2),
        }

    def _smoke(self, t: float) -> float:
        """Obscuration from a fire in view: builds over half a minute, clears after it ends."""
        for start, end in self.smoke_during:
            if start <= t:
                building = SMOKE_PEAK_PCT * min(1.0, (t - start) / SMOKE_BUILD_S)
                if t <= end:
                    return building
                return building * math.exp(-(t - end) / SMOKE_CLEAR_S)
        return 0.0

    def _fault_rise(self, t: float) -> float:
        if self.fault_from is None or t < self.fault_from:
            return 0.0
        heating_until = t if self.power_off_at is None else min(t, self.power_off_at)
        rise = min(FAULT_MAX_RISE_C, (heating_until - self.fault_from) * FAULT_HEATING_C_PER_S)
        if self.power_off_at is not None and t > self.power_off_at:
            rise *= math.exp(-(t - self.power_off_at) / COOLING_TIME_CONSTANT_S)
        return max(rise, 0.0)
