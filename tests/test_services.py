"""The embedded services a newcomer's machine falls back on, exercised even where real ones run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gridwatch import db, services
from gridwatch.settings import load_settings
from tests.helpers import Recorder, publisher, wait_for


def test_the_embedded_python_broker_carries_messages_when_mosquitto_is_absent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(services, "SYSTEM_MOSQUITTO", tmp_path / "no-mosquitto-here")
    broker = services.start_local_broker(tmp_path)
    try:
        assert broker.kind.startswith("amqtt")
        settings = load_settings(mqtt_port=broker.port, mqtt_protocol="3.1.1")
        recorder = Recorder(settings, "gw/v1/s/+/+/telemetry")
        client = publisher(settings)
        client.publish("gw/v1/s/g/d/telemetry", b'{"values": {"x": 1}}', qos=1).wait_for_publish(5)
        wait_for(lambda: recorder.messages, what="the message through the embedded broker")
        assert recorder.messages == [("gw/v1/s/g/d/telemetry", b'{"values": {"x": 1}}')]
        client.loop_stop()
        recorder.close()
    finally:
        broker.stop()


def test_an_embedded_postgresql_starts_and_takes_the_schema(tmp_path: Path) -> None:
    database = services.start_embedded_database(tmp_path)
    try:
        applied = db.migrate(database.url)
        assert "001_core.sql" in applied
        with db.connection(database.url) as conn:
            assert conn.execute("SELECT count(*) AS n FROM areas").fetchone()["n"] == 0
    finally:
        database.stop()
