"""A missed deadline climbs grid → community → street → district, tells that level, shows overdue.

The clock is a parameter of every sweep: hours pass in a few lines, without sleeping.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dispatch.channels import AppriseSender, MqttSender, Senders
from dispatch.deadlines import DeadlineFileError, load_deadlines, parse_duration
from dispatch.escalation import judge
from dispatch.service import DispatchSetup, sweep
from dispatch.workorders import transition
from gridwatch.domain import WorkOrderState
from gridwatch.mqtt import connect, make_client
from gridwatch.settings import Settings
from tests.helpers import Recorder, wait_for
from tests.test_notifications import (
    T0,
    TZ,
    MailReceiver,
    WebhookReceiver,
    make_place,
    order_of,
    raise_alert,
)

MIN, HOUR = timedelta(minutes=1), timedelta(hours=1)


def _ev(*steps: tuple[timedelta, str]) -> list[tuple[datetime, str]]:
    return [(T0, "reported"), (T0, "dispatched"), *((T0 + d, s) for d, s in steps)]


# Deadlines of a major order opened at T0: accept by 15 min, resolve by 4 h, windows of 4 h.
ACCEPT, RESOLVE = T0 + 15 * MIN, T0 + 4 * HOUR


def _judge(events: list[tuple[datetime, str]], at: timedelta) -> Any:
    return judge(T0, ACCEPT, RESOLVE, events, T0 + at)


def test_nobody_accepting_in_time_climbs_one_level_and_shows_overdue() -> None:
    early, late = _judge(_ev(), 14 * MIN), _judge(_ev(), 16 * MIN)
    assert (early.level, early.overdue, early.next_deadline) == ("grid", False, ACCEPT)
    assert (late.level, late.overdue, late.next_deadline) == ("community", True, RESOLVE)


def test_accepting_exactly_at_the_deadline_is_on_time() -> None:
    verdict = _judge(_ev((15 * MIN, "accepted")), 3 * HOUR)
    assert verdict.missed == []
    assert not verdict.overdue


def test_each_further_resolve_window_climbs_one_more_level_up_to_the_district() -> None:
    events = _ev((5 * MIN, "accepted"), (10 * MIN, "in_progress"))
    levels = [_judge(events, h * HOUR + MIN).level for h in (3, 4, 8, 12, 40)]
    assert levels == ["grid", "community", "street", "district", "district"]
    assert _judge(events, 12 * HOUR + MIN).next_deadline == T0 + 16 * HOUR


def test_a_resolved_order_is_not_overdue_and_a_reopened_one_gets_the_window_after_reopening() -> (
    None
):
    events = _ev((5 * MIN, "accepted"), (10 * MIN, "in_progress"), (1 * HOUR, "resolved"))
    assert not _judge(events, 5 * HOUR).overdue
    reopened = [*events, (T0 + 5 * HOUR, "in_progress")]
    # The 4 h deadline was met; the order reopened at 5 h misses the next one, at 8 h.
    assert _judge(reopened, 7 * HOUR).missed == []
    verdict = _judge(reopened, 8 * HOUR + MIN)
    assert [m.deadline for m in verdict.missed] == [T0 + 8 * HOUR]
    assert verdict.overdue


def test_deadlines_by_type_and_severity_come_from_a_file_over_the_defaults(
    tmp_path: Path,
) -> None:
    path = tmp_path / "deadlines.yaml"
    path.write_text(
        "by_severity:\n  major: {accept: 10m, resolve: 2h}\n"
        "by_type:\n  ebike_in_elevator:critical: {accept: 1m, resolve: 1h30m}\n"
    )
    table = load_deadlines(path)
    assert table.for_order("threshold", "major").accept_within == 10 * MIN
    assert table.for_order("ebike_in_elevator", "critical").resolve_within == 90 * MIN
    assert table.for_order("smoke", "critical").accept_within == 3 * MIN  # default by type
    assert table.for_order("threshold", "minor").accept_within == 30 * MIN  # default


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("by_severity:\n  urgent: {accept: 1m, resolve: 1h}\n", "by_severity.urgent"),
        ("by_type:\n  smoke: {accept: soon, resolve: 1h}\n", "by_type.smoke.accept"),
        ("by_type:\n  smoke:huge: {accept: 1m, resolve: 1h}\n", "unknown severity"),
        ("by_type:\n  smoke: {accept: 0s, resolve: 1h}\n", "longer than zero"),
        ("deadline: {}\n", "deadline"),
    ],
)
def test_a_bad_deadlines_file_names_the_file_the_item_and_the_reason(
    tmp_path: Path, text: str, error: str
) -> None:
    path = tmp_path / "deadlines.yaml"
    path.write_text(text)
    with pytest.raises(DeadlineFileError, match=str(path)) as info:
        load_deadlines(path)
    assert error in str(info.value)


def test_durations_read_the_way_people_write_them() -> None:
    assert parse_duration("1h30m") == 90 * MIN
    assert parse_duration("2d") == 48 * HOUR
    assert parse_duration(45) == timedelta(seconds=45)


def _escalations(conn: psycopg.Connection, order_id: int) -> list[tuple[str, str, str]]:
    rows = conn.execute(
        "SELECT to_level, area_id, missed FROM work_order_escalations WHERE work_order_id = %s"
        " ORDER BY id",
        (order_id,),
    )
    return [(r["to_level"], r["area_id"], r["missed"]) for r in rows]


def _climber(
    conn: psycopg.Connection, order_id: int, setup: DispatchSetup
) -> Callable[[datetime], list[str]]:
    """Sweep at a time; the levels this order climbed in that sweep (other tests' orders
    share the database, so the sweep's own counts are not this order's)."""

    def climb(now: datetime) -> list[str]:
        before = len(_escalations(conn, order_id))
        sweep(conn, now, TZ, setup)
        return [level for level, _, _ in _escalations(conn, order_id)[before:]]

    return climb


def test_an_order_nobody_handles_climbs_to_the_district_telling_each_level(
    conn: psycopg.Connection, settings: Settings
) -> None:
    webhook, mail = WebhookReceiver(), MailReceiver()
    site_id = f"e{uuid.uuid4().hex[:6]}"
    mqtt = make_client(settings, client_id=f"test-escalation-{uuid.uuid4().hex[:6]}")
    connect(mqtt, settings)
    mqtt.loop_start()
    try:
        place = make_place(
            conn,
            {
                "worker": [webhook.url("worker")],
                "manager": [webhook.url("manager")],
                "operator": [mail.url("operator@example.com")],
            },
        )
        topic = f"gw/v1/{site_id}/alerts/{place.grid}/ebike_in_elevator"
        recorder = Recorder(settings, topic)
        setup = DispatchSetup(senders=Senders(AppriseSender(), MqttSender(mqtt)), site_id=site_id)
        alert_id = raise_alert(conn, place)

        sweep(conn, T0, TZ, setup)
        order = order_of(conn, alert_id)
        assert len(webhook.on("worker")) == 1
        climbed = _climber(conn, order["id"], setup)
        assert climbed(T0 + 14 * MIN) == []
        assert not order_of(conn, alert_id)["overdue"]

        # 16 minutes: not accepted within 15 → the community's property manager is told.
        assert climbed(T0 + 16 * MIN) == ["community"]
        order = order_of(conn, alert_id)
        assert (order["escalation_level"], order["overdue"]) == ("community", True)
        assert order["overdue_since"] == T0 + 15 * MIN
        [to_manager] = webhook.on("manager")
        assert "督办 Escalated to 社区 community" in to_manager["title"]
        assert "Not accepted by its deadline 2021-03-01 09:15" in to_manager["message"]
        published = wait_for(lambda: recorder.on(topic), what="the escalation on MQTT")
        assert json.loads(published[0]) | {"ts": 0} == {
            "event": "escalated",
            "alert_id": alert_id,
            "work_order": order["id"],
            "type": "ebike_in_elevator",
            "severity": "major",
            "grid": place.grid,
            "level": "community",
            "area": place.community,
            "missed": "accept",
            "deadline": (T0 + 15 * MIN).timestamp(),
            "ts": 0,
        }

        # The worker takes it at 20 minutes but does not resolve it within 4 hours.
        transition(conn, order["id"], WorkOrderState.ACCEPTED, place.worker, T0 + 20 * MIN)
        conn.commit()
        assert climbed(T0 + 3 * HOUR) == []
        assert climbed(T0 + 4 * HOUR + MIN) == ["street"]
        assert climbed(T0 + 8 * HOUR + MIN) == ["district"]
        assert climbed(T0 + 40 * HOUR) == []  # nowhere higher

        order = order_of(conn, alert_id)
        assert order["escalation_level"] == "district"
        assert _escalations(conn, order["id"]) == [
            ("community", place.community, "accept"),
            ("street", place.street, "resolve"),
            ("district", place.district, "resolve"),
        ]
        notes = [
            r["note"]
            for r in conn.execute(
                "SELECT note FROM work_order_events WHERE work_order_id = %s"
                " AND note LIKE 'escalated%%' ORDER BY id",
                (order["id"],),
            )
        ]
        assert len(notes) == 3
        assert f"nobody answers for {place.street}" in notes[1]
        [to_operator] = mail.mails
        assert to_operator.to == ["operator@example.com"]
        assert "区 district" in to_operator.subject
        wait_for(lambda: len(recorder.on(topic)) == 3, what="three escalations on MQTT")

        # Resolved at last: no longer overdue.
        transition(conn, order["id"], WorkOrderState.IN_PROGRESS, place.worker, T0 + 41 * HOUR)
        transition(conn, order["id"], WorkOrderState.RESOLVED, place.worker, T0 + 42 * HOUR)
        conn.commit()
        sweep(conn, T0 + 42 * HOUR + MIN, TZ, setup)
        assert not order_of(conn, alert_id)["overdue"]
        recorder.close()
    finally:
        mqtt.loop_stop()
        mqtt.disconnect()
        webhook.close()
        mail.close()


def test_a_sweep_that_was_away_climbs_one_level_per_missed_deadline(
    conn: psycopg.Connection,
) -> None:
    place = make_place(conn)
    alert_id = raise_alert(conn, place)
    sweep(conn, T0, TZ)
    sweep(conn, T0 + 9 * HOUR, TZ)  # accept, 4 h and 8 h deadlines all passed
    order = order_of(conn, alert_id)
    assert _escalations(conn, order["id"]) == [
        ("community", place.community, "accept"),
        ("street", place.street, "resolve"),
        ("district", place.district, "resolve"),
    ]
