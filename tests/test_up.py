"""`gridwatch up`, the README's first command: it comes up, and a stop leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest

from gridwatch.services import ensure_database, free_port, port_answers
from tests.conftest import LOCAL_PG
from tests.helpers import wait_for


@pytest.fixture()
def fresh_database_url() -> str:
    if not port_answers("127.0.0.1", 5432):
        pytest.skip("needs the PostgreSQL at 127.0.0.1:5432 for a database of its own")
    name = f"gridwatch_up_{uuid.uuid4().hex[:8]}"
    ensure_database(LOCAL_PG, name)
    yield LOCAL_PG.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(LOCAL_PG, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _processes_in_sessions(session_ids: set[int]) -> list[int]:
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the ")" ending the command name: state, ppid, pgrp, session, ...
        if fields[0] != "Z" and int(fields[3]) in session_ids:
            alive.append(int(entry.name))
    return alive


def test_sigterm_stops_every_part_that_up_started(fresh_database_url: str, tmp_path: Path) -> None:
    mqtt_port, web_port = free_port(), free_port()
    env = dict(
        os.environ,
        GRIDWATCH_DATABASE_URL=fresh_database_url,
        GRIDWATCH_MQTT_PORT=str(mqtt_port),
        GRIDWATCH_DATA_DIR=str(tmp_path / "data"),
        GRIDWATCH_METRICS_PORT="0",
    )
    up = subprocess.Popen(
        [sys.executable, "-m", "gridwatch.cli", "up", "--no-simulators", "--port", str(web_port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert up.stdout is not None
        for line in up.stdout:
            lines.append(line)
            if "up in" in line or up.poll() is not None:
                break
        assert any("up in" in line for line in lines), "".join(lines)
        with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/", timeout=10) as page:
            assert page.status == 200
        children = {
            int(pid)
            for pid in subprocess.run(
                ["pgrep", "-P", str(up.pid)], capture_output=True, text=True
            ).stdout.split()
        }
        assert len(children) >= 4, "ingest, dispatch, dashboard and maintain run as children"

        up.send_signal(signal.SIGTERM)
        assert up.wait(timeout=30) == 0
        wait_for(
            lambda: not _processes_in_sessions(children),
            timeout_s=15,
            what="every child of `gridwatch up` to end",
        )
        assert not port_answers("127.0.0.1", web_port)
        assert not port_answers("127.0.0.1", mqtt_port), "the local broker is stopped too"
    finally:
        if up.poll() is None:
            up.kill()
