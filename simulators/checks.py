"""Judging a played scenario: which expected alerts came, how late, and what came unasked. Pure.

Latency is measured in scene seconds: from the incident (or `since_s`) to the scene time of
the frame or reading the alert was raised on (`details.frame_ts` in the alert), so it does
not depend on how fast the scenario was played. The wall-clock delay from that frame being
sent to the alert arriving is reported beside it: what the pipeline itself took.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulators.scenario import Expectation, Scenario

ALERT_EVENTS = ("raised", "repeated")
# Subjects of what is observed besides alerts: a device's status, a command it received.
STATUS, COMMAND = "status", "command"
# Scene time of an evidence frame can fall a frame period before the incident's own time.
EARLY_TOLERANCE_S = 1.0


@dataclass(frozen=True)
class Observed:
    """Something the system said about a device while the scenario played."""

    device: str
    subject: str  # the alert type, "status" or "command"
    event: str  # raised / repeated / cleared for alerts; online / offline; the command's name
    scene_t: float  # scene time it refers to
    wall_delay_s: float | None = None  # wall seconds from that scene moment to its arrival
    alert_id: int | None = None


@dataclass(frozen=True)
class Outcome:
    what: str
    passed: bool
    latency_s: float | None = None
    wall_delay_s: float | None = None
    detail: str = ""

    def line(self) -> str:
        mark = "PASS" if self.passed else "FAIL"
        figures = ""
        if self.latency_s is not None:
            figures = f"  latency {self.latency_s:.1f} s scene"
            if self.wall_delay_s is not None:
                figures += f", pipeline {self.wall_delay_s * 1000:.0f} ms"
        return f"{mark}  {self.what}{figures}" + (f"  ({self.detail})" if self.detail else "")


def _matches(expectation: Expectation, seen: Observed) -> bool:
    if seen.device != expectation.device:
        return False
    if expectation.alert is not None:
        return seen.subject == expectation.alert and seen.event in ALERT_EVENTS
    if expectation.command is not None:
        return seen.subject == COMMAND and seen.event == expectation.command
    return seen.subject == STATUS and seen.event == expectation.status


def judge(scenario: Scenario, observed: list[Observed]) -> list[Outcome]:
    """An outcome per expectation, then one per unexpected alert (unless they are ignored)."""
    outcomes = []
    for expectation in scenario.expect:
        since = scenario.since(expectation)
        what = f"{expectation.what()} within {expectation.within_s:g} s of t={since:g} s"
        found = [
            seen
            for seen in observed
            if _matches(expectation, seen) and seen.scene_t >= since - EARLY_TOLERANCE_S
        ]
        if not found:
            outcomes.append(Outcome(what, False, detail="never came"))
            continue
        first = min(found, key=lambda seen: seen.scene_t)
        latency = max(0.0, first.scene_t - since)
        passed = latency <= expectation.within_s
        outcomes.append(
            Outcome(what, passed, latency, first.wall_delay_s, "" if passed else "too late")
        )
    if scenario.other_alerts == "fail":
        expected = {(e.device, e.alert) for e in scenario.expect if e.alert}
        playing = set(scenario.devices)
        unexpected: dict[tuple[str, str], Observed] = {}
        for seen in observed:
            key = (seen.device, seen.subject)
            if (
                seen.subject not in (STATUS, COMMAND)
                and seen.event in ALERT_EVENTS
                and seen.device in playing
                and key not in expected
            ):
                unexpected.setdefault(key, seen)
        for (device, alert_type), seen in sorted(unexpected.items()):
            outcomes.append(
                Outcome(
                    f"no other alert: {alert_type} on {device}",
                    False,
                    detail=f"unexpected, at scene t={seen.scene_t:.1f} s",
                )
            )
        if not unexpected:
            outcomes.append(Outcome("no other alert on the scenario's devices", True))
    return outcomes
