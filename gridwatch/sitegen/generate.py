"""generate_site(): plan the district, install devices, staff it and write the site folder."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

from gridwatch.domain import DeviceKind
from gridwatch.sitegen.devices import MIN_DEVICES, install_devices
from gridwatch.sitegen.layout import add_buildings, plan_district
from gridwatch.sitegen.names import DISTRICT, SITE_ID
from gridwatch.sitegen.people import people_and_departments
from gridwatch.sitegen.writer import write_file, yaml_lines


def generate_site(
    out_dir: Path, *, seed: int = 7, grids: int = 45, devices: int = 180
) -> dict[str, Any]:
    """Write a fictional district to out_dir in the site-folder format; return its counts."""
    if grids < 3:
        raise ValueError(f"a site needs at least 3 grids, not {grids}")
    if devices < MIN_DEVICES:
        raise ValueError(f"{devices} devices cannot cover every kind; use at least {MIN_DEVICES}")
    rng = random.Random(seed)
    streets, grid_list, lattice = plan_district(rng, grids)
    for grid in grid_list:
        grid.ring = lattice.ring(grid.cells)
        add_buildings(rng, grid, lattice)
    device_list = install_devices(rng, grid_list, lattice, devices)
    departments, people = people_and_departments(rng, streets, grid_list)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    command = f"gridwatch site generate OUT --seed {seed} --grids {grids} --devices {devices}"
    header = [
        f"# {DISTRICT[1]} ({DISTRICT[2]}): a fictional district; format: gridwatch/site/.",
        f"# Written by `{command}`;",
        "# change gridwatch/sitegen/ and regenerate rather than editing by hand.",
    ]
    district_id, name, name_en = DISTRICT
    site = {
        "id": SITE_ID,
        "name": f"{name}网格化服务管理中心",
        "timezone": "Asia/Shanghai",
        "district": {"id": district_id, "name": name, "name_en": name_en},
        "streets": streets,
    }
    write_file(out_dir / "site.yaml", header, yaml_lines(site))
    buildings = [
        {
            "id": b.id,
            "grid_id": b.grid_id,
            "name": b.name,
            "floors": b.floors,
            "lat": b.lat,
            "lon": b.lon,
        }
        for g in grid_list
        for b in g.buildings
    ]
    write_file(out_dir / "buildings.yaml", header, yaml_lines({"buildings": buildings}))
    write_file(out_dir / "devices.yaml", header, yaml_lines({"devices": device_list}))
    write_file(
        out_dir / "people.yaml", header, yaml_lines({"departments": departments, "people": people})
    )
    features = [
        json.dumps(
            {
                "type": "Feature",
                "id": g.id,
                "properties": {
                    "id": g.id,
                    "name": f"{g.community['name']}第{g.number}网格",
                    "name_en": f"{g.community['name_en']} Grid {g.number}",
                    "community_id": g.community["id"],
                    "households": g.households,
                },
                "geometry": {"type": "Polygon", "coordinates": [g.ring]},
            },
            ensure_ascii=False,
        )
        for g in grid_list
    ]
    (out_dir / "grids.geojson").write_text(
        '{"type": "FeatureCollection", "features": [\n' + ",\n".join(features) + "\n]}\n",
        encoding="utf-8",
        newline="\n",
    )
    kinds = Counter(d["kind"] for d in device_list)
    return {
        "site": SITE_ID,
        "streets": len(streets),
        "communities": sum(len(s["communities"]) for s in streets),
        "grids": len(grid_list),
        "buildings": len(buildings),
        "devices": len(device_list),
        "devices_by_kind": {kind.value: kinds[kind.value] for kind in DeviceKind},
        "people": len(people),
        "duty_shifts": sum(
            len(s["weekdays"]) * len(s["grid_ids"]) for p in people for s in p.get("roster", [])
        ),
    }
