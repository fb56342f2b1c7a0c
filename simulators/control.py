"""The testers' simulator: incidents and scenarios on request, over MQTT (docs/PROTOCOL.md).

`gridwatch simulate serve` listens on gw/sim/v1/{site}/control for
  {"action": "inject", "device": ID, "incident": NAME, ...incident fields}
  {"action": "start", "scenario": NAME}            {"action": "stop"}
and publishes what it is doing, retained, on gw/sim/v1/{site}/state: the bundled scenarios,
what is playing, the last injections with the alerts that followed and their latency, and
the verdict of the last scenario. The tester console is one client; any MQTT client can be.
The topics sit outside gw/v1/{site}/#, so ingest never mistakes them for a device's.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from collections import deque
from typing import Any

import paho.mqtt.client as paho
from pydantic import TypeAdapter, ValidationError

from gridwatch.mqtt import connect, make_client
from gridwatch.settings import Settings
from gridwatch.site import Site
from simulators.checks import ALERT_EVENTS, COMMAND, EARLY_TOLERANCE_S, STATUS, Observed
from simulators.player import Report, ScenarioPlayer, sim_devices
from simulators.report import report_lines
from simulators.scenario import (
    SCENARIO_DIR,
    Incident,
    Scenario,
    ScenarioError,
    find_scenario,
    incident_problem,
    load_scenario,
)

log = logging.getLogger(__name__)

SIM_PREFIX = "gw/sim/v1"
KEEP_INJECTIONS = 20
STATE_EVERY_S = 0.5
# Devices an incident's consequences reach: the alarm a fire-lane camera switches on, the
# controller that holds an elevator's doors, a shed's smoke detector and sockets.
LINK_FIELDS = ("alarm_device", "elevator_controller", "smoke_detector", "sockets")
_incident = TypeAdapter(Incident)


def control_topic(site_id: str) -> str:
    return f"{SIM_PREFIX}/{site_id}/control"


def state_topic(site_id: str) -> str:
    return f"{SIM_PREFIX}/{site_id}/state"


def device_group(site: Site, device_id: str) -> list[str]:
    """The device and those its incidents reach, in a stable order."""
    config = site.device(device_id).config.model_dump()
    group = [device_id]
    for name in LINK_FIELDS:
        linked = config.get(name)
        for other in linked if isinstance(linked, list) else [linked] if linked else []:
            if other not in group:
                group.append(other)
    return group


def followed_alerts(injection: dict[str, Any], observed: list[Observed]) -> list[dict[str, Any]]:
    """Alerts raised or repeated on the injection's devices from its scene time on."""
    return [
        {
            "type": seen.subject,
            "device": seen.device,
            "event": seen.event,
            "latency_s": round(max(0.0, seen.scene_t - injection["at"]), 1),
            "pipeline_ms": None if seen.wall_delay_s is None else round(seen.wall_delay_s * 1000),
        }
        for seen in observed
        if seen.device in injection["group"]
        and seen.subject not in (STATUS, COMMAND)
        and seen.event in ALERT_EVENTS
        and seen.scene_t >= injection["at"] - EARLY_TOLERANCE_S
    ]


def followed_statuses(injection: dict[str, Any], observed: list[Observed]) -> list[dict[str, Any]]:
    """For a device taken offline: its last will heard, then its coming back (if it did).

    A device joining the session announces itself online too, so only an online after the
    offline counts as coming back.
    """
    if injection["incident"] != "device_offline":
        return []
    found: list[dict[str, Any]] = []
    for seen in observed:
        wanted = "online" if found else "offline"
        if (
            seen.device == injection["device"]
            and seen.subject == STATUS
            and seen.event == wanted
            and seen.scene_t >= injection["at"] - EARLY_TOLERANCE_S
        ):
            found.append(
                {
                    "device": seen.device,
                    "event": seen.event,
                    "latency_s": round(max(0.0, seen.scene_t - injection["at"]), 1),
                }
            )
            if wanted == "online":
                break
    return found


class SimulationControl:
    """Plays one thing at a time for testers: a live session injections go into, or a scenario."""

    def __init__(self, settings: Settings, site: Site, *, speed: float = 10.0) -> None:
        self.settings, self.site, self.speed = settings, site, speed
        self._lock = threading.Lock()
        self._player: ScenarioPlayer | None = None
        self._thread: threading.Thread | None = None
        self._injections: deque[dict[str, Any]] = deque(maxlen=KEEP_INJECTIONS)
        self._last: dict[str, Any] | None = None
        self._error = ""

    # ---- requests -------------------------------------------------------------------------

    def handle(self, request: dict[str, Any]) -> None:
        """Carry out one control message; a bad one is reported in the state, not raised."""
        action = request.get("action")
        try:
            if action == "inject":
                self.inject({k: v for k, v in request.items() if k != "action"})
            elif action == "start":
                self.start_scenario(str(request.get("scenario", "")))
            elif action == "stop":
                self.stop()
            else:
                raise ValueError(f"unknown action {action!r}; use inject, start or stop")
            self._error = ""
        except (ValueError, ScenarioError, RuntimeError) as err:
            log.warning("simulator control: %s", err)
            self._error = str(err)

    def inject(self, fields: dict[str, Any]) -> None:
        device_id = str(fields.get("device", ""))
        try:
            device = self.site.device(device_id)
        except KeyError:
            raise ValueError(f"no device {device_id!r} in site {self.site.id}") from None
        try:
            item = _incident.validate_python({"at": 0, **fields})
        except ValidationError as err:
            problem = err.errors()[0]
            where = ".".join(str(p) for p in problem["loc"][1:]) or "incident"
            raise ValueError(f"bad incident: {where}: {problem['msg']}") from None
        problem = incident_problem(item, device)
        if problem:
            raise ValueError(problem)
        group = device_group(self.site, device_id)
        with self._lock:
            player = self._player
            if player is None or self._thread is None or not self._thread.is_alive():
                session = Scenario(
                    name="tester session", duration_s=6 * 3600, devices=group, speed=self.speed
                )
                player = self._start(
                    ScenarioPlayer(self.settings, self.site, session, endless=True)
                )
            else:
                player.add_devices(sim_devices(self.site, group))
        timed = player.inject(item)
        self._injections.appendleft(
            {
                "id": uuid.uuid4().hex[:8],
                "device": device_id,
                "group": group,
                "incident": item.incident,
                "at": round(timed.at, 1),
                "wall": time.time(),
                "player": id(player),
            }
        )

    def start_scenario(self, name: str) -> None:
        scenario = load_scenario(find_scenario(name), self.site)
        self.stop()
        with self._lock:
            self._start(ScenarioPlayer(self.settings, self.site, scenario))

    def stop(self) -> None:
        with self._lock:
            player, thread = self._player, self._thread
        if player is not None and thread is not None:
            player.stop()
            thread.join(timeout=30)

    def _start(self, player: ScenarioPlayer) -> ScenarioPlayer:
        def play() -> None:
            try:
                report = player.run()
                self._finished(player, report)
            except RuntimeError as err:
                self._error = str(err)
                log.error("simulator control: %s", err)

        self._player = player
        self._thread = threading.Thread(target=play, name="sim-player", daemon=True)
        self._thread.start()
        if not player.ready.wait(30):
            raise RuntimeError("the simulated devices did not come online within 30 s")
        return player

    def _finished(self, player: ScenarioPlayer, report: Report) -> None:
        if not player.endless:
            self._last = {
                "name": report.scenario,
                "passed": report.passed,
                "lines": report_lines(report),
            }

    # ---- state ----------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        player, thread = self._player, self._thread
        playing = player is not None and thread is not None and thread.is_alive()
        running = None
        if playing and player is not None:
            running = {
                "name": player.scenario.name,
                "scenario": not player.endless,
                "scene_t": round(player.position, 1),
                "duration_s": None if player.endless else player.scenario.duration_s,
                "frames": player.counts["frames"],
                "readings": player.counts["readings"],
                "devices": sorted(player.stage.devices),
            }
        observed = player.observed() if player is not None else []
        injections = []
        for injection in self._injections:
            mine = player is not None and injection["player"] == id(player)
            public = {k: v for k, v in injection.items() if k not in ("player", "group")}
            injections.append(
                {
                    **public,
                    "alerts": followed_alerts(injection, observed)[:5] if mine else [],
                    "statuses": followed_statuses(injection, observed) if mine else [],
                }
            )
        return {
            "ts": time.time(),
            "scenarios": sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml")),
            "running": running,
            "injections": injections,
            "last_scenario": self._last,
            "error": self._error,
        }

    # ---- the service ----------------------------------------------------------------------

    def serve(self, stop: threading.Event) -> None:
        """Answer control messages and publish the state until stop is set."""
        site = self.settings.site_id
        subscribed = threading.Event()
        client = make_client(self.settings, client_id=f"sim-control-{site}-{uuid.uuid4().hex[:6]}")

        requests: queue.Queue[dict[str, Any] | None] = queue.Queue()

        def on_message(client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
            try:
                request = json.loads(msg.payload)
            except json.JSONDecodeError:
                self._error = "a control message that is not JSON was ignored"
                return
            requests.put(request if isinstance(request, dict) else {"action": request})

        def carry_out() -> None:
            # Requests may take seconds (devices connecting): not on the network thread, and
            # one after another, in the order they came.
            while (request := requests.get()) is not None:
                self.handle(request)

        worker = threading.Thread(target=carry_out, name="sim-control", daemon=True)
        worker.start()

        client.on_message = on_message
        client.on_subscribe = lambda *args: subscribed.set()
        client.on_connect = lambda c, *a: c.subscribe(control_topic(site), qos=1)
        connect(client, self.settings)
        client.loop_start()
        if not subscribed.wait(10):
            raise RuntimeError(f"could not subscribe to {control_topic(site)}")
        log.info("tester simulator listening on %s", control_topic(site))
        try:
            while not stop.wait(STATE_EVERY_S):
                client.publish(state_topic(site), json.dumps(self.state()), qos=1, retain=True)
        finally:
            requests.put(None)
            self.stop()
            client.publish(state_topic(site), b"", qos=1, retain=True).wait_for_publish(2)
            client.disconnect()
            client.loop_stop()
