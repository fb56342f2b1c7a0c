"""A device that stays offline past the grace raises one alert; back online clears it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from gridwatch import db
from gridwatch.settings import Settings
from ingest.service import IngestService
from tests.helpers import publisher, wait_for

GRACE_S = 1.5


@pytest.fixture(scope="module")
def site(settings: Settings, database_url: str) -> Iterator[Settings]:
    """An ingest of its own site (so no other test's devices go offline here), grace 1.5 s."""
    site = settings.model_copy(
        update={"site_id": f"off{uuid.uuid4().hex[:6]}", "offline_alert_after_s": GRACE_S}
    )
    with db.connection(database_url) as conn:
        conn.execute(
            "INSERT INTO areas (id, level, name) VALUES ('off-g1', 'grid', 'Offline test grid')"
            " ON CONFLICT DO NOTHING"
        )
        for device in ("off-cam-away", "off-cam-blip"):
            conn.execute(
                "INSERT INTO devices (id, site_id, grid_id, kind, name)"
                " VALUES (%s, %s, 'off-g1', 'fire_lane_camera', 'cam')",
                (f"{device}-{site.site_id}", site.site_id),
            )
        conn.commit()
    service = IngestService(site)
    service.start()
    service.wait_connected()
    yield site
    service.stop()


def _offline_alerts(conn: psycopg.Connection, device: str) -> list[dict]:
    conn.commit()  # a fresh snapshot
    return conn.execute(
        "SELECT id, state FROM alerts WHERE device_id = %s AND type = 'device_offline' ORDER BY id",
        (device,),
    ).fetchall()


def test_a_device_that_stays_away_raises_one_alert_and_clears_it_on_return(
    site: Settings, conn: psycopg.Connection
) -> None:
    away, blip = (f"{d}-{site.site_id}" for d in ("off-cam-away", "off-cam-blip"))
    pub = publisher(site)

    def status(device: str, value: bytes) -> None:
        pub.publish(f"gw/v1/{site.site_id}/off-g1/{device}/status", value, qos=1).wait_for_publish()

    status(away, b"offline")
    status(blip, b"offline")
    time.sleep(0.3)
    status(blip, b"online")  # back well within the grace
    time.sleep(GRACE_S / 2)
    assert _offline_alerts(conn, away) == [], "raised before the grace was over"

    wait_for(lambda: len(_offline_alerts(conn, away)) == 1, what="the offline alert")
    time.sleep(GRACE_S * 2)  # several more rounds of the rule
    [alert] = _offline_alerts(conn, away)  # one alert for one absence
    assert alert["state"] != "cleared"
    assert _offline_alerts(conn, blip) == [], "a short blip raised an alert"

    status(away, b"online")
    wait_for(lambda: _offline_alerts(conn, away)[0]["state"] == "cleared", what="the alert cleared")
    pub.disconnect()
