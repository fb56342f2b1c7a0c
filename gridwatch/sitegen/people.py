"""Fictional people: departments, operators, property managers, grid workers and their rosters."""

from __future__ import annotations

import random
from typing import Any

from gridwatch.domain import AlertType
from gridwatch.sitegen.layout import PlannedGrid
from gridwatch.sitegen.names import DISTRICT, GIVEN_NAMES, SURNAMES

DEPARTMENTS = [
    (
        "fire_safety",
        "区消防救援大队",
        "District Fire and Rescue Brigade",
        "dept-fire",
        [
            AlertType.FIRE_LANE_OCCUPIED,
            AlertType.SHED_FIRE,
            AlertType.SMOKE,
            AlertType.SOCKET_OVERHEAT,
            AlertType.SOCKET_OVERCURRENT,
        ],
    ),
    (
        "elevator_maintenance",
        "区电梯维保中心",
        "Elevator Maintenance Centre",
        "dept-elevator",
        [AlertType.EBIKE_IN_ELEVATOR],
    ),
    (
        "property_management",
        "区物业管理办公室",
        "Property Management Office",
        "dept-property",
        [AlertType.FALLING_OBJECT, AlertType.DEVICE_OFFLINE, AlertType.THRESHOLD],
    ),
]
DAY_SHIFT, NIGHT_SHIFT = ("08:00", "20:00"), ("20:00", "08:00")


class Staff:
    """Fictional people: names, phone numbers and placeholder notification URLs."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()
        self.count = 0

    def person(
        self,
        person_id: str,
        role: str,
        area_id: str,
        channels: list[str],
        department: str | None = None,
    ) -> dict[str, Any]:
        """A person record; "{phone}" in a channel becomes the person's phone number."""
        name = ""
        for _ in range(20):
            name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN_NAMES)
            if name not in self.used:
                break
        self.used.add(name)
        self.count += 1
        person = {"id": person_id, "name": name, "role": role, "area_id": area_id}
        if department:
            person["department"] = department
        phone = f"139{self.count:08d}"  # a made-up number block
        return {**person, "phone": phone, "channels": [c.format(phone=phone) for c in channels]}

    def token(self) -> str:
        return f"{self.rng.getrandbits(64):016x}"

    def chat(self) -> str:
        """A group-chat robot of DingTalk, WeCom or Feishu (placeholder keys)."""
        scheme = self.rng.choice(["dingtalk", "wecombot", "feishu"])
        return f"{scheme}://{self.token()}" + ("/" if scheme == "dingtalk" else "")


def _roster(
    grids: list[PlannedGrid], workers: dict[str, list[dict[str, Any]]], rng: random.Random
) -> None:
    """Duty shifts of a community's grid workers, added to their records.

    Days (08:00-20:00) belong to the grid's own workers: with two they split the week
    (Monday-Thursday, Friday-Sunday), with one the worker has Monday-Friday and the weekend
    days go round the community. Nights (20:00-08:00, ending the next morning) go round all
    the community's workers, one of them answering for every grid of the community.
    """
    shifts: dict[str, dict[tuple[str, str, str], list[int]]] = {}
    order = {g.id: n for n, g in enumerate(grids)}

    def add(
        person: dict[str, Any], grid: PlannedGrid, hours: tuple[str, str], days: list[int]
    ) -> None:
        shifts.setdefault(person["id"], {}).setdefault((grid.id, *hours), []).extend(days)

    weekend_gaps = []
    for grid in grids:
        own = workers[grid.id]
        if len(own) > 1:
            add(own[0], grid, DAY_SHIFT, [1, 2, 3, 4])
            add(own[1], grid, DAY_SHIFT, [5, 6, 7])
        else:
            add(own[0], grid, DAY_SHIFT, [1, 2, 3, 4, 5])
            weekend_gaps.append(grid)
    everyone = [person for grid in grids for person in workers[grid.id]]
    offset = rng.randrange(len(everyone))
    for day in range(1, 8):
        for grid in grids:
            add(everyone[(day - 1 + offset) % len(everyone)], grid, NIGHT_SHIFT, [day])
    for day in (6, 7):
        for grid in weekend_gaps:
            add(everyone[(day + offset + 1) % len(everyone)], grid, DAY_SHIFT, [day])
    for person in everyone:
        # Grids with the same hours on the same days make one shift.
        grouped: dict[tuple[str, str, tuple[int, ...]], list[str]] = {}
        for (grid_id, start, end), days in shifts.get(person["id"], {}).items():
            grouped.setdefault((start, end, tuple(sorted(days))), []).append(grid_id)
        person["roster"] = [
            {
                "grid_ids": sorted(grid_ids, key=order.__getitem__),
                "weekdays": list(days),
                "starts_at": start,
                "ends_at": end,
            }
            for (start, end, days), grid_ids in sorted(
                grouped.items(), key=lambda e: (e[0][0] != DAY_SHIFT[0], e[0][2], order[e[1][0]])
            )
        ]


def people_and_departments(
    rng: random.Random, streets: list[dict[str, Any]], grids: list[PlannedGrid]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(departments, people): department contacts, operators, a tester, managers, workers."""
    staff = Staff(rng)
    district = DISTRICT[0]
    departments, people = [], []
    for dept_id, name, name_en, contact, alert_types in DEPARTMENTS:
        departments.append(
            {
                "id": dept_id,
                "name": name,
                "name_en": name_en,
                "alert_types": [t.value for t in alert_types],
                "contact": contact,
            }
        )
        channels = [
            f"json://hooks.example.com/gridwatch/{dept_id}",
            f"mailto://{contact}@example.com",
        ]
        people.append(staff.person(contact, "department", district, channels, dept_id))
    for n in range(1, 5 + len(streets) // 3):
        people.append(
            staff.person(f"op-{n:02d}", "operator", district, [f"mailto://op-{n:02d}@example.com"])
        )
    people.append(staff.person("tester-01", "tester", district, []))
    by_community: dict[str, list[PlannedGrid]] = {}
    for grid in grids:
        by_community.setdefault(grid.community["id"], []).append(grid)
    for street in streets:
        for community in street["communities"]:
            code = community["id"].removeprefix("c-")
            manager = [staff.chat(), f"mailto://wuye-{code}@example.com"]
            people.append(staff.person(f"pm-{code}", "property_manager", community["id"], manager))
            members = by_community[community["id"]]
            workers: dict[str, list[dict[str, Any]]] = {}
            for grid in members:
                count = 2 if rng.random() < (0.7 if len(grid.cells) > 1 else 0.35) else 1
                workers[grid.id] = [
                    staff.person(
                        f"gw-{grid.code}-{k}",
                        "grid_worker",
                        grid.id,
                        [f"dingtalk://{staff.token()}/{{phone}}"],
                    )
                    for k in range(1, count + 1)
                ]
            _roster(members, workers, rng)
            people += [person for grid in members for person in workers[grid.id]]
    return departments, people
