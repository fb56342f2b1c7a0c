"""Big-screen speed on a large site: refresh callbacks, first render, alert to screen, memory.

python -m bench.dashboard [--minutes 10] [--browsers 10]

Builds a site of 500 grids and ~5,000 devices with 100,000 alerts of history and 2,000 open
work orders in a database of its own, starts the dashboard as its own process, and measures:
- p95_callback_ms: the big screen's refresh callbacks (main, side panels, events feed),
  called in this process against that database, JSON encoding included;
- first_render_s: headless Chromium, page load until the map has drawn and the alert list
  is filled;
- p95_alert_to_screen_s: an alert committed with its NOTIFY (as ingest does) until its row
  is visible in the browser;
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
from gridwatch.services import ensure_database, port_answers

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


def alert_to_screen(url: str, database_url: str, samples: int) -> list[float]:
    driver = chromium_driver(1920, 1080)
    delays = []
    try:
        driver.get(url)
        WebDriverWait(driver, 60).until(lambda d: d.execute_script(MAP_DRAWN_JS))
        with db.connection(database_url) as conn:
            devices = [
                r["id"]
                for r in conn.execute(
                    "SELECT id FROM devices d WHERE NOT EXISTS (SELECT 1 FROM alerts a"
                    " WHERE a.device_id = d.id AND a.state <> 'cleared') ORDER BY id LIMIT %s",
                    (samples,),
                )
            ]
            for device in devices:
                start = time.perf_counter()
                row = conn.execute(
                    "INSERT INTO alerts (site_id, device_id, grid_id, type, severity, title,"
                    " first_seen, last_seen) SELECT site_id, id, grid_id, 'smoke', 'critical',"
                    " 'bench', now(), now() FROM devices WHERE id = %s RETURNING id",
                    (device,),
                ).fetchone()
                conn.execute("SELECT pg_notify(%s, %s)", (db.ALERTS_CHANNEL, f"raised:{row['id']}"))
                conn.commit()
                WebDriverWait(driver, 30, poll_frequency=0.02).until(
                    lambda d, i=row["id"]: d.execute_script(
                        "return !!document.querySelector(`[data-alert-id='${arguments[0]}']`);",
                        str(i),
                    )
                )
                delays.append(time.perf_counter() - start)
                time.sleep(0.3)  # spread the samples over the refresh cycle
    finally:
        driver.quit()
    return delays


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
    parser.add_argument("--samples", type=int, default=20, help="alerts timed to the screen")
    args = parser.parse_args(argv)
    if not port_answers("127.0.0.1", 5432):
        say("bench.dashboard needs PostgreSQL at 127.0.0.1:5432 (GRIDWATCH_BENCH_PG_ADMIN_URL)")
        return 2

    name = f"gridwatch_bench_dash_{uuid.uuid4().hex[:6]}"
    ensure_database(ADMIN_URL, name)
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    server = None
    try:
        db.migrate(url)
        say("building the large site …")
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as folder, db.connection(url) as conn:
            size = build_large_site(conn, Path(folder), SITE_ID)
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
            "GRIDWATCH_SITE_ID": SITE_ID,
            "GRIDWATCH_DASHBOARD_PORT": str(port),
        }
        server = subprocess.Popen([sys.executable, "-m", "gridwatch.cli", "dashboard"], env=env)
        page = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 60
        while not port_answers("127.0.0.1", port):
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the dashboard did not start")
            time.sleep(0.2)

        render = first_render(page)
        say(f"first render: {render} s")
        delays = alert_to_screen(page, url, args.samples)
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
                    "first_render_s": None if render is None else round(render, 2),
                    "p95_alert_to_screen_s": round(p95(delays), 2),
                    "browsers": args.browsers,
                    "minutes": args.minutes,
                    **memory,
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
