"""`gridwatch up`, the README's first command: it comes up, and a stop leaves nothing behind."""

from __future__ import annotations

import signal
import subprocess
import urllib.request
from pathlib import Path

from gridwatch.services import port_answers
from tests.helpers import gridwatch_up, wait_for


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


def test_sigterm_even_repeated_stops_every_part_that_up_started(
    fresh_database_url: str, tmp_path: Path
) -> None:
    with gridwatch_up(fresh_database_url, tmp_path / "data", "--no-simulators") as up:
        assert "up in" in up.output, up.output
        with urllib.request.urlopen(f"http://127.0.0.1:{up.web_port}/", timeout=10) as page:
            assert page.status == 200
        children = {
            int(pid)
            for pid in subprocess.run(
                ["pgrep", "-P", str(up.process.pid)], capture_output=True, text=True
            ).stdout.split()
        }
        assert len(children) >= 4, "ingest, dispatch, dashboard and maintain run as children"

        up.process.send_signal(signal.SIGTERM)
        assert up.process.stdout is not None
        for line in up.process.stdout:
            if "stopping" in line:
                break
        # Supervisors and `timeout` repeat the signal; clean-up must still finish.
        up.process.send_signal(signal.SIGTERM)
        assert up.process.wait(timeout=30) == 0
        wait_for(
            lambda: not _processes_in_sessions(children),
            timeout_s=15,
            what="every child of `gridwatch up` to end",
        )
        assert not port_answers("127.0.0.1", up.web_port)
        assert not port_answers("127.0.0.1", up.mqtt_port), "the local broker is stopped too"
