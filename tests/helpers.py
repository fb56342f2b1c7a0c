"""Small test helpers: waiting on conditions and a subscriber that records what it hears."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import paho.mqtt.client as paho

from gridwatch.mqtt import connect, make_client
from gridwatch.services import free_port
from gridwatch.settings import Settings

T = TypeVar("T")


def wait_for(check: Callable[[], T], timeout_s: float = 15.0, what: str = "condition") -> T:
    """Poll check() until it returns something truthy; fail with `what` after the timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


class Recorder:
    """Subscribes to topic filters and keeps (topic, payload) pairs in arrival order."""

    def __init__(self, settings: Settings, *filters: str) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._subscribed = threading.Event()
        self.client = make_client(settings, client_id=f"test-recorder-{uuid.uuid4().hex[:8]}")
        self.client.on_message = lambda c, u, m: self.messages.append((m.topic, m.payload))
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        connect(self.client, settings)
        for f in filters:
            self.client.subscribe(f, qos=1)
        self.client.loop_start()
        assert self._subscribed.wait(10), "recorder could not subscribe"

    def on(self, topic: str) -> list[bytes]:
        return [payload for t, payload in self.messages if t == topic]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def publisher(settings: Settings) -> paho.Client:
    client = make_client(settings, client_id=f"test-pub-{uuid.uuid4().hex[:8]}")
    connect(client, settings)
    client.loop_start()
    return client


@contextmanager
def serve_dashboard(settings: Settings) -> Iterator[str]:
    """The Dash app on a free port in a background thread; yields its URL."""
    from werkzeug.serving import make_server

    from dashboard.app import create_app

    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="dashboard", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.server.extensions["gridwatch_queries"].close()


@dataclass
class RunningUp:
    """A `gridwatch up` started by a test: its process, ports and what it printed."""

    process: subprocess.Popen[str]
    mqtt_port: int
    web_port: int
    output: str


@contextmanager
def gridwatch_up(database_url: str, data_dir: Path, *args: str) -> Iterator[RunningUp]:
    """`gridwatch up ARGS` with its own broker port and web port, read until it says it is up."""
    mqtt_port, web_port = free_port(), free_port()
    env = dict(
        os.environ,
        GRIDWATCH_DATABASE_URL=database_url,
        GRIDWATCH_MQTT_PORT=str(mqtt_port),
        GRIDWATCH_DATA_DIR=str(data_dir),
        GRIDWATCH_METRICS_PORT="0",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "gridwatch.cli", "up", *args, "--port", str(web_port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        for line in process.stdout:
            lines.append(line)
            if "Ctrl-C" in line or process.poll() is not None:
                break
        yield RunningUp(process, mqtt_port, web_port, "".join(lines))
    finally:
        if process.poll() is None:
            process.kill()
