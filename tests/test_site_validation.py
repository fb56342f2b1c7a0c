"""A broken site folder fails at load with the file, the line or feature, the id and the reason."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gridwatch.settings import PROJECT_ROOT
from gridwatch.site import SiteError, load_site

DEMO = PROJECT_ROOT / "site" / "demo"


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "site"
    shutil.copytree(DEMO, target)
    return target


def _replace(path: Path, old: str, new: str) -> int:
    """Replace the first `old` in the file; return the 1-based line it was on."""
    text = path.read_text(encoding="utf-8")
    at = text.index(old)
    path.write_text(text[:at] + new + text[at + len(old) :], encoding="utf-8")
    return text.count("\n", 0, at) + 1


def _line_of(path: Path, text: str) -> int:
    return path.read_text(encoding="utf-8").splitlines().index(text) + 1


def _fails(folder: Path, *parts: str) -> str:
    with pytest.raises(SiteError) as caught:
        load_site(folder)
    message = str(caught.value)
    for part in parts:
        assert part in message, f"{part!r} missing from: {message}"
    return message


def _edit_grids(folder: Path, change: Callable[[list[dict[str, Any]]], None]) -> None:
    path = folder / "grids.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data["features"])
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_a_building_in_an_unknown_grid(folder: Path) -> None:
    line = _replace(folder / "buildings.yaml", "grid_id: g-010102", "grid_id: g-999999")
    _fails(folder, f"buildings.yaml line {line}", "'b-010102-01'", "'g-999999' is not a grid")


def test_a_device_in_an_unknown_grid(folder: Path) -> None:
    path = folder / "devices.yaml"
    line = _line_of(path, "  - id: fl-010102-1") + 2
    _replace(path, "    grid_id: g-010102", "    grid_id: g-999999")
    _fails(folder, f"devices.yaml line {line}", "(device 'fl-010102-1')", "'g-999999'")


def test_an_alarm_that_does_not_exist(folder: Path) -> None:
    line = _replace(
        folder / "devices.yaml", "alarm_device: alarm-010101-1", "alarm_device: alarm-9999"
    )
    message = _fails(folder, f"devices.yaml line {line} (device 'fl-010101-1')", "'alarm-9999'")
    assert "config.alarm_device 'alarm-9999' does not exist" in message


def test_an_alarm_that_is_not_a_sound_light_alarm(folder: Path) -> None:
    _replace(folder / "devices.yaml", "alarm_device: alarm-010101-1", "alarm_device: fl-010102-1")
    _fails(folder, "(device 'fl-010101-1')", "is a fire_lane_camera, not a sound_light_alarm")


def test_a_duplicate_device_id(folder: Path) -> None:
    path = folder / "devices.yaml"
    first = _line_of(path, "  - id: fl-010102-1")
    line = _replace(path, "  - id: alarm-010102-1", "  - id: fl-010102-1")
    _fails(folder, f"devices.yaml line {line}", "duplicate id 'fl-010102-1'", f"line {first}")


def test_a_duplicate_grid_id(folder: Path) -> None:
    def duplicate(features: list[dict]) -> None:
        features[1]["properties"]["id"] = features[1]["id"] = features[0]["id"]

    _edit_grids(folder, duplicate)
    _fails(folder, "grids.geojson features[1] (grid 'g-010101')", "duplicate id", "features[0]")


def test_a_ring_that_is_not_closed(folder: Path) -> None:
    def open_ring(features: list[dict]) -> None:
        features[3]["geometry"]["coordinates"][0][-1][0] += 0.001

    _edit_grids(folder, open_ring)
    _fails(folder, "grids.geojson features[3] (grid 'g-010104')", "is not closed")


def test_a_ring_that_crosses_itself(folder: Path) -> None:
    def bow_tie(features: list[dict]) -> None:
        ring = features[2]["geometry"]["coordinates"][0]
        ring[1], ring[5] = ring[5], ring[1]

    _edit_grids(folder, bow_tie)
    _fails(folder, "features[2] (grid 'g-010103')", "crosses itself")


def test_a_ring_with_too_few_positions_or_a_latitude_out_of_range(folder: Path) -> None:
    def break_two(features: list[dict]) -> None:
        ring = features[0]["geometry"]["coordinates"][0]
        features[0]["geometry"]["coordinates"][0] = [ring[0], ring[1], ring[0]]
        features[5]["geometry"]["coordinates"][0][2][1] = 95.0

    _edit_grids(folder, break_two)
    _fails(
        folder,
        "features[0] (grid 'g-010101')",
        "at least 4",
        "features[5]",
        "latitude 95.0 is outside -90..90",
    )


def test_a_lane_zone_outside_the_picture(folder: Path) -> None:
    line = _replace(folder / "devices.yaml", "lane: [[0.0,", "lane: [[1.5,")
    _fails(
        folder,
        f"devices.yaml line {line} (device 'fl-010101-1')",
        "config.zones.lane",
        "(1.5, ",
        "outside the picture",
    )


def test_floor_lines_out_of_order(folder: Path) -> None:
    path = folder / "devices.yaml"
    line = _replace(path, "- {floor: 2,", "- {floor: 0,")
    device = path.read_text(encoding="utf-8").splitlines()[:line]
    device_id = next(x for x in reversed(device) if x.startswith("  - id: ")).split(": ")[1]
    _fails(folder, f"(device '{device_id}')", "config.floor_lines", "floors ascending")


def test_malformed_yaml(folder: Path) -> None:
    line = _replace(folder / "devices.yaml", "lane: [[0.0,", "lane: [[0.0,,")
    _fails(folder, f"devices.yaml line {line}", "not valid YAML")


def test_malformed_geojson(folder: Path) -> None:
    path = folder / "grids.geojson"
    path.write_text(path.read_text(encoding="utf-8").replace("]]]}},\n", "]]]},\n", 1))
    _fails(folder, "grids.geojson line 3", "not valid JSON")


def test_an_unknown_device_kind_and_an_unknown_field(folder: Path) -> None:
    path = folder / "devices.yaml"
    kind_line = _replace(path, "kind: hydrant_pressure", "kind: water_meter")
    field_line = _replace(path, "    lat: ", "    latitude: ")
    _fails(
        folder,
        f"devices.yaml line {kind_line}",
        "'water_meter' is not a device kind",
        f"devices.yaml line {field_line} (device 'fl-010101-1'): latitude is not a known field",
        "lat is required but missing",
    )


def test_an_id_that_cannot_be_a_topic_segment(folder: Path) -> None:
    line = _replace(folder / "devices.yaml", "  - id: fl-010101-1", "  - id: fl/010101/1")
    _fails(folder, f"devices.yaml line {line}", "'fl/010101/1' is not a valid topic segment")


def test_an_unquoted_shift_time(folder: Path) -> None:
    line = _replace(folder / "people.yaml", 'starts_at: "20:00"', "starts_at: 20:00")
    _fails(folder, f"people.yaml line {line} (person ", "roster[", "write times in quotes")


def test_a_roster_in_an_unknown_grid_and_a_worker_outside_any_grid(folder: Path) -> None:
    path = folder / "people.yaml"
    _replace(path, "grid_ids: [g-010101]", "grid_ids: [g-0000]")
    _replace(path, "area_id: g-010101", "area_id: c-0101")
    message = _fails(
        folder,
        "people.yaml line",
        "'g-0000' is not a grid",
        "a grid_worker belongs to a grid; 'c-0101' is not one",
    )
    assert message.startswith("2 problems")


def test_a_missing_file(folder: Path) -> None:
    (folder / "people.yaml").unlink()
    _fails(folder, "people.yaml: missing from the site folder")


def test_a_key_written_twice(folder: Path) -> None:
    path = folder / "devices.yaml"
    line = _line_of(path, "  - id: fl-010101-1") + 4
    _replace(path, "    lat: ", "    lon: 106.8\n    lat: ")
    _fails(folder, f"devices.yaml line {line + 2}: key 'lon' appears twice")
