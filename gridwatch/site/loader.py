"""load_site(): read a site folder, validate every file and check it as a whole."""

from __future__ import annotations

import gc
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from gridwatch.domain import DeviceKind
from gridwatch.site.areas import Building, District, Grid, Street
from gridwatch.site.checks import SiteChecker
from gridwatch.site.devices import AnyDevice
from gridwatch.site.fields import DEFAULT_TIMEZONE, Id, StrictModel, TimeZoneName
from gridwatch.site.files import (
    BUILDINGS_FILE,
    DEVICES_FILE,
    GRIDS_FILE,
    PEOPLE_FILE,
    SITE_FILE,
    SiteError,
    YamlDoc,
    read_text,
)
from gridwatch.site.geometry import centroid, geometry_problem
from gridwatch.site.model import Site
from gridwatch.site.people import Department, Person


def _explain(error: Mapping[str, Any]) -> tuple[tuple[str | int, ...], str, str]:
    """(where, reason, separator) of a pydantic error, in words for the person editing."""
    kind, message, loc = error["type"], error["msg"], tuple(error["loc"])
    if kind == "missing":
        return loc, "is required but missing", " "
    if kind == "extra_forbidden":
        return loc, "is not a known field", " "
    if kind == "union_tag_not_found":
        return (*loc, "kind"), "is required but missing", " "
    if kind == "union_tag_invalid":
        known = ", ".join(k.value for k in DeviceKind)
        tag = error["ctx"]["tag"]
        return (*loc, "kind"), f"{tag!r} is not a device kind; known: {known}", ": "
    if kind == "value_error":
        return loc, message.removeprefix("Value error, "), ": "
    value = error.get("input")
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return loc, f"{message} (got {value!r})", ": "
    return loc, message, ": "


class _SiteFile(StrictModel):
    id: Id = Field(description="Site id")
    name: str = Field(min_length=1, description="Site name")
    timezone: TimeZoneName = Field(DEFAULT_TIMEZONE, description="IANA zone")
    district: District
    streets: list[Street] = Field(min_length=1)


class _BuildingsFile(StrictModel):
    buildings: list[Building] = Field(default_factory=list)


class _DevicesFile(StrictModel):
    devices: list[AnyDevice] = Field(default_factory=list)


class _PeopleFile(StrictModel):
    departments: list[Department] = Field(default_factory=list)
    people: list[Person] = Field(default_factory=list)


def _validate(doc: YamlDoc, model: type[StrictModel], problems: list[str]) -> Any:
    if not isinstance(doc.data, dict):
        keys = ", ".join(model.model_fields)
        problems.append(f"{doc.name} line 1: expected a mapping with the keys {keys}")
        return None
    try:
        return model.model_validate(doc.data)
    except ValidationError as err:
        problems.extend(doc.problem(*_explain(e)) for e in err.errors())
        return None


GRID_PROPERTIES = ("id", "name", "name_en", "community_id", "households")


def _load_grids(path: Path, problems: list[str]) -> list[Grid]:
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as err:
        raise SiteError(
            [f"{path.name} line {err.lineno} column {err.colno}: not valid JSON: {err.msg}"]
        ) from None
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list) or data.get("type") != "FeatureCollection":
        problems.append(f"{path.name}: expected a GeoJSON FeatureCollection with a features list")
        return []
    grids: list[Grid] = []
    for index, feature in enumerate(features):
        where = f"{path.name} features[{index}]"
        properties = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(properties, dict) or feature.get("type") != "Feature":
            problems.append(f"{where}: not a GeoJSON Feature with properties")
            continue
        where += f" (grid {properties.get('id')!r})"
        fields = {k: v for k, v in properties.items() if k in GRID_PROPERTIES}
        try:
            grid = Grid.model_validate({**fields, "geometry": feature.get("geometry")})
        except ValidationError as err:
            for e in err.errors():
                loc, reason, sep = _explain(e)
                problems.append(f"{where}: {'.'.join(map(str, loc))}{sep}{reason}")
            continue
        if "id" in feature and feature["id"] != grid.id:
            problems.append(f"{where}: the feature id {feature['id']!r} differs from properties.id")
        problem = geometry_problem(grid.geometry)
        if problem:
            problems.append(f"{where}: geometry {problem}")
            continue
        grid.center_lat, grid.center_lon = centroid(grid.geometry)
        grids.append(grid)
    return grids


def load_site(site_dir: Path) -> Site:
    """Read and check a site folder; raise SiteError listing every problem found."""
    # Parsing makes hundreds of thousands of small objects that live until the end; the
    # cyclic collector would walk them over and over (it triples the load time of big sites).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _load_site(Path(site_dir))
    finally:
        if collecting:
            gc.enable()


def _load_site(site_dir: Path) -> Site:
    if not site_dir.is_dir():
        raise SiteError([f"{site_dir}: not a folder"])
    problems: list[str] = []
    docs: dict[str, YamlDoc] = {}
    for name in (SITE_FILE, BUILDINGS_FILE, DEVICES_FILE, PEOPLE_FILE):
        try:
            docs[name] = YamlDoc(site_dir / name)
        except SiteError as err:
            problems.extend(err.problems)
    try:
        grids = _load_grids(site_dir / GRIDS_FILE, problems)
    except SiteError as err:
        problems.extend(err.problems)
    if problems:
        raise SiteError(problems)
    header = _validate(docs[SITE_FILE], _SiteFile, problems)
    buildings = _validate(docs[BUILDINGS_FILE], _BuildingsFile, problems)
    devices = _validate(docs[DEVICES_FILE], _DevicesFile, problems)
    people = _validate(docs[PEOPLE_FILE], _PeopleFile, problems)
    if problems:
        raise SiteError(problems)
    site = Site(
        **header.model_dump(exclude={"district", "streets"}),
        district=header.district,
        streets=header.streets,
        grids=grids,
        buildings=buildings.buildings,
        devices=devices.devices,
        departments=people.departments,
        people=people.people,
    )
    problems.extend(SiteChecker(site, docs).run())
    if problems:
        raise SiteError(problems)
    return site
