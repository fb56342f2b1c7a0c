"""Smart dispatch (智能派单): who takes a new work order, and who else hears of it, by its type.

A route names two things for an order type:

- `assign`: who takes the order: `grid_worker` (the worker on duty in the order's grid) or
  a department id of the site (e.g. `fire_safety`: that department's contact);
- `notify`: who else is told of the new order: `grid_worker`, `property_manager` (the
  managers of the order's community) or department ids.

The defaults below can be overridden by a YAML file (settings.routing_file):

    by_type:
      shed_fire: {assign: fire_safety, notify: [grid_worker]}
      fire_lane_occupied: {assign: grid_worker, notify: [property_manager]}
    default: {assign: grid_worker}

A type's rule replaces the default rule for that type; types without a rule take `default`.
This module is pure; dispatch.assignment finds the people and writes the order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dispatch.config_files import read_yaml_model

GRID_WORKER = "grid_worker"
PROPERTY_MANAGER = "property_manager"
# Targets that are people of the order's own area; anything else names a department.
AREA_TARGETS = frozenset({GRID_WORKER, PROPERTY_MANAGER})

FIRE_SAFETY = "fire_safety"
ELEVATOR_MAINTENANCE = "elevator_maintenance"
PROPERTY_MANAGEMENT = "property_management"

_TARGET = re.compile(r"^[a-z0-9_]+$")


@dataclass(frozen=True)
class Route:
    """Who takes an order of some type (`assign`) and who else is told (`notify`)."""

    assign: str = GRID_WORKER
    notify: tuple[str, ...] = ()


# Fires, failing sockets and hydrants need the fire brigade's people and tools; the grid
# worker goes too, as the one nearest. The lift's maintainer can hold and check the car; the
# property office hears of it because repeats in one building are theirs to stop. A blocked
# lane or a thrown object needs someone on the spot now: the grid worker, with the property
# office told. Residents' unsafe-charging reports are a knock on a door: the grid worker's.
DEFAULT_BY_TYPE: dict[str, Route] = {
    "shed_fire": Route(FIRE_SAFETY, (GRID_WORKER,)),
    "smoke": Route(FIRE_SAFETY, (GRID_WORKER,)),
    "socket_overheat": Route(FIRE_SAFETY, (GRID_WORKER,)),
    "socket_overcurrent": Route(FIRE_SAFETY, (GRID_WORKER,)),
    "hydrant_low_pressure": Route(FIRE_SAFETY, (GRID_WORKER,)),
    "ebike_in_elevator": Route(ELEVATOR_MAINTENANCE, (PROPERTY_MANAGEMENT,)),
    "fire_lane_occupied": Route(GRID_WORKER, (PROPERTY_MANAGEMENT,)),
    "falling_object": Route(GRID_WORKER, (PROPERTY_MANAGEMENT,)),
    "unsafe_charging": Route(GRID_WORKER, (FIRE_SAFETY,)),
}
DEFAULT_ROUTE = Route()


@dataclass(frozen=True)
class RoutingTable:
    """Looks up the route of a work order by its type."""

    by_type: dict[str, Route] = field(default_factory=lambda: dict(DEFAULT_BY_TYPE))
    default: Route = DEFAULT_ROUTE

    def for_type(self, order_type: str) -> Route:
        return self.by_type.get(order_type, self.default)

    def departments(self) -> set[str]:
        """Every department id the table names (to check them against the site's)."""
        routes = [*self.by_type.values(), self.default]
        names = {r.assign for r in routes} | {n for r in routes for n in r.notify}
        return names - AREA_TARGETS


DEFAULT_ROUTING = RoutingTable()


def _target(value: str) -> str:
    if not _TARGET.match(value):
        raise ValueError(
            f"{value!r} is not a target; write grid_worker, property_manager or a department id"
        )
    return value


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assign: str = Field(description="grid_worker or a department id: who takes the order")
    notify: list[str] = Field(default_factory=list, description="Who else is told")

    @field_validator("assign")
    @classmethod
    def _assign(cls, value: str) -> str:
        if value == PROPERTY_MANAGER:
            raise ValueError(
                "property_manager cannot take an order here; name grid_worker or a department"
            )
        return _target(value)

    @field_validator("notify")
    @classmethod
    def _notify(cls, values: list[str]) -> list[str]:
        return [_target(v) for v in values]

    def route(self) -> Route:
        return Route(self.assign, tuple(dict.fromkeys(self.notify)))


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by_type: dict[str, _Rule] = Field(default_factory=dict)
    default: _Rule | None = None

    @field_validator("by_type")
    @classmethod
    def _keys(cls, rules: dict[str, _Rule]) -> dict[str, _Rule]:
        for key in rules:
            if not _TARGET.match(key):
                raise ValueError(f"{key!r} is not an order type (lower case, digits, _)")
        return rules


class RoutingFileError(ValueError):
    """A routing file that cannot be used; the message names the file, the item and why."""


def load_routing(path: Path | None) -> RoutingTable:
    """The default table, with the rules of the YAML file at `path` (if any) laid over it."""
    if path is None:
        return DEFAULT_ROUTING
    parsed = read_yaml_model(path, _File, RoutingFileError, "routing")
    by_type = dict(DEFAULT_BY_TYPE)
    by_type.update({t: rule.route() for t, rule in parsed.by_type.items()})
    default = parsed.default.route() if parsed.default else DEFAULT_ROUTE
    return RoutingTable(by_type, default)
