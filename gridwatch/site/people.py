"""People, the departments that own alert types, and the duty shifts of the roster."""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from typing import Annotated, NamedTuple

from pydantic import Field, field_validator

from gridwatch.domain import AlertType, AreaLevel
from gridwatch.site.fields import Channel, ClockTime, Id, StrictModel


class PersonRole(StrEnum):
    GRID_WORKER = "grid_worker"
    PROPERTY_MANAGER = "property_manager"
    OPERATOR = "operator"
    DEPARTMENT = "department"
    TESTER = "tester"
    ADMIN = "admin"


# The area level a person of this role must belong to (others may belong to any area).
ROLE_AREA_LEVEL = {
    PersonRole.GRID_WORKER: AreaLevel.GRID,
    PersonRole.PROPERTY_MANAGER: AreaLevel.COMMUNITY,
}


class DutyShift(StrictModel):
    grid_ids: list[Id] = Field(min_length=1, description="Grids the person answers for")
    weekdays: list[Annotated[int, Field(ge=1, le=7)]] = Field(
        min_length=1, description="Days the shift starts on, 1 = Monday ... 7 = Sunday"
    )
    starts_at: ClockTime = Field(description="Local start time, inclusive")
    ends_at: ClockTime = Field(description="Local end time, exclusive; not after start = next day")

    @field_validator("weekdays")
    @classmethod
    def _distinct(cls, days: list[int]) -> list[int]:
        if len(set(days)) != len(days):
            raise ValueError(f"weekdays {days} repeat a day")
        return days


class Person(StrictModel):
    id: Id = Field(description="Person id")
    name: str = Field(min_length=1, description="Chinese name")
    role: PersonRole = Field(description="What the person does in the loop")
    area_id: Id | None = Field(None, description="Grid of a worker, community of a manager")
    department: str | None = Field(None, description="Department id of a department contact")
    phone: str | None = Field(None, description="Phone number")
    channels: list[Channel] = Field(default_factory=list, description="Notification URLs")
    roster: list[DutyShift] = Field(default_factory=list, description="Weekly duty shifts")


class Department(StrictModel):
    id: Id = Field(description="Department id, e.g. fire_safety")
    name: str = Field(min_length=1, description="Chinese name")
    name_en: str | None = Field(None, description="English name")
    alert_types: list[AlertType] = Field(default_factory=list, description="Alert types it owns")
    contact: Id | None = Field(None, description="Person who receives its work orders")


class RosterRow(NamedTuple):
    """One weekday of a duty shift: the columns of the duty_roster table."""

    person_id: str
    grid_id: str
    weekday: int
    starts_at: time
    ends_at: time
