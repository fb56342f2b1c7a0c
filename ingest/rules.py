"""Sensor rules: a reading past its limit for the hold time raises; back inside it clears. Pure.

Hold times are measured in reading time (the device's timestamps), so a replayed or
simulated feed behaves exactly as the live one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from detectors.base import Detection
from gridwatch.domain import AlertType

# Photoelectric smoke alarms sound at a few per cent obscuration; clean air reads near zero.
SMOKE_ALARM_OBSCURATION_PCT = 3.0


@dataclass(frozen=True)
class ThresholdRule:
    alert_type: str
    metric: str
    limit: float
    above: bool  # True: alert when the value is above the limit; False: below it
    hold_seconds: float
    # How far back inside the limit a value must come to count as recovered, so a value
    # hovering at the limit does not raise and clear over and over.
    clear_margin: float = 0.0

    def breached(self, value: float) -> bool:
        return value > self.limit if self.above else value < self.limit

    def recovered(self, value: float) -> bool:
        if self.above:
            return value <= self.limit - self.clear_margin
        return value >= self.limit + self.clear_margin


def rules_for(device_kind: str, config: Mapping[str, Any]) -> list[ThresholdRule]:
    """The rules a device of this kind is held to, with limits from its site config."""
    hold = float(config.get("hold_seconds", 30.0))
    match device_kind:
        case "charging_socket":
            max_temperature = float(config.get("max_temperature_c", 70.0))
            max_current = float(config.get("max_current_a", 10.0))
            return [
                ThresholdRule(
                    AlertType.SOCKET_OVERHEAT,
                    "temperature_c",
                    max_temperature,
                    True,
                    hold,
                    clear_margin=5.0,
                ),
                ThresholdRule(
                    AlertType.SOCKET_OVERCURRENT,
                    "current_a",
                    max_current,
                    True,
                    hold,
                    clear_margin=0.5,
                ),
            ]
        case "smoke_detector":
            limit = float(config.get("alarm_obscuration_pct", SMOKE_ALARM_OBSCURATION_PCT))
            return [
                ThresholdRule(
                    AlertType.SMOKE,
                    "obscuration_pct",
                    limit,
                    True,
                    float(config.get("hold_seconds", 5.0)),
                    clear_margin=1.0,
                )
            ]
        case "hydrant_pressure":
            min_kpa = float(config.get("min_kpa", 150.0))
            return [
                ThresholdRule(
                    AlertType.HYDRANT_LOW_PRESSURE,
                    "pressure_kpa",
                    min_kpa,
                    False,
                    float(config.get("hold_seconds", 60.0)),
                    clear_margin=20.0,
                )
            ]
        case _:
            return []


@dataclass
class _RuleState:
    last_ts: float = float("-inf")
    breach_since: float | None = None
    recovered_since: float | None = None
    active: bool = False


@dataclass
class RuleEngine:
    """Keeps, per device and rule, how long a limit has been crossed; one instance per process."""

    _rules: dict[str, list[ThresholdRule]] = field(default_factory=dict)
    _states: dict[tuple[str, str], _RuleState] = field(default_factory=dict)

    def feed(
        self,
        device_id: str,
        device_kind: str,
        config: Mapping[str, Any],
        metric: str,
        value: float | None,
        ts: float,
    ) -> list[Detection]:
        """One reading in; the onsets and clears it causes out."""
        if device_id not in self._rules:
            self._rules[device_id] = rules_for(device_kind, config)
        detections = []
        for rule in self._rules[device_id]:
            if rule.metric != metric or value is None:
                continue
            state = self._states.setdefault((device_id, rule.alert_type), _RuleState())
            if ts <= state.last_ts:
                continue  # late or repeated readings are stored but do not move the rule back
            state.last_ts = ts
            if detection := _step(rule, state, value, ts):
                detections.append(detection)
        return detections


def _step(rule: ThresholdRule, state: _RuleState, value: float, ts: float) -> Detection | None:
    details = {
        "metric": rule.metric,
        "value": value,
        "limit": rule.limit,
        "hold_seconds": rule.hold_seconds,
    }
    if not state.active:
        if not rule.breached(value):
            state.breach_since = None
            return None
        state.breach_since = ts if state.breach_since is None else state.breach_since
        if ts - state.breach_since < rule.hold_seconds:
            return None
        state.active, state.recovered_since = True, None
        return Detection(
            type=rule.alert_type,
            ts=ts,
            confidence=1.0,
            evidence="none",
            details={**details, "since": state.breach_since},
        )
    if not rule.recovered(value):
        state.recovered_since = None
        return None
    state.recovered_since = ts if state.recovered_since is None else state.recovered_since
    if ts - state.recovered_since < rule.hold_seconds:
        return None
    state.active, state.breach_since = False, None
    return Detection(
        type=rule.alert_type, ts=ts, confidence=1.0, cleared=True, evidence="none", details=details
    )
