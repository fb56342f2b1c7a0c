"""Sensor models: what each kind of simulated sensor reads at a scene time. Pure."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

MAINS_VOLTAGE_V = 220.0


@dataclass
class SensorModel:
    """Readings of one sensor; `fault_from` makes a charging socket overheat from then on."""

    kind: str
    seed: int
    fault_from: float | None = None
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._phase = self._rng.uniform(0, 3600)

    def reading(self, t: float) -> dict[str, float] | None:
        noise = self._rng.gauss
        match self.kind:
            case "charging_socket":
                # An e-bike charges for roughly an hour, then the socket idles.
                charging = math.sin((t + self._phase) / 1800.0) > -0.3
                current = (2.5 + noise(0, 0.1)) if charging else max(0.0, noise(0.02, 0.01))
                temperature = 24.0 + 4.0 * current + noise(0, 0.3)
                if self.fault_from is not None and t >= self.fault_from:
                    temperature += min(60.0, (t - self.fault_from) * 0.5)
                return {
                    "current_a": round(current, 3),
                    "power_w": round(current * MAINS_VOLTAGE_V, 1),
                    "temperature_c": round(temperature, 2),
                }
            case "smoke_detector":
                return {"obscuration_pct": round(max(0.0, noise(0.2, 0.05)), 3)}
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
