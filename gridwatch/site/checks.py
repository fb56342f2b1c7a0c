"""Checks across a site's files: unique ids, existing links, positions inside their grids."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import time
from functools import partial

from gridwatch.domain import AlertType, AreaLevel
from gridwatch.site.areas import Building
from gridwatch.site.devices import Device, FacadeCameraConfig
from gridwatch.site.files import (
    BUILDINGS_FILE,
    DEVICES_FILE,
    GRIDS_FILE,
    PEOPLE_FILE,
    SITE_FILE,
    YamlDoc,
)
from gridwatch.site.geometry import grid_contains
from gridwatch.site.model import Site
from gridwatch.site.people import ROLE_AREA_LEVEL, PersonRole


class SiteChecker:
    """Ids and links across the files; every problem names the file, line or feature, and id."""

    def __init__(self, site: Site, docs: dict[str, YamlDoc]) -> None:
        self.site, self.docs = site, docs
        self.problems: list[str] = []
        self.devices: dict[str, Device] = site._index["device"]
        self.buildings: dict[str, Building] = site._index["building"]

    def run(self) -> list[str]:
        self.areas()
        self.positions(BUILDINGS_FILE, "buildings", self.site.buildings)
        self.positions(DEVICES_FILE, "devices", self.site.devices)
        for d, device in enumerate(self.site.devices):
            self.device_links(["devices", d], device)
        self.departments()
        self.people()
        return self.problems

    def add(self, file: str, loc: list[str | int], reason: str, sep: str = ": ") -> None:
        self.problems.append(self.docs[file].problem(loc, reason, sep))

    def unique(
        self, seen: dict[str, Callable[[], str]], item_id: str, where: Callable[[], str]
    ) -> None:
        first = seen.setdefault(item_id, where)
        if first is not where:
            first_place = first().split(" (")[0]
            self.problems.append(f"{where()}: duplicate id {item_id!r}; first at {first_place}")

    def areas(self) -> None:
        site, doc, seen = self.site, self.docs[SITE_FILE], {}
        self.unique(seen, site.district.id, partial(doc.place, ["district"]))
        for s, street in enumerate(site.streets):
            self.unique(seen, street.id, partial(doc.place, ["streets", s]))
            for c, community in enumerate(street.communities):
                self.unique(
                    seen, community.id, partial(doc.place, ["streets", s, "communities", c])
                )
        for g, grid in enumerate(site.grids):
            where = f"{GRIDS_FILE} features[{g}] (grid {grid.id!r})"
            self.unique(seen, grid.id, partial(str, where))
            if site.area_level(grid.community_id) is not AreaLevel.COMMUNITY:
                self.problems.append(
                    f"{where}: community_id {grid.community_id!r} is not a community in {SITE_FILE}"
                )

    def positions(self, file: str, key: str, items: Sequence[Building | Device]) -> None:
        """Unique ids, an existing grid and a position inside it."""
        seen: dict[str, Callable[[], str]] = {}
        for n, item in enumerate(items):
            loc: list[str | int] = [key, n]
            self.unique(seen, item.id, partial(self.docs[file].place, loc))
            if self.site.area_level(item.grid_id) is not AreaLevel.GRID:
                self.add(
                    file, [*loc, "grid_id"], f"{item.grid_id!r} is not a grid in {GRIDS_FILE}", " "
                )
            elif not grid_contains(self.site.grid(item.grid_id), item.lat, item.lon):
                self.add(
                    file,
                    loc,
                    f"position ({item.lat}, {item.lon}) lies outside its grid {item.grid_id!r}",
                )

    def device_links(self, loc: list[str | int], device: Device) -> None:
        if device.building_id is not None:
            building = self.buildings.get(device.building_id)
            if building is None:
                self.add(
                    DEVICES_FILE,
                    [*loc, "building_id"],
                    f"{device.building_id!r} does not exist in {BUILDINGS_FILE}",
                    " ",
                )
            elif building.grid_id != device.grid_id:
                self.add(
                    DEVICES_FILE,
                    [*loc, "building_id"],
                    f"{building.id!r} is in grid {building.grid_id!r}, not in {device.grid_id!r}",
                    " ",
                )
        for field, target_id, kind in device.config.links():
            target = self.devices.get(target_id)
            back = [i for _, i, k in target.config.links() if k is device.kind] if target else []
            if target is None:
                reason = f"{target_id!r} does not exist"
            elif target.kind is not kind:
                reason = f"{target_id!r} is a {target.kind}, not a {kind}"
            elif target.grid_id != device.grid_id:
                reason = f"{target_id!r} is in grid {target.grid_id!r}, not {device.grid_id!r}"
            elif back and device.id not in back:
                reason = f"{target_id!r} links back to {', '.join(map(repr, back))} instead"
            else:
                continue
            name, _, index = field.partition("[")
            field_loc = [name, int(index.rstrip("]"))] if index else [name]
            self.add(DEVICES_FILE, [*loc, "config", *field_loc], reason, " ")
        if isinstance(device.config, FacadeCameraConfig):
            self.facade(loc, device.config, device.building_id)

    def facade(self, loc: list[str | int], config: FacadeCameraConfig, own: str | None) -> None:
        building = self.buildings.get(config.building_id)
        top = config.floor_lines[-1].floor
        if building is None:
            self.add(
                DEVICES_FILE,
                [*loc, "config", "building_id"],
                f"{config.building_id!r} does not exist in {BUILDINGS_FILE}",
                " ",
            )
        elif own is not None and own != building.id:
            self.add(
                DEVICES_FILE,
                [*loc, "config", "building_id"],
                f"{building.id!r} differs from the device's building_id {own!r}",
                " ",
            )
        elif top > building.floors + 1:
            self.add(
                DEVICES_FILE,
                [*loc, "config", "floor_lines"],
                f"floor {top} is above the roof of {building.id!r} ({building.floors} floors)",
            )

    def departments(self) -> None:
        doc, seen = self.docs[PEOPLE_FILE], {}
        owners: dict[AlertType, str] = {}
        for n, department in enumerate(self.site.departments):
            loc: list[str | int] = ["departments", n]
            self.unique(seen, department.id, partial(doc.place, loc))
            if (
                department.contact is not None
                and department.contact not in self.site._index["person"]
            ):
                self.add(
                    PEOPLE_FILE,
                    [*loc, "contact"],
                    f"{department.contact!r} is not a person in {PEOPLE_FILE}",
                    " ",
                )
            for alert_type in department.alert_types:
                if owners.setdefault(alert_type, department.id) != department.id:
                    self.add(
                        PEOPLE_FILE,
                        [*loc, "alert_types"],
                        f"{alert_type} is already owned by {owners[alert_type]!r}",
                    )

    def people(self) -> None:
        site, doc, seen = self.site, self.docs[PEOPLE_FILE], {}
        departments = {department.id for department in site.departments}
        shifts: set[tuple[str, str, int, time]] = set()
        for p, person in enumerate(site.people):
            loc: list[str | int] = ["people", p]
            self.unique(seen, person.id, partial(doc.place, loc))
            level = site.area_level(person.area_id) if person.area_id else None
            needed = ROLE_AREA_LEVEL.get(person.role)
            if person.area_id is not None and level is None:
                self.add(
                    PEOPLE_FILE,
                    [*loc, "area_id"],
                    f"{person.area_id!r} is not an area of the site",
                    " ",
                )
            elif needed is not None and level is not needed:
                self.add(
                    PEOPLE_FILE,
                    [*loc, "area_id"],
                    f"a {person.role} belongs to a {needed}; {person.area_id!r} is not one",
                )
            if person.department is not None and person.department not in departments:
                self.add(
                    PEOPLE_FILE,
                    [*loc, "department"],
                    f"{person.department!r} is not a department in {PEOPLE_FILE}",
                    " ",
                )
            if person.role is PersonRole.DEPARTMENT and person.department is None:
                self.add(PEOPLE_FILE, loc, "a department contact needs a department")
            for r, shift in enumerate(person.roster):
                for g, grid_id in enumerate(shift.grid_ids):
                    if site.area_level(grid_id) is not AreaLevel.GRID:
                        self.add(
                            PEOPLE_FILE,
                            [*loc, "roster", r, "grid_ids", g],
                            f"{grid_id!r} is not a grid in {GRIDS_FILE}",
                            " ",
                        )
                    for day in shift.weekdays:
                        key = (person.id, grid_id, day, shift.starts_at)
                        if key in shifts:
                            self.add(
                                PEOPLE_FILE,
                                [*loc, "roster", r],
                                f"a second shift in "
                                f"{grid_id!r} starting weekday {day} at {shift.starts_at}",
                            )
                        shifts.add(key)
