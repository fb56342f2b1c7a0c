"""Big-screen speed on a large site: refresh callbacks, first render, alert to screen, memory.

python -m bench.dashboard [--minutes 10] [--browsers 10]

Builds a site of 500 grids and ~5,000 devices with 100,000 alerts of history and 2,000 open
work orders in a database of its own, starts the dashboard as its own process, and measures:
- p95_callback_ms: the big screen's refresh callbacks (main, side panels, events feed),
  called in this process against that database, JSON encoding included;
- first_render_s: headless Chromium, page load until the map has drawn and the alert list
  is filled (the median of --renders page loads);
- p95_alert_to_screen_s: an edge-AI camera's event published on MQTT, through the broker and
  `gridwatch ingest` (its own process) to the alert's row visible in the browser;
- server RSS with N browsers on the screen for --minutes (start, end, peak).
Baseline, measured in the same run: p95 of a bare `SELECT 1` through the same pool.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import plotly.utils
import psycopg
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.support.ui import WebDriverWait

from bench.dashboard_site import build_large_site
from dashboard.components.boards import event_rows
from dashboard.pages.bigscreen import refresh_screen, refresh_side_panels
from dashboard.queries import DashboardQueries
from dashboard.screenshot import MAP_DRAWN_JS, chromium_driver
from gridwatch import db
from gridwatch.mqtt import connect, make_client
from gridwatch.services import ensure_database, port_answers
from gridwatch.settings import Settings
from gridwatch.topics import device_topic

ADMIN_URL = os.environ.get(
    "GRIDWATCH_BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SITE_ID = "benchdash"


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def time_callbacks(queries: DashboardQueries, rounds: int) -> tuple[list[float], list[float]]:
    """(callback ms, SELECT 1 ms): each round runs the three refresh callbacks once."""
    callbacks, baseline = [], []
    signature = trend = None
    for _ in range(rounds):
        for step in ("main", "side", "events"):
            start = time.perf_counter()
            if step == "main":
                update = refresh_screen(queries, signature, None, [1100, 640], "/assets/s.json")
                signature = update.signature
                out = update.as_outputs()
            elif step == "side":
                out = refresh_side_panels(queries, trend, "zh")
                trend = out[1]
            else:
                out = event_rows(queries.grid_events(), datetime.now(UTC), "zh")
            json.dumps(out, cls=plotly.utils.PlotlyJSONEncoder)
            callbacks.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        with queries._pool.connection() as conn:  # noqa: SLF001 - the same pool, bare
            conn.execute("SELECT 1").fetchone()
        baseline.append((time.perf_counter() - start) * 1000)
    return callbacks, baseline


def first_render(url: str, timeout_s: float = 60.0) -> float | None:
    """Seconds until map and alert list are drawn; None when not within timeout_s."""
    driver = chromium_driver(1920, 1080)
    try:
        start = time.perf_counter()
        driver.get(url)
        try:
            WebDriverWait(driver, timeout_s, poll_frequency=0.05).until(
                lambda d: (
                    d.execute_script(MAP_DRAWN_JS)
                    and d.execute_script(
                        "return !!document.querySelector('#alert-list .alert-item');"
                    )
                )
            )
        except TimeoutException:
            say(f"the page did not finish drawing within {timeout_s:.0f} s")
            return None
        return time.perf_counter() - start
    finally:
        driver.quit()


@contextmanager
def ingest_running(settings: Settings, log: Path) -> Iterator[None]:
    """`gridwatch ingest` for the bench site in a process of its own, once it consumes.

    Ready means a status message published for a probe device has reached the database.
    """
    env = {**os.environ, "GRIDWATCH_METRICS_PORT": "0"}
    for name in ("database_url", "mqtt_host", "mqtt_port", "site_id", "data_dir"):
        env[f"GRIDWATCH_{name.upper()}"] = str(getattr(settings, name))
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gridwatch.cli", "ingest"], env=env, stdout=out, stderr=out
        )
    client = make_client(settings, client_id=f"bench-dash-probe-{uuid.uuid4().hex[:8]}")
    try:
        connect(client, settings)
        client.loop_start()
        with db.connection(str(settings.database_url)) as conn:
            probe = conn.execute("SELECT id, grid_id FROM devices ORDER BY id LIMIT 1").fetchone()
            conn.execute("DELETE FROM device_status WHERE device_id = %s", (probe["id"],))
            conn.commit()
            topic = device_topic(settings.site_id, probe["grid_id"], probe["id"], "status")
            deadline = time.monotonic() + 90
            while not conn.execute(
                "SELECT 1 FROM device_status WHERE device_id = %s", (probe["id"],)
            ).fetchone():
                conn.commit()
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"ingest did not start: {log.read_text()[-2000:]}")
                client.publish(topic, b"online", qos=1)
                time.sleep(0.5)
        yield
    finally:
        client.loop_stop()
        client.disconnect()
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def alert_to_screen(url: str, settings: Settings, samples: int) -> tuple[list[float], list[float]]:
    """Seconds from publishing an edge-AI camera's event on MQTT to its alert on the page,
    and (second list) to its row committed by ingest.

    The event goes through the broker and ingest (decode, alert pipeline, commit, NOTIFY)
    like a camera's; the clock stops when the alert's row is in the browser's alert list.
    """
    driver = chromium_driver(1920, 1080)
    client = make_client(settings, client_id=f"bench-dash-camera-{uuid.uuid4().hex[:8]}")
    delays, committed = [], []
    try:
        connect(client, settings)
        client.loop_start()
        driver.get(url)
        WebDriverWait(driver, 90).until(lambda d: d.execute_script(MAP_DRAWN_JS))
        with db.connection(str(settings.database_url)) as conn:
            cameras = conn.execute(
                "SELECT id, grid_id FROM devices d WHERE kind = 'fire_lane_camera' AND NOT EXISTS"
                " (SELECT 1 FROM alerts a WHERE a.device_id = d.id AND a.state <> 'cleared')"
                " ORDER BY id LIMIT %s",
                (samples,),
            ).fetchall()
            for camera in cameras:
                topic = device_topic(settings.site_id, camera["grid_id"], camera["id"], "event")
                event = {"ts": time.time(), "type": "fire_lane_occupied", "confidence": 0.9}
                start = time.perf_counter()
                client.publish(topic, json.dumps(event), qos=1)
                alert_id = _wait_for_alert(conn, camera["id"])
                committed.append(time.perf_counter() - start)
                WebDriverWait(driver, 30, poll_frequency=0.02).until(
                    lambda d, i=alert_id: d.execute_script(
                        "return !!document.querySelector(`[data-alert-id='${arguments[0]}']`);",
                        str(i),
                    )
                )
                delays.append(time.perf_counter() - start)
                time.sleep(0.3)  # spread the samples over the refresh cycle
    finally:
        client.loop_stop()
        client.disconnect()
        driver.quit()
    return delays, committed


def _wait_for_alert(conn: psycopg.Connection, device_id: str, timeout_s: float = 30.0) -> int:
    """The id of the device's open alert, once ingest has committed it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        row = conn.execute(
            "SELECT id FROM alerts WHERE device_id = %s AND state <> 'cleared'", (device_id,)
        ).fetchone()
        conn.commit()
        if row:
            return int(row["id"])
        time.sleep(0.01)
    raise RuntimeError(f"no alert for {device_id} within {timeout_s:.0f} s of its event")


def memory_under_load(url: str, pid: int, browsers: int, minutes: float) -> dict[str, float]:
    drivers = []
    try:
        start_rss = rss_mb(pid)
        for _ in range(browsers):
            driver = chromium_driver(1920, 1080)
            driver.get(url)
            drivers.append(driver)
        peak = start_rss
        samples = []
        deadline = time.monotonic() + minutes * 60
        while time.monotonic() < deadline:
            time.sleep(5)
            samples.append(rss_mb(pid))
            peak = max(peak, samples[-1])
        return {
            "rss_start_mb": round(start_rss, 1),
            "rss_after_first_minute_mb": round(samples[min(11, len(samples) - 1)], 1),
            "rss_end_mb": round(samples[-1], 1),
            "rss_peak_mb": round(peak, 1),
        }
    finally:
        for driver in drivers:
            driver.quit()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="memory test duration")
    parser.add_argument("--browsers", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=40, help="refresh rounds timed")
    parser.add_argument("--renders", type=int, default=3, help="first renders timed")
    parser.add_argument("--samples", type=int, default=20, help="alerts timed to the screen")
    args = parser.parse_args(argv)
    for what, port in (("PostgreSQL", 5432), ("an MQTT broker", 1883)):
        if not port_answers("127.0.0.1", port):
            say(f"bench.dashboard needs {what} at 127.0.0.1:{port}")
            return 2

    name = f"gridwatch_bench_dash_{uuid.uuid4().hex[:6]}"
    site_id = f"{SITE_ID}{uuid.uuid4().hex[:6]}"  # the broker is shared: topics of our own
    ensure_database(ADMIN_URL, name)
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    server = None
    try:
        db.migrate(url)
        say("building the large site …")
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as folder, db.connection(url) as conn:
            size = build_large_site(conn, Path(folder), site_id)
        say(f"  {size} in {time.perf_counter() - t0:.0f} s")

        queries = DashboardQueries.connect(url)
        try:
            callbacks, baseline = time_callbacks(queries, args.rounds)
        finally:
            queries.close()
        say(f"callbacks: p95 {p95(callbacks):.0f} ms over {len(callbacks)}")

        port = free_port()
        env = {
            **os.environ,
            "GRIDWATCH_DATABASE_URL": url,
            "GRIDWATCH_SITE_ID": site_id,
            "GRIDWATCH_DASHBOARD_PORT": str(port),
        }
        server = subprocess.Popen([sys.executable, "-m", "gridwatch.cli", "dashboard"], env=env)
        page = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 60
        while not port_answers("127.0.0.1", port):
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the dashboard did not start")
            time.sleep(0.2)

        renders = [first_render(page) for _ in range(args.renders)]
        drawn = [r for r in renders if r is not None]
        say(f"first render: {renders} s")
        with tempfile.TemporaryDirectory() as data_dir:
            settings = Settings(
                database_url=url,
                site_id=site_id,
                mqtt_host="127.0.0.1",
                mqtt_port=1883,
                data_dir=Path(data_dir),
            )
            with ingest_running(settings, Path(data_dir) / "ingest.log"):
                delays, committed = alert_to_screen(page, settings, args.samples)
        say(f"alert to screen: p95 {p95(delays):.2f} s over {len(delays)}")
        say(f"{args.browsers} browsers for {args.minutes} min …")
        memory = memory_under_load(page, server.pid, args.browsers, args.minutes)
        say(f"  {memory}")

        print(
            json.dumps(
                {
                    "bench": "dashboard",
                    **size,
                    "p95_callback_ms": round(p95(callbacks), 1),
                    "median_callback_ms": round(statistics.median(callbacks), 1),
                    "first_render_s": round(statistics.median(drawn), 2) if drawn else None,
                    "first_renders_s": [None if r is None else round(r, 2) for r in renders],
                    "p95_alert_to_screen_s": round(p95(delays), 2),
                    "median_alert_to_screen_s": round(statistics.median(delays), 2),
                    # Of that, publish until ingest's commit (polled every 10 ms).
                    "p95_publish_to_commit_s": round(p95(committed), 2),
                    "browsers": args.browsers,
                    "minutes": args.minutes,
                    **memory,
                    "load_average_1m": round(os.getloadavg()[0], 1),
                    "baseline": {"p95_select_1_ms": round(p95(baseline), 2)},
                }
            )
        )
        return 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
