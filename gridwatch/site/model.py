"""The Site: everything in a site folder, with look-ups by id, area level and grid."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from pydantic import Field, PrivateAttr, model_validator

from gridwatch.domain import AlertType, AreaLevel
from gridwatch.site.areas import Building, Community, District, Grid, Street
from gridwatch.site.devices import AnyDevice, Device
from gridwatch.site.fields import (
    DEFAULT_TIMEZONE,
    Id,
    StrictModel,
    TimeZoneName,
    site_timezone,
)
from gridwatch.site.people import Department, Person, RosterRow


class Site(StrictModel):
    """A whole site folder as one model; load_site() builds it and checks it across files."""

    id: Id = Field(description="Site id; the {site} topic segment")
    name: str = Field(min_length=1, description="Name shown on the big screen")
    timezone: TimeZoneName = Field(DEFAULT_TIMEZONE, description="IANA zone of local times")
    district: District
    streets: list[Street] = Field(default_factory=list)
    grids: list[Grid] = Field(default_factory=list)
    buildings: list[Building] = Field(default_factory=list)
    devices: list[AnyDevice] = Field(default_factory=list)
    departments: list[Department] = Field(default_factory=list)
    people: list[Person] = Field(default_factory=list)

    _areas: dict[str, tuple[AreaLevel, str | None]] = PrivateAttr(default_factory=dict)
    _index: dict[str, dict[str, Any]] = PrivateAttr(default_factory=dict)
    _by_grid: dict[str, list[Device]] = PrivateAttr(default_factory=dict)
    _roster: dict[str, list[RosterRow]] = PrivateAttr(default_factory=dict)
    _tz: tzinfo | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _build_indexes(self) -> Site:
        """Look-up tables; with duplicate ids the first one wins (load_site reports them)."""
        self._tz = site_timezone(self.timezone)
        areas = self._areas
        areas.clear()
        areas.setdefault(self.district.id, (AreaLevel.DISTRICT, None))
        for street in self.streets:
            areas.setdefault(street.id, (AreaLevel.STREET, self.district.id))
            for community in street.communities:
                areas.setdefault(community.id, (AreaLevel.COMMUNITY, street.id))
        for grid in self.grids:
            areas.setdefault(grid.id, (AreaLevel.GRID, grid.community_id))
        self._index = {name: {} for name in ("grid", "building", "device", "person", "dept")}
        for name, items in (
            ("grid", self.grids),
            ("building", self.buildings),
            ("device", self.devices),
            ("person", self.people),
            ("dept", self.departments),
        ):
            for item in items:
                self._index[name].setdefault(item.id, item)
        self._by_grid = {}
        for device in self.devices:
            self._by_grid.setdefault(device.grid_id, []).append(device)
        self._roster = {}
        for row in self.roster_rows():
            self._roster.setdefault(row.grid_id, []).append(row)
        return self

    @property
    def tzinfo(self) -> tzinfo:
        return self._tz or site_timezone(self.timezone)

    def _get(self, index: str, what: str, item_id: str) -> Any:
        try:
            return self._index[index][item_id]
        except KeyError:
            raise KeyError(f"site {self.id!r} has no {what} {item_id!r}") from None

    def grid_ids(self) -> list[str]:
        return [grid.id for grid in self.grids]

    def grid(self, grid_id: str) -> Grid:
        return self._get("grid", "grid", grid_id)

    def building(self, building_id: str) -> Building:
        return self._get("building", "building", building_id)

    def device(self, device_id: str) -> Device:
        return self._get("device", "device", device_id)

    def person(self, person_id: str) -> Person:
        return self._get("person", "person", person_id)

    def devices_in(self, grid_id: str) -> list[Device]:
        return list(self._by_grid.get(grid_id, []))

    def communities(self) -> list[Community]:
        return [community for street in self.streets for community in street.communities]

    def area_level(self, area_id: str) -> AreaLevel | None:
        found = self._areas.get(area_id)
        return found[0] if found else None

    def area_chain(self, area_id: str) -> list[str]:
        """The area and its ancestors, e.g. [grid, community, street, district]: escalation."""
        chain: list[str] = []
        current: str | None = area_id
        while current is not None and current in self._areas and current not in chain:
            chain.append(current)
            current = self._areas[current][1]
        return chain

    def department_for(self, alert_type: AlertType | str) -> Department | None:
        """The department that owns an alert type, if any."""
        for department in self.departments:
            if alert_type in department.alert_types:
                return department
        return None

    def roster_rows(self) -> list[RosterRow]:
        return [
            RosterRow(person.id, grid_id, day, shift.starts_at, shift.ends_at)
            for person in self.people
            for shift in person.roster
            for grid_id in shift.grid_ids
            for day in shift.weekdays
        ]

    def on_duty(self, grid_id: str, when: datetime) -> str | None:
        # duty.py builds on Site, so it is imported here rather than at the top.
        from gridwatch.site.duty import on_duty

        return on_duty(self, grid_id, when)
