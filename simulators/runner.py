"""Runs the simulated devices of a site: fire-lane cameras and sensors, continuously."""

from __future__ import annotations

import heapq
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from gridwatch.settings import Settings
from gridwatch.site import load_site
from simulators.clock import SceneClock
from simulators.demo import Scene, demo_camera_scenes, demo_sensors
from simulators.incidents import camera_fps
from simulators.mqtt_devices import DeviceConnection, SimDevice
from simulators.scenes.fire_lane import encode_jpeg

log = logging.getLogger(__name__)

SENSOR_PERIOD_S = 10.0
PROGRESS_EVERY_S = 30.0


def site_devices(settings: Settings) -> list[SimDevice]:
    site = load_site(settings.site_dir)
    return [SimDevice(d.id, d.grid_id, str(d.kind), d.config.model_dump()) for d in site.devices]


def feed_fps(device: SimDevice, max_fps: float | None) -> float:
    """A camera's frame rate in the demo: its own, or capped by max_fps (the demo's cap, to
    spare the CPU) but never below what its feed needs (incidents.MIN_FPS: facade and
    elevator cameras keep 5)."""
    if not max_fps:
        return float(device.config.get("fps", 5))
    return camera_fps(device, max_fps)


@dataclass
class CameraFeed:
    """A fire-lane camera: its scene, its connection and its next frame."""

    device: SimDevice
    scene: Scene
    connection: DeviceConnection
    fps: float
    quality: int = 80
    seq: int = 0

    def send(self, scene_t: float, clock: SceneClock) -> None:
        self.seq += 1
        jpeg = encode_jpeg(self.scene.render(scene_t), self.quality)
        self.connection.publish_frame(jpeg, clock.epoch(scene_t), self.seq)


def run_site_simulation(
    settings: Settings,
    *,
    speed: float = 1.0,
    duration_s: float | None = None,
    seed: int = 1,
    max_fps: float | None = None,
    stop: threading.Event | None = None,
) -> dict[str, int]:
    """Play every camera and sensor of the site until duration_s or stop; return counts."""
    stop = stop or threading.Event()
    devices = site_devices(settings)
    feeds: list[CameraFeed] = []
    scenes = demo_camera_scenes(devices, seed)
    for device, scene in scenes:
        connection = DeviceConnection(settings, device)
        feeds.append(CameraFeed(device, scene, connection, feed_fps(device, max_fps)))
    sensors = demo_sensors(devices, seed, scenes)
    models = {device.id: model for device, model in sensors}

    def obey(device: SimDevice, command: dict[str, Any]) -> None:
        if command.get("command") == "power_off" and device.id in models:
            models[device.id].power_off(clock.scene_now())

    # Every device logs in as itself (as the site's ACL requires), alarms and controllers
    # too: they send no readings but are on site, online, and answer commands.
    silent = [d for d in devices if d.kind in ("sound_light_alarm",)]
    connections = {
        device.id: DeviceConnection(settings, device, obey)
        for device in [d for d, _ in sensors] + silent
    }
    # Scene time starts once every device is connected, so no camera begins behind.
    clock = SceneClock(speed)
    log.info(
        "simulating %d cameras and %d sensors at %.1fx speed",
        len(feeds),
        len(sensors),
        speed,
    )

    # A timetable of (scene time due, kind, index): frames and sensor readings interleaved.
    due: list[tuple[float, int, int]] = [(0.0, 0, i) for i in range(len(feeds))]
    due += [(i * SENSOR_PERIOD_S / max(len(sensors), 1), 1, i) for i in range(len(sensors))]
    heapq.heapify(due)
    counts = {"frames": 0, "readings": 0}
    next_progress = time.monotonic() + PROGRESS_EVERY_S
    wall_end = time.monotonic() + duration_s if duration_s else None
    try:
        while due and not stop.is_set():
            scene_t, kind, index = heapq.heappop(due)
            clock.sleep_until(scene_t)
            if kind == 0:
                feed = feeds[index]
                feed.send(scene_t, clock)
                counts["frames"] += 1
                heapq.heappush(due, (scene_t + 1.0 / feed.fps, 0, index))
            else:
                device, model = sensors[index]
                values = model.reading(scene_t)
                if values:
                    connections[device.id].publish_telemetry(clock.epoch(scene_t), values)
                    counts["readings"] += 1
                heapq.heappush(due, (scene_t + SENSOR_PERIOD_S, 1, index))
            now = time.monotonic()
            if now >= next_progress:
                log.info(
                    "simulators: scene %.0f s, %d frames and %d readings sent",
                    scene_t,
                    counts["frames"],
                    counts["readings"],
                )
                next_progress = now + PROGRESS_EVERY_S
            if wall_end and now >= wall_end:
                break
    except KeyboardInterrupt:
        pass
    finally:
        for feed in feeds:
            feed.connection.close()
        for connection in connections.values():
            connection.close()
    return counts


def play_scene(
    settings: Settings,
    device: SimDevice,
    scene: Scene,
    *,
    until_s: float,
    fps: float = 5.0,
    speed: float = 40.0,
) -> DeviceConnection:
    """Play one camera's scene from 0 to until_s at `speed`; returns its still-open connection.

    The caller closes it; its `commands` list holds the commands the camera received.
    """
    connection = DeviceConnection(settings, device)
    feed = CameraFeed(device, scene, connection, fps)
    clock = SceneClock(speed)
    frames = int(until_s * fps)
    for k in range(frames + 1):
        scene_t = k / fps
        clock.sleep_until(scene_t)
        feed.send(scene_t, clock)
    return connection
