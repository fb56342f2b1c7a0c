"""`gridwatch simulate load`: many devices and cameras at a fixed rate, from several processes.

Each device logs in as itself (simulators/credentials.py) on a connection of its own, as
under the site's ACL. Workers split the devices; each paces its share against the wall
clock, writes pre-encoded QoS 1 PUBLISH packets and counts the broker's PUBACKs. The parent
shows a progress line (sent/s, acknowledged/s, errors) and returns the totals.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import selectors
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gridwatch.frames import FRAME_HEADER, FRAME_MAGIC
from gridwatch.settings import Settings
from gridwatch.site import Site
from gridwatch.topics import MessageKind, device_topic
from simulators.credentials import device_login
from simulators.incidents import plain_scene
from simulators.load_wire import open_session, publish_packet
from simulators.mqtt_devices import SimDevice
from simulators.scenes.fire_lane import encode_jpeg

TICK_S = 0.005
FRAME_VARIANTS = 8  # distinct pre-encoded pictures per camera, sent in turn
MAX_PENDING_BYTES = 4_000_000  # per connection: beyond this the broker is not keeping up
DRAIN_S = 5.0  # wall seconds to wait for the last PUBACKs
# Readings in the normal range of each kind, so the load raises no alerts of its own.
NORMAL_VALUES: dict[str, dict[str, float]] = {
    "charging_socket": {"current_a": 2.5, "power_w": 550.0, "temperature_c": 34.0},
    "smoke_detector": {"obscuration_pct": 0.2},
    "hydrant_pressure": {"pressure_kpa": 320.0},
    "fire_door": {"open": 0.0},
    "elevator_controller": {"floor": 3.0, "door_open": 0.0},
}
COUNTERS = ("telemetry_sent", "frames_sent", "telemetry_acked", "frames_acked", "errors")


class LoadError(ValueError):
    """A load that cannot be run as asked; the message says what to change."""


@dataclass(frozen=True)
class LoadPlan:
    sensors: list[SimDevice]
    cameras: list[SimDevice]
    rate: float  # telemetry messages a second per device
    fps: float
    duration_s: float
    workers: int

    @property
    def offered_per_s(self) -> float:
        return len(self.sensors) * self.rate

    def share(self, worker: int) -> LoadPlan:
        return LoadPlan(
            self.sensors[worker :: self.workers],
            self.cameras[worker :: self.workers],
            self.rate,
            self.fps,
            self.duration_s,
            1,
        )


def plan_load(
    site: Site,
    *,
    devices: int,
    rate: float,
    cameras: int,
    fps: float,
    duration_s: float,
    workers: int,
) -> LoadPlan:
    """Pick the site's first `devices` sensors and `cameras` cameras; refuse what it lacks."""
    sims = [SimDevice(d.id, d.grid_id, str(d.kind), d.config.model_dump()) for d in site.devices]
    sensors = [d for d in sims if d.kind in NORMAL_VALUES]
    all_cameras = [d for d in sims if d.kind.endswith("_camera")]
    if devices > len(sensors) or cameras > len(all_cameras):
        raise LoadError(
            f"site {site.id} has {len(sensors)} sensors and {len(all_cameras)} cameras; asked "
            f"for {devices} and {cameras}. Raise --rate instead, or load a bigger site "
            "(`gridwatch site generate OUT --devices N`, then GRIDWATCH_SITE_DIR=OUT)"
        )
    if devices and rate <= 0:
        raise LoadError("--rate must be positive when there are devices")
    return LoadPlan(sensors[:devices], all_cameras[:cameras], rate, fps, duration_s, workers)


@dataclass
class _Link:
    """One device's connection, its pre-encoded message parts, and what waits to be written."""

    device: SimDevice
    sock: socket.socket
    reader: Any
    topic: bytes
    body: bytes = b""  # a sensor's readings, as JSON
    pictures: tuple[bytes, ...] = ()  # a camera's JPEGs, sent in turn
    pending: bytearray = field(default_factory=bytearray)
    seq: int = 0
    packet_id: int = 0

    @property
    def camera(self) -> bool:
        return bool(self.pictures)

    def offer(self, count: int, now: float) -> int:
        """Append `count` messages (fresh seq and ts); how many it took (none when lagging)."""
        if len(self.pending) > MAX_PENDING_BYTES:
            return 0  # the broker lags: offer less rather than queue without end
        for _ in range(count):
            self.seq += 1
            self.packet_id = self.packet_id % 65535 + 1
            if self.pictures:
                payload = (
                    FRAME_HEADER.pack(FRAME_MAGIC, now, self.seq)
                    + self.pictures[self.seq % len(self.pictures)]
                )
            else:
                payload = b'{"ts":%.3f,"seq":%d,"values":%s}' % (now, self.seq, self.body)
            self.pending += publish_packet(self.topic, self.packet_id, payload)
        return count


def _frames(device: SimDevice) -> tuple[bytes, ...]:
    scene = plain_scene(device, seed=sum(map(ord, device.id)))
    assert scene is not None
    return tuple(encode_jpeg(scene.render(k * 0.4), 80) for k in range(FRAME_VARIANTS))


def _connect(settings: Settings, plan: LoadPlan, index: int) -> tuple[list[_Link], int]:
    """A logged-in connection per device, message parts pre-encoded; and the failures."""
    links, errors = [], 0
    for device in plan.sensors + plan.cameras:
        username, password = device_login(settings, device.id)
        try:
            sock, reader = open_session(
                settings.mqtt_host,
                settings.mqtt_port,
                f"load-{settings.site_id}-{device.id}",
                username,
                password,
            )
        except OSError as err:
            errors += 1
            print(f"load worker {index}: {err}", flush=True)
            continue
        if device.kind.endswith("_camera"):
            topic = device_topic(settings.site_id, device.grid_id, device.id, MessageKind.FRAME)
            links.append(_Link(device, sock, reader, topic.encode(), pictures=_frames(device)))
        else:
            topic = device_topic(settings.site_id, device.grid_id, device.id, MessageKind.TELEMETRY)
            body = json.dumps(NORMAL_VALUES[device.kind]).encode()
            links.append(_Link(device, sock, reader, topic.encode(), body=body))
    return links, errors


def _worker(
    settings: Settings, plan: LoadPlan, index: int, counters: Any, ready: Any, start: Any
) -> None:
    """Run one worker's share until the plan's duration has passed (a child process)."""
    links, errors = _connect(settings, plan, index)
    sensors = [link for link in links if not link.camera]
    cameras = [link for link in links if link.camera]
    selector = selectors.DefaultSelector()
    for link in links:
        selector.register(link.sock, selectors.EVENT_READ, link)
    counts = dict.fromkeys(COUNTERS, 0)
    counts["errors"] = errors
    ready.set()
    while not start.value or time.time() < start.value:
        time.sleep(0.001)
    start_at = start.value
    readings_due = frames_due = 0  # messages per device so far, by the clock
    while (now := time.time()) - start_at < plan.duration_s:
        elapsed = now - start_at
        target = int(elapsed * plan.rate) + 1
        if target > readings_due:
            due = target - readings_due
            counts["telemetry_sent"] += sum(link.offer(due, now) for link in sensors)
            readings_due = target
        target = int(elapsed * plan.fps) + 1
        if target > frames_due:
            due = target - frames_due
            counts["frames_sent"] += sum(link.offer(due, now) for link in cameras)
            frames_due = target
        counts["errors"] += _flush(links)
        _read_acks(selector, 0)
        _publish_counts(counters, counts, links)
        time.sleep(max(0.0, TICK_S - (time.time() - now)))
    deadline = time.time() + DRAIN_S
    sent = counts["telemetry_sent"] + counts["frames_sent"]
    while time.time() < deadline and _acked(links) < sent:
        counts["errors"] += _flush(links)
        _read_acks(selector, 0.05)
        _publish_counts(counters, counts, links)
    for link in links:
        try:
            link.sock.sendall(b"\xe0\x00")  # DISCONNECT: a load run ends cleanly
        except OSError:
            pass
        link.sock.close()


def _flush(links: list[_Link]) -> int:
    errors = 0
    for link in links:
        if not link.pending:
            continue
        try:
            written = link.sock.send(link.pending)
        except BlockingIOError:
            continue
        except OSError:
            errors += 1
            link.pending.clear()
            continue
        del link.pending[:written]
    return errors


def _read_acks(selector: selectors.BaseSelector, timeout: float) -> None:
    for key, _ in selector.select(timeout):
        link: _Link = key.data
        try:
            data = link.sock.recv(65536)
        except BlockingIOError:
            continue
        if data:
            link.reader.feed(data)


def _acked(links: list[_Link]) -> int:
    return sum(link.reader.pubacks for link in links)


def _publish_counts(counters: Any, counts: dict[str, int], links: list[_Link]) -> None:
    counts["telemetry_acked"] = sum(link.reader.pubacks for link in links if not link.camera)
    counts["frames_acked"] = sum(link.reader.pubacks for link in links if link.camera)
    for position, name in enumerate(COUNTERS):
        counters[position] = counts[name]


def run_load(
    settings: Settings, plan: LoadPlan, progress: Callable[[dict[str, float]], None] | None = None
) -> dict[str, Any]:
    """Run the plan in plan.workers processes; return totals and rates (sent and acked/s)."""
    context = mp.get_context("fork")
    boards = [context.Array("q", len(COUNTERS), lock=False) for _ in range(plan.workers)]
    ready = [context.Event() for _ in range(plan.workers)]
    start = context.Value("d", 0.0, lock=False)
    processes = [
        context.Process(
            target=_worker,
            args=(settings, plan.share(i), i, boards[i], ready[i], start),
            name=f"load-{i}",
            daemon=True,
        )
        for i in range(plan.workers)
    ]
    for process in processes:
        process.start()
    # Connecting and pre-encoding frames take a while: all start sending at the same moment.
    for worker, flag in enumerate(ready):
        while not flag.wait(0.5):
            if not processes[worker].is_alive():
                raise RuntimeError(f"load worker {worker} stopped before it was ready")
    start_at = start.value = time.time() + 0.2

    def totals() -> dict[str, int]:
        return {name: sum(board[i] for board in boards) for i, name in enumerate(COUNTERS)}

    last, last_t = totals(), time.time()
    while any(process.is_alive() for process in processes):
        time.sleep(0.5)
        now, current = time.time(), totals()
        if progress is not None and now >= start_at:
            span = max(now - last_t, 1e-6)
            sent = current["telemetry_sent"] - last["telemetry_sent"]
            acked = current["telemetry_acked"] - last["telemetry_acked"]
            progress(
                {
                    "elapsed_s": min(now - start_at, plan.duration_s),
                    "duration_s": plan.duration_s,
                    "sent_per_s": sent / span,
                    "acked_per_s": acked / span,
                    "frames_per_s": (current["frames_sent"] - last["frames_sent"]) / span,
                    **current,
                }
            )
        last, last_t = current, now
    for process in processes:
        process.join()
    final = totals()
    seconds = plan.duration_s
    # Until the last PUBACK: acknowledged rates count the draining after the sending stops.
    wall_s = max(time.time() - start_at, seconds)
    return {
        "load": {
            "devices": len(plan.sensors),
            "rate": plan.rate,
            "cameras": len(plan.cameras),
            "fps": plan.fps,
            "duration_s": seconds,
            "workers": plan.workers,
            "cpus": os.cpu_count(),
        },
        **final,
        "offered_per_s": plan.offered_per_s,
        "telemetry_sent_per_s": round(final["telemetry_sent"] / seconds, 1),
        "telemetry_acked_per_s": round(final["telemetry_acked"] / wall_s, 1),
        "frames_sent_per_s": round(final["frames_sent"] / seconds, 1),
        "frames_acked_per_s": round(final["frames_acked"] / wall_s, 1),
        "wall_s": round(wall_s, 2),
    }
