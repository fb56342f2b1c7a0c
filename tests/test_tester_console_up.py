"""`gridwatch up --tester`: the whole system comes up quiet, with the testers' simulator
answering requests over MQTT and the console page served; SIGTERM stops it all."""

from __future__ import annotations

import json
import signal
import urllib.request
from pathlib import Path

from gridwatch.services import port_answers
from gridwatch.settings import load_settings
from tests.helpers import Recorder, gridwatch_up, publisher, wait_for

SITE = "haichuan"  # the demo site `up` loads
CAMERA, OFFLINE_S = "fl-010105-1", 3


def _latest_state(recorder: Recorder) -> dict | None:
    payloads = recorder.on(f"gw/sim/v1/{SITE}/state")
    return json.loads(payloads[-1]) if payloads and payloads[-1] else None


def test_up_tester_serves_the_console_and_plays_what_a_tester_asks_for(
    fresh_database_url: str,
    tmp_path: Path,
) -> None:
    with gridwatch_up(fresh_database_url, tmp_path / "data", "--tester") as up:
        mqtt_port, web_port, output = up.mqtt_port, up.web_port, up.output
        assert f"tester console: http://127.0.0.1:{web_port}/tester" in output, output
        with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/tester", timeout=10) as page:
            assert page.status == 200

        settings = load_settings(mqtt_port=mqtt_port, site_id=SITE)
        recorder = Recorder(settings, f"gw/sim/v1/{SITE}/state")
        state = wait_for(lambda: _latest_state(recorder), 30, "the simulator's state")
        assert "nothing_wrong" in state["scenarios"] and state["running"] is None, "quiet"

        request = {"action": "inject", "device": CAMERA, "incident": "device_offline"}
        client = publisher(settings)
        client.publish(
            f"gw/sim/v1/{SITE}/control", json.dumps({**request, "for_s": OFFLINE_S}), qos=1
        )

        def back_online() -> list[dict] | None:
            state = _latest_state(recorder) or {}
            injections = state.get("injections") or [{}]
            statuses = injections[0].get("statuses") or []
            return statuses if [s["event"] for s in statuses] == ["offline", "online"] else None

        statuses = wait_for(back_online, 60, f"{CAMERA} to drop offline and come back")
        assert OFFLINE_S - 1 <= statuses[1]["latency_s"] <= OFFLINE_S + 3
        client.disconnect()
        client.loop_stop()
        recorder.close()

        up.process.send_signal(signal.SIGTERM)
        assert up.process.wait(timeout=30) == 0
        assert not port_answers("127.0.0.1", web_port)
        assert not port_answers("127.0.0.1", mqtt_port), "the local broker is stopped too"
