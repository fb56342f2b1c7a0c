"""The big screen's queries against the real database, and its pure layout pieces.

The database is shared by the whole test run, so every row here carries a `tdash-` id and
the assertions look at those rows (or at how the figures moved), never at whole totals.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from dash import Patch, no_update

from dashboard.app import create_app
from dashboard.board_queries import BoardOrder, GridEvent
from dashboard.components.alert_list import alert_row, alert_rows
from dashboard.components.boards import dispatch_rows, event_rows
from dashboard.components.charts import round_step, trend_figure
from dashboard.components.grid_map import MAP_STYLE_ASSET, grid_map_figure, map_patch
from dashboard.components.map_view import fit_view, grid_bounds
from dashboard.components.tiles import key_figures
from dashboard.labels import format_age
from dashboard.map_queries import MapDevice, MapGrid, MapLayout, MapState, OpenAlerts
from dashboard.pages.bigscreen import refresh_screen
from dashboard.queries import AlertRow, DashboardQueries, DeviceCounts, WorkOrderCounts
from gridwatch import db
from gridwatch.domain import Severity, WorkOrderState
from gridwatch.settings import Settings

NOW = datetime.now(UTC)


def _square(lon: float, lat: float, size: float = 0.004) -> dict:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass
class Site:
    """A district with one street, one community and three grids, each with devices."""

    prefix: str
    grids: list[str]
    devices: dict[str, list[str]]  # grid id -> its device ids

    def device(self, grid_index: int, device_index: int = 0) -> tuple[str, str]:
        grid = self.grids[grid_index]
        return self.devices[grid][device_index], grid


def insert_site(conn: psycopg.Connection, prefix: str, grid_count: int = 3) -> Site:
    conn.execute(
        "INSERT INTO areas (id, level, name) VALUES (%s, 'district', '测试区')", (f"{prefix}d",)
    )
    conn.execute(
        "INSERT INTO areas (id, level, parent_id, name) VALUES (%s, 'street', %s, '测试街道')",
        (f"{prefix}s", f"{prefix}d"),
    )
    conn.execute(
        "INSERT INTO areas (id, level, parent_id, name) VALUES (%s, 'community', %s, '测试社区')",
        (f"{prefix}c", f"{prefix}s"),
    )
    grids, devices = [], {}
    for i in range(grid_count):
        grid = f"{prefix}g{i}"
        lon, lat = 120.10 + 0.004 * i, 30.20
        conn.execute(
            "INSERT INTO areas (id, level, parent_id, name, geometry, center_lat, center_lon)"
            " VALUES (%s, 'grid', %s, %s, %s, %s, %s)",
            (grid, f"{prefix}c", f"测试第{i + 1}网格", json.dumps(_square(lon, lat)), lat, lon),
        )
        grids.append(grid)
        devices[grid] = []
        for k in range(2):
            device = f"{grid}-cam{k}"
            conn.execute(
                "INSERT INTO devices (id, site_id, grid_id, kind, name, lat, lon)"
                " VALUES (%s, 'test', %s, 'fire_lane_camera', %s, %s, %s)",
                (device, grid, f"消防通道摄像头 {i}-{k}", lat + 0.001, lon + 0.001 * (k + 1)),
            )
            devices[grid].append(device)
    conn.commit()
    return Site(prefix=prefix, grids=grids, devices=devices)


def insert_alert(
    conn: psycopg.Connection,
    device_and_grid: tuple[str, str],
    alert_type: str,
    severity: str,
    state: str = "active",
    first_seen: datetime | None = None,
    snapshot_path: str | None = None,
) -> int:
    device, grid = device_and_grid
    seen = first_seen or datetime.now(UTC)
    row = conn.execute(
        "INSERT INTO alerts (site_id, device_id, grid_id, type, severity, state, title,"
        " first_seen, last_seen, cleared_at, snapshot_path)"
        " VALUES ('test', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (
            device,
            grid,
            alert_type,
            severity,
            state,
            f"{alert_type} at {device}",
            seen,
            seen,
            seen if state == "cleared" else None,
            snapshot_path,
        ),
    ).fetchone()
    conn.commit()
    return row["id"]


@pytest.fixture()
def site(conn: psycopg.Connection) -> Site:
    return insert_site(conn, f"tdash-{uuid.uuid4().hex[:6]}-")


# ---- queries ---------------------------------------------------------------------------


def test_a_grid_is_coloured_by_its_worst_open_alert(
    conn: psycopg.Connection, site: Site, queries: DashboardQueries
) -> None:
    insert_alert(conn, site.device(0, 0), "threshold", "warning")
    insert_alert(conn, site.device(0, 0), "fire_lane_occupied", "major", state="acknowledged")
    insert_alert(conn, site.device(0, 1), "smoke", "critical", state="cleared")
    insert_alert(conn, site.device(1, 0), "smoke", "critical", state="cleared")

    snapshot = queries.map_snapshot()
    grids = {g.id: g for g in snapshot.layout.grids}
    state = snapshot.state.grids

    assert state[site.grids[0]].worst is Severity.MAJOR
    assert state[site.grids[0]].count == 2
    assert state[site.grids[0]].unacknowledged == 1
    assert grids[site.grids[0]].geometry == _square(120.10, 30.20)
    assert site.grids[1] not in state, "a cleared alert must not colour a grid"
    assert site.grids[2] not in state


def test_only_grids_are_on_the_map_not_their_parents(site: Site, queries: DashboardQueries) -> None:
    ids = {g.id for g in queries.map_layout().grids}
    assert set(site.grids) <= ids
    assert not {f"{site.prefix}d", f"{site.prefix}s", f"{site.prefix}c"} & ids


def test_the_map_layout_is_read_again_only_when_the_site_changes(
    conn: psycopg.Connection, site: Site, queries: DashboardQueries
) -> None:
    before = queries.map_layout()
    device, grid = site.device(0, 0)
    # Status and heartbeat writes are the busy ones; they must not invalidate the layout.
    conn.execute(
        "INSERT INTO device_status (device_id, online) VALUES (%s, false)"
        " ON CONFLICT (device_id) DO UPDATE SET online = false, last_seen = now()",
        (device,),
    )
    conn.commit()
    assert queries.map_layout() is before
    assert device in queries.map_snapshot().state.offline

    conn.execute("UPDATE devices SET lat = lat + 0.001 WHERE id = %s", (device,))
    conn.commit()
    moved = queries.map_layout()
    assert moved is not before and moved.version > before.version
    old_lat = next(d.lat for d in before.devices if d.id == device)
    assert next(d.lat for d in moved.devices if d.id == device) == pytest.approx(old_lat + 0.001)

    added = insert_site(conn, f"tdash-{uuid.uuid4().hex[:6]}-")
    assert set(added.grids) <= {g.id for g in queries.map_layout().grids}


def test_cleared_alerts_are_not_counted_as_open(
    conn: psycopg.Connection, site: Site, queries: DashboardQueries
) -> None:
    before = queries.open_alert_counts()
    insert_alert(conn, site.device(0, 0), "smoke", "critical")
    insert_alert(conn, site.device(0, 1), "smoke", "critical", state="acknowledged")
    insert_alert(conn, site.device(1, 0), "smoke", "critical", state="cleared")
    insert_alert(conn, site.device(1, 1), "threshold", "minor")

    after = queries.open_alert_counts()

    assert after[Severity.CRITICAL] - before[Severity.CRITICAL] == 2
    assert after[Severity.MINOR] - before[Severity.MINOR] == 1
    assert after[Severity.MAJOR] == before[Severity.MAJOR]
    assert set(after) == set(Severity)


def test_latest_alerts_come_newest_first_with_grid_and_device_names(
    conn: psycopg.Connection, site: Site, queries: DashboardQueries
) -> None:
    now = datetime.now(UTC)
    oldest = insert_alert(
        conn, site.device(0), "smoke", "critical", first_seen=now - timedelta(minutes=9)
    )
    newest = insert_alert(
        conn,
        site.device(1),
        "falling_object",
        "critical",
        first_seen=now - timedelta(seconds=5),
        snapshot_path="evidence/x.jpg",
    )
    middle = insert_alert(
        conn,
        site.device(2),
        "threshold",
        "minor",
        state="cleared",
        first_seen=now - timedelta(minutes=3),
    )

    alerts = queries.latest_alerts(limit=30)

    mine = [a.id for a in alerts if a.id in {oldest, newest, middle}]
    # Open alerts are pinned above cleared ones, each part newest first.
    assert mine == [newest, oldest, middle]
    open_part = [a.first_seen for a in alerts if a.state != "cleared"]
    assert open_part == sorted(open_part, reverse=True)
    states = [a.state == "cleared" for a in alerts]
    assert states == sorted(states)
    first = next(a for a in alerts if a.id == newest)
    assert first.grid_name == "测试第2网格"
    assert first.device_name == "消防通道摄像头 1-0"
    assert first.severity is Severity.CRITICAL
    assert first.snapshot_path == "evidence/x.jpg"
    assert next(a for a in alerts if a.id == middle).state == "cleared"


def test_work_orders_are_counted_by_state_and_late_ones_as_overdue(
    conn: psycopg.Connection, site: Site, queries: DashboardQueries
) -> None:
    before = queries.work_order_counts()
    now = datetime.now(UTC)
    orders = [
        ("reported", now - timedelta(minutes=1), now + timedelta(hours=1)),  # accept is late
        ("in_progress", now + timedelta(minutes=5), now - timedelta(minutes=1)),  # resolve late
        ("in_progress", now + timedelta(minutes=5), now + timedelta(hours=1)),
        ("resolved", now - timedelta(hours=2), now - timedelta(hours=1)),  # done: not overdue
        ("closed", None, None),
    ]
    for state, accept_due, resolve_due in orders:
        conn.execute(
            "INSERT INTO work_orders (source, grid_id, type, severity, title, state,"
            " accept_due, resolve_due) VALUES ('patrol', %s, 'fire_lane_occupied', 'major',"
            " 'tdash order', %s, %s, %s)",
            (site.grids[0], state, accept_due, resolve_due),
        )
    conn.commit()

    after = queries.work_order_counts()

    def moved(state: WorkOrderState) -> int:
        return after.by_state[state] - before.by_state[state]

    assert moved(WorkOrderState.REPORTED) == 1
    assert moved(WorkOrderState.IN_PROGRESS) == 2
    assert moved(WorkOrderState.RESOLVED) == 1
    assert moved(WorkOrderState.CLOSED) == 1
    assert after.overdue - before.overdue == 2


def test_devices_are_counted_online_offline_and_never_heard_from(
    conn: psycopg.Connection, site: Site, queries: DashboardQueries
) -> None:
    before = queries.device_counts()
    extra = [f"{site.prefix}sensor{i}" for i in range(4)]
    for device in extra:
        conn.execute(
            "INSERT INTO devices (id, site_id, grid_id, kind, name)"
            " VALUES (%s, 'test', %s, 'smoke_detector', 'smoke')",
            (device, site.grids[0]),
        )
    conn.execute("INSERT INTO device_status (device_id, online) VALUES (%s, true)", (extra[0],))
    conn.execute("INSERT INTO device_status (device_id, online) VALUES (%s, true)", (extra[1],))
    conn.execute("INSERT INTO device_status (device_id, online) VALUES (%s, false)", (extra[2],))
    conn.commit()

    after = queries.device_counts()

    assert after.online - before.online == 2
    assert after.offline - before.offline == 1
    # extra[3] never reported a status (the site's cameras were there before).
    assert after.unknown - before.unknown == 1
    assert after.total - before.total == 4


def test_big_screen_snapshot_has_the_map_markers_and_the_list(
    conn: psycopg.Connection, site: Site, queries: DashboardQueries
) -> None:
    alert_id = insert_alert(conn, site.device(2, 1), "socket_overheat", "major")

    data = queries.big_screen(alert_limit=30)

    assert set(site.grids) <= {g.id for g in data.map.layout.grids}
    markers = data.map.state.alert_markers(data.map.layout)
    marker = next(m for m in markers if m.device_id == site.device(2, 1)[0])
    assert marker.worst_severity is Severity.MAJOR and marker.grid_name == "测试第3网格"
    assert marker.unacknowledged == 1
    assert alert_id in {a.id for a in data.alerts}
    assert data.open_alerts[Severity.MAJOR] >= 1
    assert abs(data.read_at - datetime.now(UTC)) < timedelta(minutes=1)


# ---- refresh, with the database there and not ----------------------------------------------


def apply_patch(figure: dict, patch: Patch) -> dict:
    """What the browser holds after applying patch to figure (assignments only)."""
    result = copy.deepcopy(figure)
    for step in patch.to_plotly_json()["operations"]:
        assert step["operation"] == "Assign", step
        *path, last = step["location"]
        holder = result
        for key in path:
            holder = holder[key]
        holder[last] = step["params"]["value"]
    return result


def _trace(figure: dict, name: str) -> dict:
    return next(t for t in figure["data"] if t["name"] == name)


def test_a_refresh_sends_the_whole_map_once_then_only_what_changed(
    conn: psycopg.Connection, site: Site, queries: DashboardQueries
) -> None:
    first = refresh_screen(queries, None, None, [1200, 700], "/assets/style.json")
    assert isinstance(first.figure, dict)
    assert first.figure["layout"]["map"]["style"] == "/assets/style.json"
    assert set(site.grids) <= set(first.figure["data"][0]["locations"])
    assert first.status_class == "status-ok"

    unchanged = refresh_screen(queries, first.signature, first.last_read, [1200, 700])
    assert unchanged.figure is no_update
    assert unchanged.alerts and unchanged.tiles, "a browser that says nothing gets the lists"
    held = refresh_screen(
        queries, first.signature, first.last_read, [1200, 700], shown_panels=first.shown_panels
    )
    assert held.alerts is no_update and held.tiles is no_update, "unchanged lists stay put"

    device, grid = site.device(1)
    insert_alert(conn, (device, grid), "smoke", "critical")
    changed = refresh_screen(
        queries, first.signature, first.last_read, [1200, 700], shown_panels=first.shown_panels
    )
    assert isinstance(changed.figure, Patch), "new alerts travel as a patch, not a new map"
    assert changed.alerts is not no_update and changed.tiles is not no_update
    # Applied to what the browser holds, the patch colours the grid and marks the device.
    shown = apply_patch(first.figure, changed.figure)
    grids = shown["data"][0]
    assert grids["z"][grids["locations"].index(grid)] == Severity.CRITICAL.rank
    alerting = _trace(shown, "alert-devices")["customdata"]
    assert any(row[1] == "测试第2网格" and row[2] == 1 for row in alerting)
    assert _trace(shown, "new-alerts")["lat"], "an unacknowledged alert is ringed"

    resized = refresh_screen(queries, changed.signature, changed.last_read, [900, 500])
    assert isinstance(resized.figure, Patch)
    view = apply_patch(shown, resized.figure)["layout"]
    assert view["map"]["zoom"] < shown["layout"]["map"]["zoom"], "a smaller panel zooms out"

    insert_site(conn, f"tdash-{uuid.uuid4().hex[:6]}-")
    edited = refresh_screen(queries, resized.signature, resized.last_read, [900, 500])
    assert isinstance(edited.figure, dict), "an edited site redraws the whole map"


def test_when_the_database_is_unreachable_the_screen_keeps_its_figures_and_says_so() -> None:
    unreachable = DashboardQueries.connect(
        "postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=1", timeout_s=0.5
    )
    try:
        update = refresh_screen(unreachable, "shown", "21:04:05")
    finally:
        unreachable.close()
    assert update.figure is no_update and update.alerts is no_update
    assert update.tiles is no_update and update.last_read is no_update
    assert update.status_class == "status-error"
    assert "21:04:05" in update.status


# ---- pure pieces ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "just now"),
        (20, "just now"),
        (180, "3 min ago"),
        (3600, "1 h ago"),
        (3 * 3600 + 120, "3 h 2 min ago"),
        (3 * 86400, "3 d ago"),
    ],
)
def test_age_reads_at_a_glance(seconds: int, text: str) -> None:
    assert format_age(NOW - timedelta(seconds=seconds), NOW) == text


def _layout(*grids: tuple[str, dict | None]) -> MapLayout:
    placed = tuple(MapGrid(g, f"name {g}", geometry, 30.0, 120.0) for g, geometry in grids)
    devices = (
        MapDevice("cam-1", "camera 1", "name a", "fire_lane_camera", 30.001, 120.001),
        MapDevice("cam-2", "camera 2", "name b", "fire_lane_camera", 30.002, 120.005),
        MapDevice("smk-1", "smoke 1", "name b", "smoke_detector", 30.002, 120.006),
    )
    return MapLayout(1, placed, devices, grid_bounds(placed))


def test_map_lists_every_grid_and_colours_by_severity_rank() -> None:
    layout = _layout(
        ("a", _square(120.0, 30.0)),
        ("b", _square(120.004, 30.0)),
        ("c", None),  # no polygon yet: still listed
    )
    state = MapState(
        grids={"a": OpenAlerts(1, Severity.CRITICAL), "c": OpenAlerts(2, Severity.WARNING)},
        devices={"cam-2": OpenAlerts(1, Severity.CRITICAL, unacknowledged=1)},
        offline=frozenset({"smk-1"}),
    )
    figure = grid_map_figure(layout, state)
    trace = figure["data"][0]
    assert trace["type"] == "choroplethmap"
    assert trace["locations"] == ["a", "b", "c"]
    assert trace["z"] == [4, 0, 1]
    assert [f["properties"]["id"] for f in trace["geojson"]["features"]] == ["a", "b"]
    assert trace["featureidkey"] == "properties.id"
    # One dot trace per kind, one colour each; offline devices ringed in grey over them, and
    # no kind's dot is that grey.
    assert _trace(figure, "devices-fire_lane_camera")["hovertext"] == ["camera 1", "camera 2"]
    assert _trace(figure, "devices-offline")["hovertext"] == ["smoke 1"]
    offline_grey = _trace(figure, "devices-offline")["marker"]["color"]
    kind_colors = [t["marker"]["color"] for t in figure["data"] if t["name"].startswith("devices-")]
    assert kind_colors.count(offline_grey) == 1
    assert _trace(figure, "alert-devices")["lat"] == [30.002]
    assert _trace(figure, "new-alerts")["lat"] == [30.002]


def test_a_map_patch_is_the_figure_the_new_state_would_draw() -> None:
    layout = _layout(("a", _square(120.0, 30.0)), ("b", _square(120.004, 30.0)))
    calm = MapState()
    busy = MapState(
        grids={"b": OpenAlerts(1, Severity.MAJOR)},
        devices={"smk-1": OpenAlerts(1, Severity.MAJOR)},
        offline=frozenset({"cam-1"}),
    )
    shown = grid_map_figure(layout, calm)
    patched = apply_patch(shown, map_patch(layout, busy))
    assert patched == grid_map_figure(layout, busy)
    # Only the parts that changed travel: here the offline dots alone.
    only_offline = map_patch(layout, busy, ["offline"]).to_plotly_json()["operations"]
    assert [step["location"] for step in only_offline] == [["data", 3], ["data", 4]]


def test_map_view_fits_the_grids_in_the_panel() -> None:
    grids = _layout(("a", _square(120.0, 30.0, 0.02)), ("b", _square(120.05, 30.01))).grids
    bounds = grid_bounds(grids)
    assert bounds is not None
    assert (bounds.min_lon, bounds.max_lon) == (120.0, 120.054)
    view = fit_view(bounds, 1000, 600)
    assert bounds.min_lon < view.center_lon < bounds.max_lon
    assert bounds.min_lat < view.center_lat < bounds.max_lat
    # At the chosen zoom the box's width takes at most the panel's width.
    width_px = (bounds.max_lon - bounds.min_lon) / 360 * 512 * 2**view.zoom
    assert 0.8 * 1000 < width_px <= 1000
    assert fit_view(bounds, 2000, 1200).zoom == pytest.approx(view.zoom + 1, abs=0.01)
    assert fit_view(None).zoom < 5


def _alert_row(alert_id: int, severity: Severity, minutes_ago: int, state: str) -> AlertRow:
    seen = NOW - timedelta(minutes=minutes_ago)
    return AlertRow(
        id=alert_id,
        type="fire_lane_occupied",
        severity=severity,
        state=state,
        title="car in the fire lane",
        first_seen=seen,
        last_seen=seen,
        occurrences=3,
        grid_id="g",
        grid_name="望江社区第1网格",
        device_id="d",
        device_name="消防通道摄像头 1",
        snapshot_path="evidence/a.jpg",
    )


def test_an_alert_row_shows_what_where_how_long_ago_and_its_state() -> None:
    row = alert_row(_alert_row(42, Severity.MAJOR, 3, "active"), NOW, "zh")
    assert (row["id"], row["severity"], row["state"]) == (42, "major", "active")
    shown = json.dumps(row, ensure_ascii=False)
    for expected in (
        "消防通道占用",
        "望江社区第1网格",
        "消防通道摄像头 1",
        "3分钟前",
        "未处理",
        "×3",
    ):
        assert expected in shown
    assert row["thumb"] == "/evidence/evidence/a.jpg"
    assert alert_rows([], NOW) == {"rows": [], "empty": "暂无告警"}
    assert alert_rows([], NOW, "en")["empty"] == "No alerts"


def test_key_figures_show_open_alerts_work_order_stages_and_devices() -> None:
    W = WorkOrderState
    tiles = key_figures(
        {Severity.CRITICAL: 2, Severity.MAJOR: 0, Severity.MINOR: 1, Severity.WARNING: 5},
        WorkOrderCounts(by_state={W.REPORTED: 4, W.DISPATCHED: 1, W.IN_PROGRESS: 2}, overdue=1),
        DeviceCounts(online=120, offline=3, unknown=2),
    )
    values = {}
    for group in tiles:
        for tile in group.children[1].children:
            values[tile.id] = "".join(
                part if isinstance(part, str) else part.children
                for part in tile.children[0].children
            )
    assert values["tile-alerts-critical"] == "2"
    assert values["tile-orders-reported"] == "4"
    assert values["tile-orders-handling"] == "3"
    assert values["tile-orders-overdue"] == "1"
    assert values["tile-devices-online"] == "120/125"


# ---- the app ----------------------------------------------------------------------------


def test_app_serves_the_page_and_the_offline_map_style(settings: Settings) -> None:
    app = create_app(settings)
    try:
        client = app.server.test_client()
        page = client.get("/")
        assert page.status_code == 200 and "GridWatch" in page.get_data(as_text=True)
        style = client.get(f"/assets/{MAP_STYLE_ASSET}")
        assert style.status_code == 200
        layers = json.loads(style.get_data(as_text=True))["layers"]
        assert [layer["type"] for layer in layers] == ["background"]
    finally:
        app.server.extensions["gridwatch_queries"].close()


def test_the_screen_version_moves_when_an_alert_change_is_announced(
    settings: Settings, conn: psycopg.Connection
) -> None:
    app = create_app(settings)
    try:
        client = app.server.test_client()
        assert client.get("/assets/screen_watch.js").status_code == 200

        def version() -> int:
            return int(client.get("/screen/version").get_json()["version"])

        deadline = time.monotonic() + 15
        while version() == 0 and time.monotonic() < deadline:  # the listener connects
            time.sleep(0.05)
        before = version()
        assert before > 0, "the listener never connected"
        conn.execute("SELECT pg_notify(%s, 'raised:0')", (db.ALERTS_CHANNEL,))
        conn.commit()
        while version() == before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert version() > before
    finally:
        app.server.extensions["gridwatch_queries"].close()


def test_a_waiting_screen_hears_an_alert_change_at_once_not_at_its_next_poll(
    settings: Settings, conn: psycopg.Connection
) -> None:
    app = create_app(settings)
    try:
        client = app.server.test_client()
        deadline = time.monotonic() + 15
        while client.get("/screen/version").get_json()["version"] == 0:  # listener connects
            assert time.monotonic() < deadline, "the listener never connected"
            time.sleep(0.05)
        seen = client.get("/screen/version").get_json()["version"]
        answer: list[tuple[int, float]] = []

        def wait_for_change() -> None:
            version = client.get(f"/screen/version?after={seen}").get_json()["version"]
            answer.append((version, time.monotonic()))

        waiter = threading.Thread(target=wait_for_change)
        waiter.start()
        time.sleep(0.5)
        assert not answer, "nothing changed: the answer waits"
        announced = time.monotonic()
        conn.execute("SELECT pg_notify(%s, 'raised:0')", (db.ALERTS_CHANNEL,))
        conn.commit()
        waiter.join(timeout=10)
        assert answer, "the change was never heard"
        version, answered = answer[0]
        assert version > seen
        assert answered - announced < 2.0, "answered as soon as the NOTIFY arrived"
    finally:
        app.server.extensions["gridwatch_queries"].close()


def test_board_and_event_rows_say_who_how_long_and_where_it_came_from() -> None:
    order = BoardOrder(
        id=5,
        title="t",
        type="fire_lane_occupied",
        severity="major",
        state="reported",
        source="alert",
        grid_name="望江社区第1网格",
        assignee=None,
        created_at=NOW - timedelta(minutes=61),
        overdue=True,
        escalated=False,
    )
    board = dispatch_rows([order], NOW, "zh")["rows"][0]
    assert (board["id"], board["overdue"], board["state_text"]) == (5, True, "待受理")
    assert (board["who"], board["waited"]) == ("未派人", "1小时 1分钟")
    assert board["type_text"] == "消防通道占用" and board["grid"] == "望江社区第1网格"
    event = GridEvent(
        kind="resident",
        ref_id=9,
        type="fire_lane_occupied",
        title="car in the lane",
        severity="minor",
        state="reported",
        time=NOW - timedelta(minutes=3),
        grid_id="g",
        grid_name="望江社区第1网格",
        community_id=None,
    )
    feed = event_rows([event], NOW, "en")["rows"][0]
    assert (feed["key"], feed["source_text"], feed["age"]) == (
        "resident-9",
        "Resident report",
        "3 min ago",
    )
    assert dispatch_rows([], NOW, "en") == {"rows": [], "empty": "No open work orders"}


def test_the_trend_spans_24_hours_in_hour_wide_bars_and_says_so_when_quiet() -> None:
    quiet = trend_figure([], "zh", NOW)
    assert not quiet.data
    assert [a.text for a in quiet.layout.annotations] == ["近24小时无告警"]
    assert quiet.layout.xaxis.visible is False, "no bare axes on an empty chart"

    hour = NOW.replace(minute=0, second=0, microsecond=0)
    busy = trend_figure([(hour, "smoke", 1), (hour - timedelta(hours=3), "smoke", 2)], "en", NOW)
    (bars,) = busy.data
    assert list(bars.y) == [1, 2] and bars.width == 3_600_000 * 0.85
    start, end = (datetime.fromisoformat(str(x)) for x in busy.layout.xaxis.range)
    assert end - start == timedelta(hours=24)
    assert busy.layout.yaxis.dtick == 1, "whole alerts on the axis, not 0.5"
    assert [round_step(n) for n in (4, 11, 44, 250)] == [1, 5, 10, 50]


def test_app_refuses_to_start_without_a_database(settings: Settings) -> None:
    with pytest.raises(ValueError, match="GRIDWATCH_DATABASE_URL"):
        create_app(settings.model_copy(update={"database_url": None}))
