"""The big screen's side panels and click-through reads against the real database.

Rows carry a `tpan-` id so the assertions look at their own rows in the shared database.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import plotly.utils
import psycopg
import pytest

from dashboard.components.details import alert_detail_panel, clip_path
from dashboard.evidence_route import register_evidence_route
from dashboard.labels import LANGUAGES, TEXT, t
from dashboard.queries import DashboardQueries
from dashboard.shared_reads import SharedReads
from tests.test_dashboard import Site, insert_alert, insert_site


@pytest.fixture()
def site(conn: psycopg.Connection) -> Site:
    return insert_site(conn, f"tpan-{uuid.uuid4().hex[:6]}-")


def _order(conn: psycopg.Connection, grid: str, state: str, created_ago: timedelta, **due) -> int:
    now = datetime.now(UTC)
    row = conn.execute(
        "INSERT INTO work_orders (source, grid_id, type, severity, title, state, created_at,"
        " accept_due, resolve_due) VALUES (%s, %s, 'fire_lane_occupied', 'major', 'tpan',"
        " %s, %s, %s, %s) RETURNING id",
        (
            due.get("source", "patrol"),
            grid,
            state,
            now - created_ago,
            due.get("accept_due", now + timedelta(hours=1)),
            due.get("resolve_due", now + timedelta(hours=4)),
        ),
    ).fetchone()
    conn.commit()
    return row["id"]


def test_the_dispatch_board_puts_overdue_orders_first_then_the_longest_waiting(
    conn: psycopg.Connection, site: Site, queries: DashboardQueries
) -> None:
    now = datetime.now(UTC)
    old = _order(conn, site.grids[0], "dispatched", timedelta(hours=3))
    late = _order(
        conn, site.grids[1], "in_progress", timedelta(minutes=5), resolve_due=now - timedelta(1)
    )
    done = _order(conn, site.grids[2], "resolved", timedelta(hours=9))

    board = queries.dispatch_board(limit=5000)

    ids = [o.id for o in board]
    assert done not in ids, "a resolved order is no longer on the board"
    assert ids.index(late) < ids.index(old)
    assert next(o for o in board if o.id == late).overdue
    flags = [o.overdue for o in board]
    assert flags == sorted(flags, reverse=True)


def test_grid_events_mix_reports_with_alerts_and_filter_by_grid_and_community(
    conn: psycopg.Connection, site: Site, queries: DashboardQueries
) -> None:
    other = insert_site(conn, f"tpan-{uuid.uuid4().hex[:6]}-")
    alert = insert_alert(conn, site.device(0), "smoke", "critical")
    report = _order(conn, site.grids[0], "reported", timedelta(0), source="resident")
    _order(conn, site.grids[1], "reported", timedelta(0), source="patrol")
    elsewhere = insert_alert(conn, other.device(0), "smoke", "critical")

    in_grid = queries.grid_events(grid_id=site.grids[0])
    in_community = queries.grid_events(community_id=f"{site.prefix}c")

    assert {(e.kind, e.ref_id) for e in in_grid} == {("alert", alert), ("resident", report)}
    kinds = {e.kind for e in in_community}
    assert kinds == {"alert", "resident", "patrol"}
    assert elsewhere not in {e.ref_id for e in in_community if e.kind == "alert"}


def test_shed_sensor_curves_cover_ten_minutes_either_side_of_the_alert(
    conn: psycopg.Connection, site: Site, queries: DashboardQueries
) -> None:
    grid = site.grids[0]
    camera, socket = f"{site.prefix}shedcam", f"{site.prefix}socket"
    conn.execute(
        "INSERT INTO devices (id, site_id, grid_id, kind, name, config) VALUES"
        " (%s, 'test', %s, 'shed_camera', 'shed cam', %s),"
        " (%s, 'test', %s, 'charging_socket', 'socket', %s)",
        (camera, grid, json.dumps({"sockets": [socket]}), socket, grid,
         json.dumps({"shed_camera": camera})),
    )  # fmt: skip
    moment = datetime.now(UTC) - timedelta(minutes=30)
    for minutes in (-15, -9, 0, 9, 15):
        conn.execute(
            "INSERT INTO telemetry (time, device_id, metric, value, unit)"
            " VALUES (%s, %s, 'temperature', %s, 'C')",
            (moment + timedelta(minutes=minutes), socket, 40 + minutes),
        )
    conn.commit()
    alert = insert_alert(conn, (camera, grid), "shed_fire", "critical", first_seen=moment)

    detail = queries.alert_detail(alert)

    assert detail is not None and detail.device_kind == "shed_camera"
    (series,) = detail.sensors
    assert (series.device_id, series.metric, series.unit) == (socket, "temperature", "C")
    assert series.values == [31, 40, 49], "only readings within ±10 min of the alert"


def _evidence_row(conn: psycopg.Connection, alert: int, kind: str, path: str, **extra) -> str:
    sha = hashlib.sha256(path.encode()).hexdigest()
    conn.execute(
        "INSERT INTO evidence (alert_id, kind, path, sha256, media_type, size_bytes,"
        " frame_ts_first, frame_ts_last, frames, created_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, now() + %s)",
        (
            alert,
            kind,
            path,
            sha,
            "video/webm" if kind == "clip" else "image/jpeg",
            extra.get("size", 48_000),
            extra.get("first"),
            extra.get("last"),
            extra.get("frames", 1),
            extra.get("later", timedelta(0)),
        ),
    )
    conn.commit()
    return sha


def test_alert_detail_plays_the_newest_clip_and_lists_every_file_with_its_hash(
    conn: psycopg.Connection, site: Site, queries: DashboardQueries
) -> None:
    alert = insert_alert(
        conn, site.device(0), "falling_object", "critical", snapshot_path="1/snapshot-1.jpg"
    )
    snapshot = _evidence_row(conn, alert, "snapshot", f"{alert}/snapshot-1.jpg")
    _evidence_row(conn, alert, "clip", f"{alert}/clip-1000.webm", first=1.0, last=7.2, frames=62)
    newest = _evidence_row(
        conn,
        alert,
        "clip",
        f"{alert}/clip-9000.webm",
        first=9.0,
        last=13.0,
        frames=40,
        size=1_300_000,
        later=timedelta(seconds=5),
    )

    detail = queries.alert_detail(alert)

    assert detail is not None
    assert [e.kind for e in detail.evidence] == ["snapshot", "clip", "clip"]
    assert detail.clips[0].path == f"{alert}/clip-9000.webm"
    assert detail.clips[1].seconds == pytest.approx(6.2)
    panel = json.dumps(
        alert_detail_panel(detail, datetime.now(UTC), "en"),
        cls=plotly.utils.PlotlyJSONEncoder,
        ensure_ascii=False,
    )
    assert f"/evidence/{alert}/clip-9000.webm" in panel, "the newest clip plays"
    assert snapshot in panel and newest in panel, "every file shows its SHA-256"
    assert "4.0 s · 40 frames · 1.3 MB" in panel


def test_grid_detail_names_the_worker_on_duty_now_and_the_open_orders(
    conn: psycopg.Connection, site: Site, queries: DashboardQueries
) -> None:
    grid = site.grids[2]
    worker = f"{site.prefix}w"
    conn.execute(
        "INSERT INTO people (id, name, role, area_id) VALUES (%s, '值班员甲', 'grid_worker', %s)",
        (worker, grid),
    )
    for day in range(1, 8):  # on duty all week, all day: "now" is whenever the test runs
        conn.execute(
            "INSERT INTO duty_roster (person_id, grid_id, weekday, starts_at, ends_at)"
            " VALUES (%s, %s, %s, '00:00', '23:59:59')",
            (worker, grid, day),
        )
    conn.commit()
    order = _order(conn, grid, "dispatched", timedelta(minutes=20))
    _order(conn, grid, "closed", timedelta(hours=2))
    insert_alert(conn, site.device(2), "smoke", "critical")

    detail = queries.grid_detail(grid)

    assert detail is not None
    assert detail.on_duty == ["值班员甲"]
    assert [o[0] for o in detail.open_orders] == [order]
    assert detail.open_alerts == 1 and detail.devices_total == 2
    assert queries.grid_detail("no-such-grid") is None


def test_acknowledging_sets_the_state_and_writes_the_event_once(
    conn: psycopg.Connection, site: Site, queries: DashboardQueries
) -> None:
    alert = insert_alert(conn, site.device(1), "smoke", "critical")

    assert queries.acknowledge(alert, actor="big screen", note="seen") is True
    assert queries.acknowledge(alert, actor="big screen", note="again") is False

    state = conn.execute("SELECT state FROM alerts WHERE id = %s", (alert,)).fetchone()
    events = conn.execute(
        "SELECT actor, note FROM alert_events WHERE alert_id = %s AND kind = 'acknowledged'",
        (alert,),
    ).fetchall()
    assert state["state"] == "acknowledged"
    assert [(e["actor"], e["note"]) for e in events] == [("big screen", "seen")]


def test_todays_figures_count_alerts_by_type_and_time_to_accept(
    conn: psycopg.Connection, site: Site, queries: DashboardQueries
) -> None:
    before = queries.day_figures()
    insert_alert(conn, site.device(0), "falling_object", "critical")
    order = _order(conn, site.grids[0], "accepted", timedelta(seconds=0))
    conn.execute(
        "INSERT INTO work_order_events (work_order_id, time, from_state, to_state, actor)"
        " SELECT id, created_at + interval '4 minutes', 'reported', 'accepted', 'w'"
        " FROM work_orders WHERE id = %s",
        (order,),
    )
    conn.commit()

    after = queries.day_figures()

    assert (
        after.today_by_type.get("falling_object", 0) - before.today_by_type.get("falling_object", 0)
        == 1
    )
    assert after.orders_today - before.orders_today == 1
    assert after.median_accept_s is not None and after.median_accept_s > 0
    assert sum(n for _, kind, n in after.trend if kind == "falling_object") >= 1


# ---- pure and HTTP pieces -------------------------------------------------------------


def test_every_label_has_both_languages() -> None:
    for key, pair in TEXT.items():
        assert len(pair) == len(LANGUAGES) and all(pair), key
    assert t("live_alerts", "en") == "Live alerts" and t("live_alerts", "zh") == "实时告警"
    with pytest.raises(KeyError):
        t("no such label", "zh")


@pytest.mark.parametrize(
    ("details", "expected"),
    [
        ({"clip": "7/clip.mp4"}, "7/clip.mp4"),
        ({"clip": {"path": "7/clip.webm", "sha256": "x"}}, "7/clip.webm"),
        ({"evidence": {"clip": {"path": "7/c.mp4"}}}, "7/c.mp4"),
        ({"clip": "7/notes.txt"}, None),
        ({}, None),
    ],
)
def test_the_clip_is_found_where_the_alert_keeps_it(details: dict, expected: str | None) -> None:
    assert clip_path(details) == expected


def test_evidence_is_served_from_its_folder_and_nothing_outside(tmp_path: Path) -> None:
    from flask import Flask

    root = tmp_path / "evidence"
    (root / "12").mkdir(parents=True)
    (root / "12" / "snapshot.jpg").write_bytes(b"\xff\xd8jpeg")
    (tmp_path / "secret.jpg").write_bytes(b"secret")
    server = Flask("t")
    register_evidence_route(server, root)
    client = server.test_client()

    assert client.get("/evidence/12/snapshot.jpg").data == b"\xff\xd8jpeg"
    for bad in (
        "/evidence/../secret.jpg",
        "/evidence/..%2Fsecret.jpg",
        "/evidence/%2e%2e/secret.jpg",
        "/evidence//etc/passwd",
        "/evidence/12/missing.jpg",
    ):
        response = client.get(bad, follow_redirects=True)
        assert response.status_code == 404, bad
        assert b"secret" not in response.data


def test_browsers_on_the_wall_share_a_recent_read_but_never_across_an_alert_change() -> None:
    now, version, reads = [100.0], [7], []

    def read() -> int:
        reads.append(now[0])
        return len(reads)

    shared = SharedReads(1.0, version=lambda: version[0], clock=lambda: now[0])
    assert [shared.get("screen", read) for _ in range(10)] == [1] * 10, "ten browsers, one read"
    now[0] += 0.5
    assert shared.get("screen", read) == 1
    version[0] += 1  # an alert changed (NOTIFY heard): the next refresh reads again
    assert shared.get("screen", read) == 2
    now[0] += 1.0  # older than max_age: read again
    assert shared.get("screen", read) == 3
    assert shared.get("board", read) == 4, "each read has its own key"
    assert SharedReads(0.0, version=lambda: 0).get("x", read) == 5, "0 s shares nothing"
