"""`gridwatch up`: broker, database, ingest, dispatch, simulators and dashboard together.

Configured services are used when they answer; otherwise a local broker and an embedded
PostgreSQL are started under the data folder. Each part runs in its own process (two cores
are better used that way); Ctrl-C or SIGTERM stops them all, then the embedded services.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack

from gridwatch import db
from gridwatch.services import port_answers, start_embedded_database, start_local_broker
from gridwatch.settings import PROJECT_ROOT, Settings
from gridwatch.site import load_site, store_site

DASHBOARD_START_TIMEOUT_S = 60.0
DEMO_SITE_DIR = PROJECT_ROOT / "site" / "demo"


def _say(message: str) -> None:
    print(f"[gridwatch] {message}", flush=True)


def _child_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if value is not None:
            env[f"GRIDWATCH_{name.upper()}"] = str(value)
    return env


def run_everything(settings: Settings, *, simulators: bool = True, tester: bool = False) -> int:
    """Start every part; with tester, the testers' simulator replaces the demo's devices."""
    started = time.monotonic()
    # `kill` or a service manager stops us with SIGTERM: clean up as for Ctrl-C, since the
    # children run in sessions of their own and would otherwise be left behind.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        if port_answers(settings.mqtt_host, settings.mqtt_port):
            _say(f"broker: using the one at {settings.mqtt_host}:{settings.mqtt_port}")
        else:
            broker = start_local_broker(settings.data_dir / "broker", settings.mqtt_port)
            stack.callback(broker.stop)
            settings = settings.model_copy(
                update={
                    "mqtt_host": broker.host,
                    "mqtt_port": broker.port,
                    "mqtt_protocol": "5" if broker.kind == "mosquitto" else "3.1.1",
                }
            )
            _say(f"broker: started a local {broker.kind} on {broker.host}:{broker.port}")
        if settings.database_url:
            _say("database: using GRIDWATCH_DATABASE_URL")
        else:
            _say("database: starting an embedded PostgreSQL (first start takes a few seconds)")
            embedded = start_embedded_database(settings.data_dir)
            stack.callback(embedded.stop)
            settings = settings.model_copy(update={"database_url": embedded.url})
        assert settings.database_url
        applied = db.migrate(settings.database_url)
        _say(f"database: {len(applied)} migration(s) applied")
        site = load_site(settings.site_dir)
        settings = settings.model_copy(update={"site_id": site.id})
        with db.connection(settings.database_url) as conn:
            counts = store_site(conn, site)
            if settings.site_dir.resolve() == DEMO_SITE_DIR:
                # Known logins and tokens (docs/API.md), only for the shipped demo site.
                from dispatch.api.accounts import ensure_demo_logins

                ensure_demo_logins(conn)
                conn.commit()
        _say("site: " + ", ".join(f"{n} {what}" for what, n in counts.items()))

        parts = {
            "ingest": ["ingest"],
            "dispatch": ["dispatch"],
            "dashboard": ["dashboard"],
            "maintain": ["maintain"],
        }
        if tester:
            parts["simulators"] = ["simulate", "serve"]
        elif simulators:
            parts["simulators"] = ["simulate", "devices", "--max-fps", "2"]
        env = _child_env(settings)
        children: dict[str, subprocess.Popen[bytes]] = {}
        for name, args in parts.items():
            children[name] = subprocess.Popen(
                [sys.executable, "-m", "gridwatch.cli", *args], env=env, start_new_session=True
            )
        stack.callback(_stop_children, children)

        url = f"http://{settings.dashboard_host}:{settings.dashboard_port}/"
        deadline = time.monotonic() + DASHBOARD_START_TIMEOUT_S
        while not port_answers(settings.dashboard_host, settings.dashboard_port):
            if time.monotonic() > deadline or children["dashboard"].poll() is not None:
                _say("the dashboard did not start; see its log above")
                return 1
            time.sleep(0.2)
        _say(f"up in {time.monotonic() - started:.0f} s. Big screen: {url}")
        _say(f"API: {url}api/v1/openapi.json, reports: {url}open311/v2/ (docs/API.md)")
        _say(
            f"running: {', '.join(children)}; MQTT at {settings.mqtt_host}:{settings.mqtt_port}"
            f", topics gw/v1/{settings.site_id}/#; evidence in {settings.evidence_dir()}"
        )
        if tester:
            _say(f"tester console: {url}tester (incidents and scenarios on request)")
        elif simulators:
            _say(
                "an e-bike and a falling object appear within two minutes; "
                "simulated cars start parking in fire lanes at once: the first alert follows "
                "after the 120 s dwell time, then one every minute or so; a charging socket "
                "starts overheating after a minute and every 7 minutes after that; the first "
                "charging-shed fire sets off its smoke detector after 8 minutes"
            )
        _say("Ctrl-C stops everything.")
        try:
            while True:
                for name, child in children.items():
                    if child.poll() is not None:
                        _say(f"{name} exited with status {child.returncode}; stopping the rest")
                        return 1
                time.sleep(0.5)
        except KeyboardInterrupt:
            _say("stopping")
            return 0


def _interrupt(signum: int, _frame: object) -> None:
    # A repeated signal (`timeout` or a supervisor passing it on) must not cut the clean-up
    # short and leave children running.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _stop_children(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for child in children.values():
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
