"""Sensor thresholds held for a duration, measured in reading time."""

from ingest.rules import RuleEngine

SOCKET = {"max_temperature_c": 70, "max_current_a": 10, "hold_seconds": 30}


def _feed(
    engine: RuleEngine,
    readings: list[tuple[float, float]],
    metric: str = "temperature_c",
    kind: str = "charging_socket",
    config: dict | None = None,
) -> list:
    out = []
    for ts, value in readings:
        out += engine.feed("sock-1", kind, config or SOCKET, metric, value, ts)
    return out


def test_a_socket_hot_for_longer_than_the_hold_time_alerts_once() -> None:
    engine = RuleEngine()
    readings = [(t, 40.0) for t in range(0, 100, 10)] + [(t, 75.0) for t in range(100, 200, 10)]
    detections = _feed(engine, readings)
    assert [(d.type, d.ts, d.cleared) for d in detections] == [("socket_overheat", 130, False)]
    assert detections[0].details["since"] == 100


def test_a_short_spike_does_not_alert() -> None:
    engine = RuleEngine()
    readings = [(0, 40.0), (10, 80.0), (20, 80.0), (30, 40.0), (40, 80.0), (50, 40.0)]
    assert _feed(engine, readings) == []


def test_it_clears_after_coming_back_below_the_limit_for_the_hold_time() -> None:
    engine = RuleEngine()
    hot = [(t, 75.0) for t in range(0, 40, 10)]
    # 68 °C is below the limit but within the 5 °C margin: not yet recovered.
    lukewarm = [(t, 68.0) for t in range(40, 100, 10)]
    cool = [(t, 50.0) for t in range(100, 160, 10)]
    detections = _feed(engine, hot + lukewarm + cool)
    assert [(d.ts, d.cleared) for d in detections] == [(30, False), (130, True)]


def test_late_readings_do_not_move_the_rule_back() -> None:
    engine = RuleEngine()
    detections = _feed(engine, [(0, 75.0), (20, 75.0), (10, 40.0), (30, 75.0)])
    assert [d.ts for d in detections] == [30]


def test_hydrant_pressure_below_its_minimum_alerts() -> None:
    engine = RuleEngine()
    config = {"min_kpa": 150, "hold_seconds": 60}
    readings = [(t, 320.0) for t in range(0, 60, 10)] + [(t, 90.0) for t in range(60, 200, 10)]
    detections = _feed(engine, readings, "pressure_kpa", "hydrant_pressure", config)
    assert [(d.type, d.ts) for d in detections] == [("hydrant_low_pressure", 120)]


def test_devices_without_rules_raise_nothing() -> None:
    engine = RuleEngine()
    assert _feed(engine, [(0, 1.0), (100, 1.0)], "open", "fire_door", {}) == []
