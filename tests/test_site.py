"""The demo site: its hierarchy, devices, rosters, the generator that writes it, and storing it."""

from __future__ import annotations

import time as clock
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import psycopg
import pytest

from gridwatch.domain import AlertType, AreaLevel, DeviceKind
from gridwatch.settings import PROJECT_ROOT
from gridwatch.site import (
    FireLaneCameraConfig,
    RosterRow,
    Site,
    grid_contains,
    load_site,
    on_duty,
    store_site,
)
from gridwatch.sitegen import generate_site

DEMO = PROJECT_ROOT / "site" / "demo"
MONDAY = datetime(2026, 3, 2)  # a Monday, site-local time


@pytest.fixture(scope="module")
def site() -> Site:
    return load_site(DEMO)


def test_demo_site_is_one_district_of_three_streets_and_nine_communities(site: Site) -> None:
    assert site.id == "haichuan"
    assert len(site.streets) == 3
    assert [len(street.communities) for street in site.streets] == [3, 3, 3]
    assert len(site.grids) >= 40
    per_community = Counter(grid.community_id for grid in site.grids)
    assert set(per_community) == {c.id for c in site.communities()}
    assert all(4 <= n <= 6 for n in per_community.values()), per_community
    assert site.area_chain(site.grids[0].id) == [
        site.grids[0].id,
        site.grids[0].community_id,
        site.streets[0].id,
        site.district.id,
    ]


def test_demo_site_has_every_device_kind(site: Site) -> None:
    assert len(site.devices) >= 150
    assert {device.kind for device in site.devices} == set(DeviceKind)


def test_every_fire_lane_camera_has_an_alarm_in_its_grid(site: Site) -> None:
    cameras = [d for d in site.devices if d.kind is DeviceKind.FIRE_LANE_CAMERA]
    assert cameras
    for camera in cameras:
        assert isinstance(camera.config, FireLaneCameraConfig)
        alarm = site.device(camera.config.alarm_device)
        assert alarm.kind is DeviceKind.SOUND_LIGHT_ALARM
        assert alarm.grid_id == camera.grid_id
        ys = [y for _, y in camera.config.zones["lane"]]
        assert 0.4 <= min(ys) and max(ys) <= 0.9


def test_buildings_and_devices_stand_inside_their_grids(site: Site) -> None:
    for item in [*site.buildings, *site.devices]:
        assert grid_contains(site.grid(item.grid_id), item.lat, item.lon), item.id
    assert all(6 <= building.floors <= 33 for building in site.buildings)


def test_someone_is_on_duty_in_every_grid_at_every_hour_of_the_week(site: Site) -> None:
    for hour in range(7 * 24):
        when = MONDAY + timedelta(hours=hour, minutes=30)
        for grid_id in site.grid_ids():
            person = on_duty(site, grid_id, when)
            assert person is not None, f"nobody on duty in {grid_id} at {when:%a %H:%M}"
            assert site.person(person).role == "grid_worker"


def test_grid_workers_answer_for_their_own_grid_on_weekday_daytime(site: Site) -> None:
    for grid_id in site.grid_ids():
        person = site.person(on_duty(site, grid_id, MONDAY.replace(hour=10)) or "")
        assert person.area_id == grid_id


def test_an_overnight_shift_ends_the_next_morning() -> None:
    rows = [
        RosterRow("night", "g-1", 7, time(20), time(8)),  # Sunday 20:00 to Monday 08:00
        RosterRow("day", "g-1", 1, time(8), time(20)),
    ]
    sunday = MONDAY + timedelta(days=6)
    assert on_duty(rows, "g-1", sunday.replace(hour=19, minute=59)) is None
    assert on_duty(rows, "g-1", sunday.replace(hour=20)) == "night"
    assert on_duty(rows, "g-1", MONDAY.replace(hour=7, minute=59)) == "night"
    assert on_duty(rows, "g-1", MONDAY.replace(hour=8)) == "day"
    assert on_duty(rows, "g-1", MONDAY.replace(hour=20)) is None
    assert on_duty(rows, "g-2", MONDAY.replace(hour=9)) is None


def test_on_duty_takes_aware_times_in_the_site_zone_and_prefers_the_latest_start() -> None:
    rows = [
        {
            "person_id": "all-day",
            "grid_id": "g-1",
            "weekday": 1,
            "starts_at": time(0),
            "ends_at": time(0),
        },
        {
            "person_id": "morning",
            "grid_id": "g-1",
            "weekday": 1,
            "starts_at": time(8),
            "ends_at": time(12),
        },
    ]
    # 01:00 UTC is 09:00 in Beijing.
    assert on_duty(rows, "g-1", MONDAY.replace(hour=1, tzinfo=UTC)) == "morning"
    assert on_duty(rows, "g-1", MONDAY.replace(hour=13)) == "all-day"


def test_departments_own_alert_types(site: Site) -> None:
    fire = site.department_for(AlertType.FIRE_LANE_OCCUPIED)
    assert fire is not None and fire.id == "fire_safety"
    assert site.person(fire.contact or "").department == "fire_safety"
    elevator = site.department_for(AlertType.EBIKE_IN_ELEVATOR)
    assert elevator is not None and elevator.id == "elevator_maintenance"


def _edges(ring: list[list[float]]) -> list[tuple[tuple[float, ...], tuple[float, ...]]]:
    return [(tuple(a), tuple(b)) for a, b in zip(ring, ring[1:], strict=False)]


def _area(ring: list[list[float]]) -> float:
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:], strict=False)) / 2


def test_the_grids_of_a_community_tile_it_without_gaps_or_overlaps(site: Site) -> None:
    for community in site.communities():
        rings = [g.geometry.coordinates[0] for g in site.grids if g.community_id == community.id]
        assert all(_area(ring) > 0 for ring in rings), "rings run counter-clockwise"
        edges = Counter(edge for ring in rings for edge in _edges(ring))
        # Inside the community every edge is walked once each way by two neighbouring grids;
        # what is left is the community's outline, one closed loop.
        outline = {a: b for (a, b) in edges if (b, a) not in edges}
        assert all(count == 1 for count in edges.values())
        loop, point = [], next(iter(outline))
        while point not in loop:
            loop.append(point)
            point = outline[point]
        assert len(loop) == len(outline), f"{community.id} has a gap or a hole"
        # No overlaps: the grids' areas add up to the area inside the outline.
        enclosed = _area([list(p) for p in [*loop, loop[0]]])
        assert sum(_area(ring) for ring in rings) == pytest.approx(enclosed, rel=1e-9)


def test_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    first = generate_site(tmp_path / "a", seed=11, grids=20, devices=60)
    second = generate_site(tmp_path / "b", seed=11, grids=20, devices=60)
    assert first == second
    for path in sorted((tmp_path / "a").iterdir()):
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name
    generate_site(tmp_path / "c", seed=12, grids=20, devices=60)
    assert (tmp_path / "a" / "grids.geojson").read_bytes() != (
        tmp_path / "c" / "grids.geojson"
    ).read_bytes()


def test_the_committed_demo_site_is_what_the_generator_writes(tmp_path: Path) -> None:
    summary = generate_site(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in DEMO.iterdir())
    for path in sorted(tmp_path.iterdir()):
        assert path.read_bytes() == (DEMO / path.name).read_bytes(), (
            f"site/demo/{path.name} differs from the generator's output; "
            "run `gridwatch site generate site/demo` instead of editing it by hand"
        )
    assert summary["devices"] == 180 and summary["grids"] == 45


def test_a_large_site_is_generated_and_loaded_in_a_few_seconds(tmp_path: Path) -> None:
    started = clock.perf_counter()
    summary = generate_site(tmp_path, grids=500, devices=5000)
    big = load_site(tmp_path)
    elapsed = clock.perf_counter() - started
    assert elapsed < 15, f"took {elapsed:.1f} s"
    assert len(big.grids) == summary["grids"] == 500
    assert len(big.devices) == summary["devices"] == 5000
    assert {device.kind for device in big.devices} == set(DeviceKind)
    assert 8 <= len(big.streets) <= 15
    assert all(4 <= n <= 6 for n in Counter(g.community_id for g in big.grids).values())


def test_small_sites_still_have_every_device_kind(tmp_path: Path) -> None:
    generate_site(tmp_path, grids=3, devices=10)
    small = load_site(tmp_path)
    assert {device.kind for device in small.devices} == set(DeviceKind)
    with pytest.raises(ValueError, match="at least 10"):
        generate_site(tmp_path, devices=9)


def _count(conn: psycopg.Connection, table: str, column: str, ids: list[str]) -> int:
    query = f"SELECT count(*) AS n FROM {table} WHERE {column} = ANY(%s)"  # names are ours
    row = conn.execute(query, (ids,)).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return int(row["n"])


def test_storing_the_site_twice_writes_each_row_once(conn: psycopg.Connection, site: Site) -> None:
    first = store_site(conn, site)
    second = store_site(conn, site)
    assert first == second
    area_ids = [
        site.district.id,
        *(s.id for s in site.streets),
        *(c.id for c in site.communities()),
        *site.grid_ids(),
    ]
    assert first["areas"] == _count(conn, "areas", "id", area_ids) == len(area_ids)
    assert first["devices"] == _count(conn, "devices", "id", [d.id for d in site.devices])
    assert first["buildings"] == _count(conn, "buildings", "id", [b.id for b in site.buildings])
    people = [p.id for p in site.people]
    assert first["people"] == _count(conn, "people", "id", people)
    assert first["duty_shifts"] == _count(conn, "duty_roster", "person_id", people)
    assert first["duty_shifts"] == len(site.roster_rows())


def test_storing_the_site_records_its_time_zone_for_dispatch(
    conn: psycopg.Connection, site: Site
) -> None:
    store_site(conn, site)
    row = conn.execute(
        "SELECT id, name, timezone, district_id FROM sites WHERE id = %s", (site.id,)
    ).fetchone()
    assert row is not None
    assert (row["id"], row["timezone"]) == ("haichuan", "Asia/Shanghai")
    assert (row["name"], row["district_id"]) == (site.name, site.district.id)
    # Storing again after the folder changed zone updates the row rather than adding one.
    store_site(conn, site.model_copy(update={"timezone": "Asia/Urumqi"}))
    zones = conn.execute("SELECT timezone FROM sites WHERE id = %s", (site.id,)).fetchall()
    store_site(conn, site)
    assert [r["timezone"] for r in zones] == ["Asia/Urumqi"]


def test_stored_rows_keep_the_hierarchy_and_device_settings(
    conn: psycopg.Connection, site: Site
) -> None:
    store_site(conn, site)
    areas = {r["id"]: r for r in conn.execute("SELECT * FROM areas")}
    assert areas[site.district.id]["parent_id"] is None
    for street in site.streets:
        assert areas[street.id]["parent_id"] == site.district.id
        for community in street.communities:
            assert areas[community.id]["parent_id"] == street.id
            assert areas[community.id]["level"] == AreaLevel.COMMUNITY
    for grid in site.grids:
        row = areas[grid.id]
        assert (row["level"], row["parent_id"]) == ("grid", grid.community_id)
        assert row["geometry"]["type"] == "Polygon"
        assert row["center_lat"] == pytest.approx(grid.center_lat)
    camera = next(d for d in site.devices if d.kind is DeviceKind.FIRE_LANE_CAMERA)
    row = conn.execute("SELECT * FROM devices WHERE id = %s", (camera.id,)).fetchone()
    assert row is not None
    assert (row["site_id"], row["grid_id"], row["kind"]) == (site.id, camera.grid_id, camera.kind)
    assert row["config"]["alarm_device"] == camera.config.alarm_device  # type: ignore[attr-defined]
    assert row["config"]["zones"]["lane"] == [list(p) for p in camera.config.zones["lane"]]  # type: ignore[attr-defined]


def test_database_roster_rows_answer_like_the_site(conn: psycopg.Connection, site: Site) -> None:
    store_site(conn, site)
    grid_id = site.grid_ids()[0]
    rows = conn.execute(
        "SELECT person_id, grid_id, weekday, starts_at, ends_at FROM duty_roster"
        " WHERE grid_id = %s",
        (grid_id,),
    ).fetchall()
    for hour in range(0, 7 * 24, 5):
        when = MONDAY + timedelta(hours=hour)
        assert on_duty(rows, grid_id, when) == on_duty(site, grid_id, when)
