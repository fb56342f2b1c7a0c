"""Plays a scenario against a running GridWatch and listens to what it says back.

Every device of the scenario gets its own MQTT connection (own login, last will, commands
answered); cameras send rendered frames and sensors readings on one timetable in scene time.
Incidents can also be injected while it plays (the tester console does), and the player can
run without an end (a live session).
"""

from __future__ import annotations

import heapq
import json
import logging
import math
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho

from gridwatch.mqtt import connect, make_client
from gridwatch.settings import Settings
from gridwatch.site import Site
from simulators.checks import COMMAND, Observed, Outcome, judge
from simulators.clock import SceneClock
from simulators.incidents import Stage, camera_fps
from simulators.mqtt_devices import DeviceConnection, SimDevice
from simulators.scenario import DeviceOffline, Incident, Scenario
from simulators.scenes.fire_lane import encode_jpeg

log = logging.getLogger(__name__)

SENSOR_PERIOD_S = 10.0
JPEG_QUALITY = 80
# Wall seconds to wait after the last scene second for alerts still in the pipeline.
SETTLE_S = 3.0
# An injected incident starts this many scene seconds after the request reaches the player.
INJECT_LEAD_S = 1.0

FRAME, READING, OFFLINE, ONLINE = range(4)


@dataclass
class Progress:
    scene_t: float
    duration_s: float | None
    frames: int
    readings: int
    alerts: int


@dataclass
class Report:
    scenario: str
    outcomes: list[Outcome]
    frames: int
    readings: int
    wall_s: float
    observed: list[Observed] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(outcome.passed for outcome in self.outcomes)


def sim_devices(site: Site, ids: list[str]) -> list[SimDevice]:
    by_id = {device.id: device for device in site.devices}
    return [
        SimDevice(d.id, d.grid_id, str(d.kind), d.config.model_dump())
        for d in (by_id[i] for i in ids)
    ]


class AlertListener:
    """Records what GridWatch publishes about the site's devices: alerts and statuses."""

    def __init__(
        self, settings: Settings, clock: SceneClock, position: Callable[[], float]
    ) -> None:
        self.observed: list[Observed] = []
        self._clock = clock
        self._position = position
        self._lock = threading.Lock()
        subscribed = threading.Event()
        site = settings.site_id
        self.client = make_client(settings, client_id=f"sim-listener-{uuid.uuid4().hex[:8]}")
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: subscribed.set()
        connect(self.client, settings)
        self.client.subscribe([(f"gw/v1/{site}/alerts/#", 1), (f"gw/v1/{site}/+/+/status", 1)])
        self.client.loop_start()
        if not subscribed.wait(10):
            raise RuntimeError("the scenario player could not subscribe to the site's alerts")

    def _on_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        arrived = time.time()
        try:
            payload = json.loads(msg.payload)
        except json.JSONDecodeError:
            return
        clock = self._clock
        if msg.topic.endswith("/status"):
            seen = Observed(
                device=msg.topic.split("/")[4],
                subject="status",
                event="online" if payload.get("online") else "offline",
                # Where the player had got to: a player running behind its clock must not
                # make the broker look slow.
                scene_t=self._position(),
            )
        else:
            frame_ts = payload.get("details", {}).get("frame_ts")
            scene_t = (frame_ts if frame_ts else arrived) - clock.start_epoch
            if frame_ts is not None and frame_ts < clock.start_epoch - 1:
                return  # about an earlier run's frames
            seen = Observed(
                device=str(payload.get("device")),
                subject=str(payload.get("type")),
                event=str(payload.get("event")),
                scene_t=scene_t,
                wall_delay_s=arrived - (clock.start_epoch + scene_t / clock.speed),
                alert_id=payload.get("alert_id"),
            )
        with self._lock:
            self.observed.append(seen)

    def record(self, seen: Observed) -> None:
        """Add something heard elsewhere (a command a simulated device received)."""
        with self._lock:
            self.observed.append(seen)

    def snapshot(self) -> list[Observed]:
        with self._lock:
            return list(self.observed)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class ScenarioPlayer:
    """Connects a scenario's devices, then plays it (run) until its end or stop().

    While it plays, other threads may inject incidents and add devices (the tester console
    does); both are handed to the playing thread through a queue, as scenes are not shared.
    """

    def __init__(
        self,
        settings: Settings,
        site: Site,
        scenario: Scenario,
        *,
        speed: float | None = None,
        endless: bool = False,
    ) -> None:
        self.settings = settings
        self.scenario = scenario
        self.speed = speed or scenario.speed
        self.endless = endless
        self.stage = Stage.build(sim_devices(site, scenario.devices), scenario.seed)
        for item in scenario.timeline:
            self.stage.apply(item)
        self._requests: queue.Queue[Incident | list[SimDevice]] = queue.Queue()
        self._stop = threading.Event()
        self.ready = threading.Event()  # set once every device is online and scene time runs
        self.counts = {"frames": 0, "readings": 0}
        self.clock = SceneClock(self.speed)
        self.connections: dict[str, DeviceConnection] = {}
        self.listener: AlertListener | None = None
        self.position = 0.0  # scene time of the last frame, reading or event played
        self._due: list[tuple[float, int, int, str]] = []
        self._order = iter(range(1 << 62))  # ties keep insertion order, never compare ids
        self._fps: dict[str, float] = {}

    # ---- while it plays (any thread) ------------------------------------------------------

    def inject(self, item: Incident) -> Incident:
        """Schedule an incident INJECT_LEAD_S scene seconds from now; returns it as timed."""
        self.ready.wait(30)
        timed = item.model_copy(update={"at": self.clock.scene_now() + INJECT_LEAD_S})
        self._requests.put(timed)
        return timed

    def add_devices(self, devices: list[SimDevice]) -> None:
        """Bring more devices on stage; they start playing from the current scene time."""
        self._requests.put(devices)

    def stop(self) -> None:
        self._stop.set()

    def observed(self) -> list[Observed]:
        return self.listener.snapshot() if self.listener else []

    # ---- the loop -------------------------------------------------------------------------

    def _obey(self, device: SimDevice, command: dict[str, Any]) -> None:
        if self.listener is not None:
            # At the scene time the player had reached, as for a status.
            name = str(command.get("command"))
            self.listener.record(Observed(device.id, COMMAND, name, self.position))
        model = self.stage.sensors.get(device.id)
        if command.get("command") == "power_off" and model is not None:
            model.power_off(self.clock.scene_now())

    def _push(self, scene_t: float, kind: int, device_id: str) -> None:
        heapq.heappush(self._due, (scene_t, kind, next(self._order), device_id))

    def _schedule(self, device_ids: list[str], scene_t: float) -> None:
        """Put devices on the timetable from scene_t: frames at their rate, readings spread."""
        sensors = [d for d in device_ids if d in self.stage.sensors]
        for device_id in device_ids:
            if device_id in self.stage.scenes:
                self._fps[device_id] = camera_fps(
                    self.stage.devices[device_id], self.scenario.max_fps
                )
                self._push(scene_t, FRAME, device_id)
        for index, device_id in enumerate(sensors):
            self._push(scene_t + index * SENSOR_PERIOD_S / len(sensors), READING, device_id)

    def _handle(self, request: Incident | list[SimDevice]) -> None:
        if isinstance(request, list):
            new = [d for d in request if d.id not in self.stage.devices]
            self.stage.add(new, self.scenario.seed)
            for device in new:
                self.connections[device.id] = DeviceConnection(self.settings, device, self._obey)
            self._schedule([d.id for d in new], self.clock.scene_now())
            return
        self.stage.apply(request)
        if isinstance(request, DeviceOffline):
            self._handle_offline(request)

    def _play(self, scene_t: float, kind: int, device_id: str) -> None:
        connection = self.connections[device_id]
        if kind == FRAME:
            if connection.online:
                jpeg = encode_jpeg(self.stage.scenes[device_id].render(scene_t), JPEG_QUALITY)
                self.counts["frames"] += 1
                connection.publish_frame(jpeg, self.clock.epoch(scene_t), self.counts["frames"])
            self._push(scene_t + 1.0 / self._fps[device_id], FRAME, device_id)
        elif kind == READING:
            values = self.stage.sensors[device_id].reading(scene_t)
            if values and connection.online:
                connection.publish_telemetry(self.clock.epoch(scene_t), values)
                self.counts["readings"] += 1
            self._push(scene_t + SENSOR_PERIOD_S, READING, device_id)
        elif kind == OFFLINE:
            connection.drop_offline()
        else:
            connection.come_back()

    def run(self, progress: Callable[[Progress], None] | None = None) -> Report:
        """Play until the scenario's end (or stop()); judge what was heard; disconnect."""
        started = time.monotonic()
        try:
            for device in self.stage.devices.values():
                self.connections[device.id] = DeviceConnection(self.settings, device, self._obey)
            self.clock = SceneClock(self.speed)  # scene time starts once all are online
            self.listener = listener = AlertListener(
                self.settings, self.clock, lambda: self.position
            )
            self._schedule(list(self.stage.devices), 0.0)
            for item in self.scenario.timeline:
                if isinstance(item, DeviceOffline):
                    self._handle_offline(item)
            self.ready.set()
            observed = self._loop(listener, progress)
        finally:
            if self.listener is not None:
                self.listener.close()
            for connection in self.connections.values():
                connection.close()
        return Report(
            self.scenario.name,
            judge(self.scenario, observed),
            self.counts["frames"],
            self.counts["readings"],
            time.monotonic() - started,
            observed,
        )

    def _handle_offline(self, item: DeviceOffline) -> None:
        self._push(item.at, OFFLINE, item.device)
        if item.for_s is not None:
            self._push(item.at + item.for_s, ONLINE, item.device)

    def _loop(
        self, listener: AlertListener, progress: Callable[[Progress], None] | None
    ) -> list[Observed]:
        end = None if self.endless else self.scenario.duration_s
        next_report = 0.0
        while not self._stop.is_set():
            try:
                self._handle(self._requests.get_nowait())
                continue
            except queue.Empty:
                pass
            scene_t, kind, _, device_id = self._due[0] if self._due else (math.inf, 0, 0, "")
            if end is not None and scene_t > end:
                break
            wait = (scene_t - self.clock.scene_now()) / self.speed
            if wait > 0:
                try:
                    self._handle(self._requests.get(timeout=min(wait, 0.5)))
                except queue.Empty:
                    pass
                continue
            heapq.heappop(self._due)
            self.position = scene_t
            self._play(scene_t, kind, device_id)
            now = time.monotonic()
            if progress is not None and now >= next_report:
                progress(self._progress(scene_t, listener))
                next_report = now + 0.5
        if not self._stop.is_set():
            self._stop.wait(SETTLE_S)  # alerts on the last frames are still on their way
        if progress is not None:
            progress(self._progress(self.position if end is None else end, listener))
        return listener.snapshot()

    def _progress(self, scene_t: float, listener: AlertListener) -> Progress:
        raised = [o for o in listener.snapshot() if o.subject != "status" and o.event == "raised"]
        return Progress(
            scene_t,
            None if self.endless else self.scenario.duration_s,
            self.counts["frames"],
            self.counts["readings"],
            len(raised),
        )
