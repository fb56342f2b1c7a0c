"""store_site(): upsert a site into the database (the site row, areas, devices, people)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from gridwatch.site.areas import Grid
from gridwatch.site.model import Site

# The site's own row: dispatch reads its time zone to judge duty rosters in local time.
_UPSERT_SITE = """
INSERT INTO sites (id, name, timezone, district_id) VALUES (%s, %s, %s, %s)
ON CONFLICT (id) DO UPDATE SET
    name = EXCLUDED.name, timezone = EXCLUDED.timezone, district_id = EXCLUDED.district_id
"""
_UPSERT_AREA = """
INSERT INTO areas (id, level, parent_id, name, name_en, geometry, center_lat, center_lon,
                   households)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (id) DO UPDATE SET
    level = EXCLUDED.level, parent_id = EXCLUDED.parent_id, name = EXCLUDED.name,
    name_en = EXCLUDED.name_en, geometry = EXCLUDED.geometry,
    center_lat = EXCLUDED.center_lat, center_lon = EXCLUDED.center_lon,
    households = EXCLUDED.households
"""
_UPSERT_BUILDING = """
INSERT INTO buildings (id, grid_id, name, floors, lat, lon) VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (id) DO UPDATE SET
    grid_id = EXCLUDED.grid_id, name = EXCLUDED.name, floors = EXCLUDED.floors,
    lat = EXCLUDED.lat, lon = EXCLUDED.lon
"""
_UPSERT_DEVICE = """
INSERT INTO devices (id, site_id, grid_id, building_id, kind, name, lat, lon, config)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (id) DO UPDATE SET
    site_id = EXCLUDED.site_id, grid_id = EXCLUDED.grid_id,
    building_id = EXCLUDED.building_id, kind = EXCLUDED.kind, name = EXCLUDED.name,
    lat = EXCLUDED.lat, lon = EXCLUDED.lon, config = EXCLUDED.config
"""
_UPSERT_PERSON = """
INSERT INTO people (id, name, role, area_id, department, phone, channels)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (id) DO UPDATE SET
    name = EXCLUDED.name, role = EXCLUDED.role, area_id = EXCLUDED.area_id,
    department = EXCLUDED.department, phone = EXCLUDED.phone, channels = EXCLUDED.channels
"""
_INSERT_SHIFT = """
INSERT INTO duty_roster (person_id, grid_id, weekday, starts_at, ends_at)
VALUES (%s, %s, %s, %s, %s)
"""


def _area_rows(site: Site) -> list[tuple[Any, ...]]:
    """areas rows, parents first; a parent's centre is the mean of its grids' centres."""
    grids_of: dict[str, list[Grid]] = {}
    for grid in site.grids:
        for area_id in site.area_chain(grid.id)[1:]:
            grids_of.setdefault(area_id, []).append(grid)

    def row(area: Any, level: str, parent: str | None, households: int | None = None) -> tuple:
        grids = grids_of.get(area.id, [])
        lat = round(sum(g.center_lat or 0.0 for g in grids) / len(grids), 6) if grids else None
        lon = round(sum(g.center_lon or 0.0 for g in grids) / len(grids), 6) if grids else None
        if households is None:
            households = sum(g.households for g in grids)
        return (area.id, level, parent, area.name, area.name_en, None, lat, lon, households)

    rows = [row(site.district, "district", None)]
    rows += [row(street, "street", site.district.id) for street in site.streets]
    rows += [
        row(community, "community", street.id, community.households)
        for street in site.streets
        for community in street.communities
    ]
    rows += [
        (
            g.id,
            "grid",
            g.community_id,
            g.name,
            g.name_en,
            Jsonb(g.geometry.model_dump()),
            g.center_lat,
            g.center_lon,
            g.households,
        )
        for g in site.grids
    ]
    return rows


def store_site(conn: psycopg.Connection, site: Site) -> dict[str, int]:
    """Upsert the site into the database and commit; repeating it changes nothing.

    A person's duty shifts are replaced by the ones in the site. Rows of items no longer in
    the site stay: alerts and work orders may refer to them.
    """
    areas = _area_rows(site)
    buildings = [(b.id, b.grid_id, b.name, b.floors, b.lat, b.lon) for b in site.buildings]
    devices = [
        (
            d.id,
            site.id,
            d.grid_id,
            d.building_id,
            d.kind.value,
            d.name,
            d.lat,
            d.lon,
            Jsonb(d.config.model_dump(mode="json")),
        )
        for d in site.devices
    ]
    people = [
        (p.id, p.name, p.role.value, p.area_id, p.department, p.phone, Jsonb(p.channels))
        for p in site.people
    ]
    shifts = [tuple(row) for row in site.roster_rows()]
    try:
        with conn.cursor() as cur:
            cur.executemany(_UPSERT_AREA, areas)
            cur.execute(_UPSERT_SITE, (site.id, site.name, site.timezone, site.district.id))
            cur.executemany(_UPSERT_BUILDING, buildings)
            cur.executemany(_UPSERT_DEVICE, devices)
            cur.executemany(_UPSERT_PERSON, people)
            cur.execute(
                "DELETE FROM duty_roster WHERE person_id = ANY(%s)", ([p.id for p in site.people],)
            )
            cur.executemany(_INSERT_SHIFT, shifts)
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
    return {
        "areas": len(areas),
        "grids": len(site.grids),
        "buildings": len(buildings),
        "devices": len(devices),
        "people": len(people),
        "duty_shifts": len(shifts),
    }
