"""Field types shared by the site models: ids, picture zones, clock times, positions, time zones."""

from __future__ import annotations

from datetime import time, timedelta, timezone, tzinfo
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from gridwatch.topics import TopicError, check_segment

DEFAULT_TIMEZONE = "Asia/Shanghai"


def _topic_segment(value: str) -> str:
    try:
        check_segment("id", value)
    except TopicError as err:
        raise ValueError(str(err).removeprefix("id ")) from None
    return value


def _unit_zone(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    for number, (x, y) in enumerate(points, start=1):
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ValueError(f"point {number} ({x}, {y}) is outside the picture (0..1)")
    return points


def _clock_time(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(
            f'got the number {value}; write times in quotes, e.g. "20:00" '
            "(YAML reads an unquoted 20:00 as the number 1200)"
        )
    return value


Id = Annotated[str, AfterValidator(_topic_segment)]
Zone = Annotated[list[tuple[float, float]], Field(min_length=3), AfterValidator(_unit_zone)]
Channel = Annotated[str, Field(pattern=r"^[a-z][a-z0-9+.-]*://\S+$")]
ClockTime = Annotated[time, BeforeValidator(_clock_time)]
Latitude = Annotated[float, Field(ge=-90, le=90, description="WGS 84 latitude")]
Longitude = Annotated[float, Field(ge=-180, le=180, description="WGS 84 longitude")]
Fps = Annotated[float, Field(gt=0, le=60, description="Frames per second the camera sends")]


class StrictModel(BaseModel):
    """A model whose unknown keys are errors: a misspelt setting fails at load."""

    model_config = ConfigDict(extra="forbid")


def site_timezone(name: str) -> tzinfo:
    """The tzinfo for an IANA name; China's zone also works without a zone database."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if name in ("Asia/Shanghai", "Asia/Chongqing", "PRC"):
            return timezone(timedelta(hours=8), "CST")
        raise ValueError(f"timezone {name!r} is not a known IANA time zone") from None


def _known_zone(name: str) -> str:
    site_timezone(name)
    return name


TimeZoneName = Annotated[str, AfterValidator(_known_zone)]
