"""Latency from a frame's publish to its alert on the alert topic, through the real broker,
ingest (decode, detector, alert pipeline, database commit) and back out.

    python -m bench.frame_to_alert [--seconds 60] [--speed 1]

Ingest runs as its own process (`gridwatch ingest`), as in production. Two cameras of each
kind (demo site devices, their detector settings set to the rendered scenes; fire-lane dwell
5 s) send 1280×720 JPEG frames at their own frame rate, live. Each alert carries the frame
time of the frame that completed it (`details.frame_ts`); its latency is from that frame's
publish to the alert's arrival at a subscriber, so dwell and confirmation times are not in
it. Uses the broker and PostgreSQL at 127.0.0.1 when they answer (a fresh database, dropped
afterwards), embedded ones otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as paho
import psycopg

from bench.detectors import KINDS, Stream, render_stream, say
from detectors.registry import DETECTOR_DEVICE_KINDS
from gridwatch import db
from gridwatch.frames import encode_frame
from gridwatch.mqtt import connect, make_client
from gridwatch.services import (
    ensure_database,
    port_answers,
    start_embedded_database,
    start_local_broker,
)
from gridwatch.settings import Settings, load_settings
from gridwatch.site import load_site, store_site
from gridwatch.topics import MessageKind, device_topic

CAMERAS_PER_KIND = 2
LOCAL_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ALERT_EVENTS = {"raised", "repeated"}  # a clear has no frame that completed it


@contextmanager
def _services(data_dir: Path) -> Iterator[tuple[str, str, int]]:
    """(database url, broker host, broker port): the local ones if they answer, else started."""
    name = f"gridwatch_bench_{uuid.uuid4().hex[:8]}"
    broker = None if port_answers("127.0.0.1", 1883) else start_local_broker(data_dir / "mqtt")
    embedded = None
    if port_answers("127.0.0.1", 5432):
        ensure_database(LOCAL_ADMIN_URL, name)
        url = LOCAL_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    else:
        embedded = start_embedded_database(data_dir / "pg", name)
        url = embedded.url
    try:
        db.migrate(url)
        yield url, broker.host if broker else "127.0.0.1", broker.port if broker else 1883
    finally:
        if embedded:
            embedded.stop()
        else:
            with psycopg.connect(LOCAL_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if broker:
            broker.stop()


def _cameras(settings: Settings, streams: list[Stream]) -> list[tuple[Any, Stream]]:
    """Demo-site cameras for the streams, stored with the streams' detector settings."""
    site = load_site(settings.site_dir).model_copy(update={"id": settings.site_id})
    chosen: list[tuple[Any, Stream]] = []
    used: set[str] = set()
    for stream in streams:
        kind = DETECTOR_DEVICE_KINDS[stream[0]]
        device = next(d for d in site.devices if d.kind == kind and d.id not in used)
        used.add(device.id)
        chosen.append((device, stream))
    with db.connection(str(settings.database_url)) as conn:
        store_site(conn, site)
        for device, (_, config, _) in chosen:
            conn.execute(
                "UPDATE devices SET config = config || %s::jsonb WHERE id = %s",
                (json.dumps(config), device.id),
            )
        conn.commit()
    return chosen


class AlertClock:
    """Subscribes to the site's alert topics and notes when each alert arrives."""

    def __init__(self, settings: Settings) -> None:
        self.arrivals: list[tuple[float, dict[str, Any]]] = []
        self._ready = threading.Event()
        self.client = make_client(settings, client_id=f"bench-alerts-{uuid.uuid4().hex[:8]}")
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: self._ready.set()
        connect(self.client, settings)
        self.client.subscribe(f"gw/v1/{settings.site_id}/alerts/#", qos=1)
        self.client.loop_start()
        if not self._ready.wait(10):
            raise RuntimeError("could not subscribe to the alert topics")

    def _on_message(self, client: paho.Client, userdata: object, message: Any) -> None:
        self.arrivals.append((time.time(), json.loads(message.payload)))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _play(
    settings: Settings, cameras: list[tuple[Any, Stream]], speed: float
) -> dict[tuple[str, float], float]:
    """Publish every camera's frames at their frame times (all cameras interleaved);
    return when each (device, frame time) was published."""
    client = make_client(settings, client_id=f"bench-cameras-{uuid.uuid4().hex[:8]}")
    connect(client, settings)
    client.loop_start()
    timeline = sorted(
        (scene_t, index, jpeg)
        for index, (_, (_, _, frames)) in enumerate(cameras)
        for scene_t, jpeg in frames
    )
    topics = [
        device_topic(settings.site_id, d.grid_id, d.id, MessageKind.FRAME) for d, _ in cameras
    ]
    published: dict[tuple[str, float], float] = {}
    epoch, start = time.time() + 0.5, time.monotonic() + 0.5
    for seq, (scene_t, index, jpeg) in enumerate(timeline):
        wait = start + scene_t / speed - time.monotonic()
        if wait > 0:
            time.sleep(wait)  # pacing a live feed: the wall clock is what is being simulated
        ts = epoch + scene_t
        published[(cameras[index][0].id, round(ts, 3))] = time.time()
        client.publish(topics[index], encode_frame(jpeg, ts, seq + 1), qos=1)
    client.loop_stop()
    client.disconnect()
    return published


def measure_latency(seconds: float = 60.0, speed: float = 1.0) -> dict[str, Any]:
    """p50/p95/max frame-to-alert latency in ms over `seconds` of live feed."""
    jobs = [(kind, i, seconds) for i in range(CAMERAS_PER_KIND) for kind in KINDS]
    say(f"latency: rendering {len(jobs)} cameras × {seconds:.0f} s")
    with ProcessPoolExecutor(2) as pool:
        streams = list(pool.map(render_stream, jobs))
    with tempfile.TemporaryDirectory() as tmp, _services(Path(tmp)) as (url, host, port):
        settings = load_settings(
            database_url=url,
            mqtt_host=host,
            mqtt_port=port,
            data_dir=Path(tmp) / "data",
            site_id=f"b{uuid.uuid4().hex[:6]}",
            metrics_port=0,
        )
        cameras = _cameras(settings, streams)
        alerts = AlertClock(settings)
        with _ingest_process(settings, Path(tmp) / "ingest.log", cameras[0][0]):
            try:
                say(f"latency: {len(cameras)} cameras live for {seconds / speed:.0f} s")
                published = _play(settings, cameras, speed)
                _settle(alerts, quiet_s=3.0, limit_s=20.0)
            finally:
                alerts.close()
    latencies, by_type = [], {}
    for arrived, alert in alerts.arrivals:
        frame_ts = alert.get("details", {}).get("frame_ts")
        sent = published.get((alert["device"], round(frame_ts or 0.0, 3)))
        if alert["event"] in ALERT_EVENTS and sent is not None:
            latencies.append((arrived - sent) * 1000)
            by_type[alert["type"]] = by_type.get(alert["type"], 0) + 1
    if not latencies:
        raise RuntimeError("no alert arrived: the latency cannot be measured")
    return {
        "p95_frame_to_alert_ms": round(float(np.percentile(latencies, 95)), 1),
        "p50_frame_to_alert_ms": round(float(np.percentile(latencies, 50)), 1),
        "max_frame_to_alert_ms": round(max(latencies), 1),
        "latency_alerts": by_type,
        "latency_frames": len(published),
    }


@contextmanager
def _ingest_process(settings: Settings, log: Path, probe: Any) -> Iterator[None]:
    """`gridwatch ingest` in a process of its own, once it consumes (a status message sent
    by `probe` has reached the database)."""
    env = {**os.environ, "GRIDWATCH_METRICS_PORT": "0"}
    for name in ("database_url", "mqtt_host", "mqtt_port", "site_id", "data_dir"):
        env[f"GRIDWATCH_{name.upper()}"] = str(getattr(settings, name))
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gridwatch.cli", "ingest"], env=env, stderr=out, stdout=out
        )
    try:
        client = make_client(settings, client_id=f"bench-probe-{uuid.uuid4().hex[:8]}")
        connect(client, settings)
        client.loop_start()
        topic = device_topic(settings.site_id, probe.grid_id, probe.id, MessageKind.STATUS)
        deadline = time.monotonic() + 60
        with db.connection(str(settings.database_url)) as conn:
            while not conn.execute(
                "SELECT 1 FROM device_status WHERE device_id = %s", (probe.id,)
            ).fetchone():
                conn.commit()
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"ingest did not start; see {log}: {log.read_text()[-2000:]}"
                    )
                client.publish(topic, b"online", qos=1)
                time.sleep(0.5)
        client.loop_stop()
        client.disconnect()
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _settle(alerts: AlertClock, quiet_s: float, limit_s: float) -> None:
    """Wait until no alert has arrived for quiet_s (the last frames' alerts are in)."""
    deadline = time.monotonic() + limit_s
    seen = -1
    while time.monotonic() < deadline and seen != len(alerts.arrivals):
        seen = len(alerts.arrivals)
        time.sleep(quiet_s)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of live feed")
    parser.add_argument("--speed", type=float, default=1.0, help="scene seconds per wall second")
    args = parser.parse_args(argv)
    figures = measure_latency(args.seconds, args.speed)
    result = {"bench": "frame_to_alert", **figures, "baseline": {"speed": args.speed}}
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
