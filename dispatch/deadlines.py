"""Deadlines of the closed loop: accept within, resolve within, by alert type and severity.

The defaults below can be overridden by a YAML file (settings.deadlines_file):

    by_severity:
      critical: {accept: 5m, resolve: 1h}
    by_type:
      smoke: {accept: 3m, resolve: 30m}
      falling_object:critical: {accept: 5m, resolve: 2h}

A rule for "type:severity" wins over one for the type, which wins over the severity's.
Durations are "90s", "15m", "4h", "3d", combinations such as "1h30m", or whole seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dispatch.config_files import read_yaml_model
from gridwatch.domain import Severity


@dataclass(frozen=True)
class Deadline:
    accept_within: timedelta
    resolve_within: timedelta


def _d(accept: timedelta, resolve: timedelta) -> Deadline:
    return Deadline(accept, resolve)


MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)

DEFAULT_BY_SEVERITY: dict[Severity, Deadline] = {
    Severity.CRITICAL: _d(5 * MINUTE, 1 * HOUR),
    Severity.MAJOR: _d(15 * MINUTE, 4 * HOUR),
    Severity.MINOR: _d(30 * MINUTE, 24 * HOUR),
    Severity.WARNING: _d(1 * HOUR, 72 * HOUR),
}
# Types whose danger does not wait for the severity's table: a fire or smoke needs someone
# on site within minutes; a thrown object needs the evidence secured, which takes longer.
DEFAULT_BY_TYPE: dict[str, Deadline] = {
    "shed_fire": _d(3 * MINUTE, 30 * MINUTE),
    "smoke": _d(3 * MINUTE, 30 * MINUTE),
    "falling_object": _d(5 * MINUTE, 2 * HOUR),
    "device_offline": _d(2 * HOUR, 48 * HOUR),
}

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_KEY = re.compile(r"^[a-z0-9_]+(?::[a-z]+)?$")


def parse_duration(text: str | int) -> timedelta:
    """'1h30m' -> 90 minutes; a bare number is seconds. Raises ValueError saying what is wrong."""
    if isinstance(text, int) and not isinstance(text, bool):
        seconds = text
    else:
        match = _DURATION.match(str(text).strip())
        if not match or not any(match.groups()):
            raise ValueError(f"{text!r} is not a duration; write e.g. 90s, 15m, 4h, 3d or 1h30m")
        d, h, m, s = (int(g or 0) for g in match.groups())
        seconds = ((d * 24 + h) * 60 + m) * 60 + s
    if seconds <= 0:
        raise ValueError(f"{text!r}: a deadline must be longer than zero")
    return timedelta(seconds=seconds)


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    accept: timedelta = Field(description="Accept the order within this long after it opens")
    resolve: timedelta = Field(description="Resolve it within this long after it opens")

    @field_validator("accept", "resolve", mode="before")
    @classmethod
    def _duration(cls, value: object) -> timedelta:
        if isinstance(value, timedelta):
            return value
        return parse_duration(value)  # type: ignore[arg-type]


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by_severity: dict[Severity, _Rule] = Field(default_factory=dict)
    by_type: dict[str, _Rule] = Field(default_factory=dict)

    @field_validator("by_type")
    @classmethod
    def _keys(cls, rules: dict[str, _Rule]) -> dict[str, _Rule]:
        for key in rules:
            if not _KEY.match(key):
                raise ValueError(f"{key!r} is not an alert type or 'type:severity'")
            if ":" in key and key.split(":")[1] not in {s.value for s in Severity}:
                known = ", ".join(s.value for s in Severity)
                raise ValueError(f"{key!r}: unknown severity (known: {known})")
        return rules


@dataclass(frozen=True)
class DeadlineTable:
    """Looks up the deadlines of a work order by its type and severity."""

    by_severity: dict[Severity, Deadline] = field(default_factory=lambda: dict(DEFAULT_BY_SEVERITY))
    by_type: dict[str, Deadline] = field(default_factory=lambda: dict(DEFAULT_BY_TYPE))

    def for_order(self, order_type: str, severity: str) -> Deadline:
        sev = Severity(severity)
        return (
            self.by_type.get(f"{order_type}:{sev.value}")
            or self.by_type.get(order_type)
            or self.by_severity[sev]
        )


DEFAULT_DEADLINES = DeadlineTable()


class DeadlineFileError(ValueError):
    """A deadlines file that cannot be used; the message names the file, the item and why."""


def load_deadlines(path: Path | None) -> DeadlineTable:
    """The default table, with the rules of the YAML file at `path` (if any) laid over it."""
    if path is None:
        return DEFAULT_DEADLINES
    parsed = read_yaml_model(path, _File, DeadlineFileError, "deadlines")
    by_severity = dict(DEFAULT_BY_SEVERITY)
    by_severity.update({s: _d(r.accept, r.resolve) for s, r in parsed.by_severity.items()})
    by_type = dict(DEFAULT_BY_TYPE)
    by_type.update({t: _d(r.accept, r.resolve) for t, r in parsed.by_type.items()})
    return DeadlineTable(by_severity, by_type)
