"""Every example in docs/PROTOCOL.md, replayed against a running ingest: each does what the
document says it does (stored, dead-lettered with its reason, acknowledged, published)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from gridwatch import db
from gridwatch.settings import PROJECT_ROOT, Settings
from ingest.service import IngestService
from tests.helpers import Recorder, publisher, wait_for

PROTOCOL = PROJECT_ROOT / "docs" / "PROTOCOL.md"
GRID = "tproto-g1"
SENSOR = "tproto-sock-1"
CAMERA = "tproto-fl-1"
DOC_EPOCH = 1_780_000_000  # the date the examples are written at
DOC_COMMAND_ID = 311  # stands for a command really sent
_BLOCK = re.compile(
    r"^```\w+ example=(?P<kind>\S+) expect=(?P<expect>\S+)(?: encoding=(?P<enc>hex))?\n"
    r"(?P<body>.*?)\n```",
    re.MULTILINE | re.DOTALL,
)
_DOC_TIME = re.compile(r"\b178000\d{4}(?:\.\d+)?\b")


@dataclass(frozen=True)
class Example:
    kind: str  # telemetry, frame, status, event, cmd, cmd/ack, alerts
    expect: str
    body: str
    hex: bool

    def payload(self, offset: float, command_id: int) -> bytes:
        if self.hex:
            return bytes.fromhex("".join(self.body.split()))
        text = _DOC_TIME.sub(lambda m: repr(float(m.group()) + offset), self.body)
        return text.replace(f'"id": {DOC_COMMAND_ID},', f'"id": {command_id},').encode()


def read_examples() -> list[Example]:
    text = PROTOCOL.read_text(encoding="utf-8")
    return [
        Example(m["kind"], m["expect"], m["body"], m["enc"] == "hex") for m in _BLOCK.finditer(text)
    ]


def test_every_topic_in_the_table_has_an_example() -> None:
    table_kinds = set(
        re.findall(
            r"^\| `gw/v1/\{site\}/(?:\{grid\}/\{device\}/)?([a-z/]+?)(?:/\{grid\}/\{type\})?` \|",
            PROTOCOL.read_text(encoding="utf-8"),
            re.MULTILINE,
        )
    )
    assert table_kinds == {"telemetry", "frame", "status", "event", "cmd", "cmd/ack", "alerts"}
    assert {e.kind for e in read_examples()} == table_kinds


@pytest.fixture(scope="module")
def ingest(settings: Settings, database_url: str) -> Iterator[IngestService]:
    with db.connection(database_url) as conn:
        conn.execute(
            "INSERT INTO areas (id, level, name) VALUES (%s, 'grid', 'Protocol test grid')"
            " ON CONFLICT DO NOTHING",
            (GRID,),
        )
        conn.execute(
            "INSERT INTO devices (id, site_id, grid_id, kind, name, config) VALUES"
            " (%s, %s, %s, 'charging_socket', 'socket', '{}'),"
            " (%s, %s, %s, 'fire_lane_camera', 'fire lane', %s) ON CONFLICT DO NOTHING",
            (
                SENSOR,
                settings.site_id,
                GRID,
                CAMERA,
                settings.site_id,
                GRID,
                json.dumps({"alarm_device": "tproto-alarm-1"}),
            ),
        )
        conn.commit()
    service = IngestService(settings)
    service.start()
    service.wait_connected()
    yield service
    service.stop()


def _topic(settings: Settings, example: Example, payload: bytes) -> str:
    if example.kind == "alerts":
        return f"gw/v1/{settings.site_id}/alerts/{GRID}/{json.loads(payload)['type']}"
    device = CAMERA if example.kind in ("frame", "event", "cmd") else SENSOR
    return f"gw/v1/{settings.site_id}/{GRID}/{device}/{example.kind}"


def _readings(doc: Any, now: float) -> list[tuple[str, float | None, float]]:
    """(metric, value, time) the document promises for a telemetry payload."""
    if isinstance(doc, dict):
        return [(m, v, doc.get("ts", now)) for m, v in doc["values"].items()]
    readings, base_name, base_time = [], "", 0.0
    for record in doc:
        base_name = record.get("bn", base_name)
        base_time = record.get("bt", base_time)
        name = base_name + record.get("n", "")
        readings.append((name.split(":")[-1], record["v"], base_time + record.get("t", 0)))
    return readings


def _check_stored(conn: psycopg.Connection, example: Example, payload: bytes) -> None:
    doc = json.loads(payload) if payload.strip()[:1] in (b"{", b"[") else payload.decode()
    if example.kind == "telemetry":
        for metric, value, ts in _readings(doc, time.time()):
            wait_for(
                lambda m=metric, v=value, t=ts: conn.execute(
                    "SELECT 1 FROM telemetry WHERE device_id = %s AND metric = %s"
                    " AND value IS NOT DISTINCT FROM %s"
                    " AND abs(extract(epoch FROM time) - %s) < 0.01",
                    (SENSOR, m, v, t),
                ).fetchone(),
                what=f"reading {metric}={value}",
            )
    elif example.kind == "status":
        online = doc["online"] if isinstance(doc, dict) else doc.strip() == "online"
        reason = doc.get("reason") if isinstance(doc, dict) else None
        wait_for(
            lambda: conn.execute(
                "SELECT 1 FROM device_status WHERE device_id = %s AND online = %s"
                " AND detail IS NOT DISTINCT FROM %s",
                (SENSOR, online, reason),
            ).fetchone(),
            what=f"status online={online}",
        )
    elif example.kind == "event":
        wait_for(
            lambda: conn.execute(
                "SELECT 1 FROM detections WHERE device_id = %s AND type = %s AND cleared = %s"
                " AND abs(extract(epoch FROM time) - %s) < 0.01",
                (CAMERA, doc["type"], doc.get("cleared", False), doc["ts"]),
            ).fetchone(),
            what=f"event {doc['type']}",
        )
    else:
        raise AssertionError(f"no 'stored' check for {example.kind} examples")


def _check_published(recorder: Recorder, topic: str, example: Example, payload: bytes) -> None:
    documented = json.loads(payload)
    # Published with its own ids and times: the shape and the words must match the document.
    words = ("command", "event", "type", "severity")

    def matching() -> list[dict]:
        sent = [json.loads(p) for p in recorder.on(topic)]
        return [
            m
            for m in sent
            if set(m) == set(documented)
            and all(m.get(w) == documented.get(w) for w in words if w in documented)
        ]

    wait_for(matching, what=f"a {example.kind} message like the documented one on {topic}")


def test_each_documented_example_has_its_documented_outcome(
    ingest: IngestService, settings: Settings, conn: psycopg.Connection
) -> None:
    examples = read_examples()
    assert len(examples) >= 15
    offset = time.time() - DOC_EPOCH
    command = conn.execute(
        "INSERT INTO device_commands (device_id, command, topic) VALUES (%s, 'power_off', %s)"
        " RETURNING id",
        (SENSOR, f"gw/v1/{settings.site_id}/{GRID}/{SENSOR}/cmd"),
    ).fetchone()
    conn.commit()
    recorder = Recorder(settings, f"gw/v1/{settings.site_id}/#")
    pub = publisher(settings)
    try:
        for example in examples:
            payload = example.payload(offset, command["id"])
            topic = _topic(settings, example, payload)
            if example.expect == "published":
                _check_published(recorder, topic, example, payload)
                continue
            pub.publish(topic, payload, qos=1).wait_for_publish(5)
            if example.expect == "stored":
                _check_stored(conn, example, payload)
            elif example.expect == "acked":
                wait_for(
                    lambda: conn.execute(
                        "SELECT acked_at FROM device_commands WHERE id = %s", (command["id"],)
                    ).fetchone()["acked_at"],
                    what="the command to be acknowledged",
                )
            elif example.expect.startswith("dead_letter:"):
                code = example.expect.split(":", 1)[1]
                wait_for(
                    lambda c=code, t=topic, p=payload: conn.execute(
                        "SELECT 1 FROM dead_letters WHERE topic = %s AND payload = %s"
                        " AND reason_code = %s",
                        (t, p, c),
                    ).fetchone(),
                    what=f"a {code} dead letter for {payload[:60]!r}",
                )
            else:
                raise AssertionError(f"unknown expectation {example.expect!r} in PROTOCOL.md")
    finally:
        pub.loop_stop()
        recorder.close()
