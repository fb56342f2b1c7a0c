"""Figures (考核评价) on a hand-built set of orders whose answers are worked out by hand.

Every order: accept within 15 min, resolve within 4 h. Opened on 2021-06-01 (Shanghai):
  A  community 1, worker 1: accepted at 10 min, resolved at 2 h, verified      — on time
  B  community 1, worker 1: accepted at 30 min (late), resolved at 5 h (late)  — overdue
  C  community 1, worker 2: accepted at 5 min, resolved at 1 h, reopened at 1 h 30,
     resolved again at 3 h                                                     — on time, reopened
  D  community 2, worker 3: dispatched, never accepted                         — open, overdue
  E  community 2, worker 3: closed by itself at 3 min (the alert cleared)      — on time
"""

from __future__ import annotations

import csv
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from click.testing import CliRunner

from dispatch.figures import ALL, GroupBy, OrderRow, figures_by, percentile
from gridwatch.cli import main
from gridwatch.settings import Settings

TZ = ZoneInfo("Asia/Shanghai")
DAY = datetime(2021, 6, 1, tzinfo=TZ)
M, H = timedelta(minutes=1), timedelta(hours=1)

# (name, grid, community, worker, opened after DAY, [(after opening, from, to), ...])
PLAN = [
    ("A", "g1", "c1", "w1", 0 * H, [(10 * M, "dispatched", "accepted"),
                                    (20 * M, "accepted", "in_progress"),
                                    (2 * H, "in_progress", "resolved"),
                                    (3 * H, "resolved", "verified")]),
    ("B", "g1", "c1", "w1", 1 * H, [(30 * M, "dispatched", "accepted"),
                                    (40 * M, "accepted", "in_progress"),
                                    (5 * H, "in_progress", "resolved")]),
    ("C", "g2", "c1", "w2", 2 * H, [(5 * M, "dispatched", "accepted"),
                                    (6 * M, "accepted", "in_progress"),
                                    (1 * H, "in_progress", "resolved"),
                                    (90 * M, "resolved", "in_progress"),
                                    (3 * H, "in_progress", "resolved")]),
    ("D", "g3", "c2", "w3", 3 * H, []),
    ("E", "g3", "c2", "w3", 4 * H, [(3 * M, "dispatched", "closed")]),
]  # fmt: skip


def _rows(prefix: str = "") -> list[OrderRow]:
    rows = []
    for number, (_, grid, community, worker, opened, steps) in enumerate(PLAN, 1):
        created = DAY + opened
        events = [(created, None, "reported"), (created, "reported", "dispatched")]
        events += [(created + after, f, t) for after, f, t in steps]
        rows.append(
            OrderRow(
                id=number,
                grid_id=prefix + grid,
                community_id=prefix + community,
                street_id=prefix + "s1",
                assignee_id=prefix + worker,
                created_at=created,
                accept_due=created + 15 * M,
                resolve_due=created + 4 * H,
                events=tuple(events),
            )
        )
    return rows


END_OF_DAY = DAY + 24 * H


def test_figures_by_community_match_the_hand_worked_answers() -> None:
    groups, total = figures_by(_rows(), GroupBy.COMMUNITY, END_OF_DAY)
    c1, c2 = groups
    assert (c1.key, c1.orders, c1.closed, c1.on_time, c1.overdue, c1.reopened) == (
        "c1", 3, 3, 2, 1, 1
    )  # fmt: skip
    assert c1.closure_rate == 1.0
    assert c1.on_time_rate == pytest.approx(2 / 3)
    # accept: 5, 10, 30 min → median 10, p90 = 10 + 0.8 × 20 = 26
    assert (c1.accept_median_s, c1.accept_p90_s) == (600, pytest.approx(26 * 60))
    # resolve: 120, 180 (C's last resolution), 300 min → median 180, p90 = 180 + 0.8 × 120
    assert (c1.resolve_median_s, c1.resolve_p90_s) == (180 * 60, pytest.approx(276 * 60))
    assert (c2.key, c2.orders, c2.closed, c2.on_time, c2.overdue, c2.reopened) == (
        "c2", 2, 1, 1, 1, 0
    )  # fmt: skip
    assert c2.closure_rate == 0.5
    assert c2.accept_median_s is None  # nobody accepted D, E closed itself
    assert c2.resolve_median_s == 3 * 60
    assert (total.key, total.orders, total.closed, total.on_time) == (ALL, 5, 4, 3)
    assert (total.closure_rate, total.on_time_rate) == (0.8, 0.75)
    # resolve: 3, 120, 180, 300 min → median 150, p90 = 180 + 0.7 × 120 = 264
    assert total.resolve_median_s == 150 * 60
    assert total.resolve_p90_s == pytest.approx(264 * 60)
    assert (total.overdue, total.reopened) == (2, 1)


def test_figures_by_worker_and_by_street() -> None:
    workers, _ = figures_by(_rows(), GroupBy.WORKER, END_OF_DAY)
    assert [(g.key, g.orders, g.closed, g.overdue) for g in workers] == [
        ("w1", 2, 2, 1),
        ("w2", 1, 1, 0),
        ("w3", 2, 1, 1),
    ]
    [street], total = figures_by(_rows(), GroupBy.STREET, END_OF_DAY)
    assert (street.key, street.orders, street.closed) == ("s1", 5, 4)
    assert street.resolve_median_s == total.resolve_median_s


def test_an_order_is_judged_as_it_stood_at_the_end_of_the_period() -> None:
    # At 02:30 A is resolved, B was accepted late and is still open, C (opened at 02:00) is
    # in progress and has not been reopened yet.
    groups, total = figures_by(_rows(), GroupBy.GRID, DAY + 2 * H + 30 * M)
    by_grid = {g.key: g for g in groups}
    assert by_grid["g1"].closed == 1  # A only
    assert by_grid["g1"].overdue == 1  # B accepted late
    assert by_grid["g2"].closed == 0
    assert total.orders == 5
    assert total.reopened == 0


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([10.0, 20.0, 30.0, 40.0, 50.0], 0.9) == pytest.approx(46.0)


def _store(conn: psycopg.Connection, prefix: str) -> None:
    """The same plan in the database, under areas and people of its own."""
    areas = [(f"{prefix}d", "district", None), (f"{prefix}s1", "street", f"{prefix}d")]
    areas += [(f"{prefix}c{n}", "community", f"{prefix}s1") for n in (1, 2)]
    areas += [(f"{prefix}g1", "grid", f"{prefix}c1"), (f"{prefix}g2", "grid", f"{prefix}c1")]
    areas += [(f"{prefix}g3", "grid", f"{prefix}c2")]
    for area_id, level, parent in areas:
        conn.execute(
            "INSERT INTO areas (id, level, parent_id, name) VALUES (%s, %s, %s, %s)",
            (area_id, level, parent, f"{level} {area_id[len(prefix) :]}"),
        )
    for n in (1, 2, 3):
        conn.execute(
            "INSERT INTO people (id, name, role) VALUES (%s, %s, 'grid_worker')",
            (f"{prefix}w{n}", f"worker {n}"),
        )
    for row in _rows(prefix):
        order_id = conn.execute(
            "INSERT INTO work_orders (source, grid_id, type, severity, title, state, assignee_id,"
            " accept_due, resolve_due, created_at) VALUES ('resident', %s, 'threshold', 'major',"
            " 'figures', %s, %s, %s, %s, %s) RETURNING id",
            (
                row.grid_id,
                row.events[-1][2],
                row.assignee_id,
                row.accept_due,
                row.resolve_due,
                row.created_at,
            ),
        ).fetchone()["id"]
        for time, from_state, to_state in row.events:
            conn.execute(
                "INSERT INTO work_order_events (work_order_id, time, from_state, to_state, actor)"
                " VALUES (%s, %s, %s, %s, 'test')",
                (order_id, time, from_state, to_state),
            )
    # Opened the day before: outside the period, whatever it did.
    conn.execute(
        "INSERT INTO work_orders (source, grid_id, type, severity, title, state, created_at)"
        " VALUES ('resident', %s, 'threshold', 'major', 'before', 'reported', %s)",
        (f"{prefix}g1", DAY - 2 * H),
    )
    conn.commit()


def test_gridwatch_report_writes_the_csv_and_a_self_contained_html_report(
    conn: psycopg.Connection, settings: Settings, tmp_path: Path
) -> None:
    prefix = f"f{uuid.uuid4().hex[:5]}-"
    _store(conn, prefix)
    env = {"GRIDWATCH_DATABASE_URL": settings.database_url, "GRIDWATCH_SITE_ID": "nosuchsite"}
    args = ["report", "--from", "2021-06-01", "--to", "2021-06-01", "--by", "community"]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path)], env=env)
    assert result.exit_code == 0, result.output

    csv_path = tmp_path / "figures-community-2021-06-01_2021-06-01.csv"
    rows = {r["group"]: r for r in csv.DictReader(csv_path.open(encoding="utf-8"))}
    c1 = rows[f"{prefix}c1"]
    assert c1["name"] == "community c1"
    assert (c1["orders"], c1["closed"], c1["closure_rate"], c1["on_time_rate"]) == (
        "3", "3", "1.0000", "0.6667"
    )  # fmt: skip
    assert (c1["accept_median_min"], c1["accept_p90_min"]) == ("10.0", "26.0")
    assert (c1["resolve_median_min"], c1["resolve_p90_min"]) == ("180.0", "276.0")
    assert (c1["overdue"], c1["reopened"]) == ("1", "1")
    assert rows[f"{prefix}c2"]["closure_rate"] == "0.5000"
    assert rows[ALL]["orders"] == "5"  # the order of the day before is not counted

    page = (tmp_path / "figures-community-2021-06-01_2021-06-01.html").read_text()
    assert page.count("<svg") == 3
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    assert "5 orders, closure rate 80.0%, on-time rate 75.0%" in " ".join(page.split())


def test_a_period_that_ends_before_it_starts_is_refused(settings: Settings, tmp_path: Path) -> None:
    env = {"GRIDWATCH_DATABASE_URL": settings.database_url}
    args = ["report", "--from", "2021-06-02", "--to", "2021-06-01", "--out", str(tmp_path)]
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 2
    assert "ends (2021-06-01) before it starts (2021-06-02)" in result.output
    assert list(tmp_path.iterdir()) == []
