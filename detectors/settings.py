"""Per-camera detector settings: dataclass fields with bounds and a description, checked once."""

from __future__ import annotations

from dataclasses import field, fields
from typing import Any


def setting(default: Any, low: float, high: float, description: str) -> Any:
    """A numeric setting with its default, the bounds it must lie in and what it means."""
    return field(default=default, metadata={"low": low, "high": high, "description": description})


def check_settings(config: Any) -> None:
    """Raise ValueError naming the first setting that is not a number within its bounds."""
    for f in fields(config):
        if "low" not in f.metadata:
            continue
        value = getattr(config, f.name)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ValueError(f"{f.name}: expected a number, got {value!r}")
        if f.type == "int" and not float(value).is_integer():
            raise ValueError(f"{f.name}: expected a whole number, got {value!r}")
        if not f.metadata["low"] <= value <= f.metadata["high"]:  # also refuses NaN
            raise ValueError(
                f"{f.name}: {value!r} is outside {f.metadata['low']}..{f.metadata['high']} "
                f"({f.metadata['description']})"
            )
