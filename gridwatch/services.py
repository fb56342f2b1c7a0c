"""Broker and database for a machine that has none configured.

`gridwatch up` and the test suite use the configured services when they answer; otherwise
they start their own: a local Mosquitto if the binary exists (an embedded Python broker,
amqtt, if not) and PostgreSQL from the `pgserver` pip package.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)

# Debian installs the broker in sbin, which is not on every user's PATH.
SYSTEM_MOSQUITTO = Path("/usr/sbin/mosquitto")


def port_answers(host: str, port: int, timeout_s: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if port_answers(host, port, 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start listening on {host}:{port} within {timeout_s} s")


@dataclass
class LocalBroker:
    """A broker process this program started; stop() ends it."""

    host: str
    port: int
    kind: str
    process: subprocess.Popen[bytes] = field(repr=False)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                # Mosquitto saves its persistence file on SIGTERM; a kill would lose it.
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_local_broker(data_dir: Path, port: int | None = None) -> LocalBroker:
    """Start Mosquitto when installed, else the embedded amqtt broker, on 127.0.0.1."""
    host = "127.0.0.1"
    port = port or free_port(host)
    data_dir.mkdir(parents=True, exist_ok=True)
    mosquitto = shutil.which("mosquitto") or (
        str(SYSTEM_MOSQUITTO) if SYSTEM_MOSQUITTO.exists() else None
    )
    if mosquitto:
        conf = data_dir / "mosquitto.conf"
        # Queue bounded by bytes, the count set far above them: with the defaults a slow QoS 1
        # subscriber loses messages, and a count of 100,000 overflowed in seconds under load.
        conf.write_text(
            f"listener {port} {host}\n"
            "allow_anonymous true\n"
            # Started as root, Mosquitto would switch to the `mosquitto` account, which cannot
            # write data_dir: every save of its persistence fails and a restart loses all
            # sessions and queued messages. It runs as whoever starts it instead.
            f"user {pwd.getpwuid(os.geteuid()).pw_name}\n"
            "max_queued_messages 10000000\n"
            "max_queued_bytes 1073741824\n"
            "max_inflight_messages 1000\n"
            "message_size_limit 4194304\n"
            f"persistence true\npersistence_location {data_dir}/\n",
            encoding="utf-8",
        )
        proc = subprocess.Popen(
            [mosquitto, "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=(data_dir / "mosquitto.log").open("ab"),
        )
        kind = "mosquitto"
    else:
        conf = data_dir / "amqtt.yaml"
        conf.write_text(
            "listeners:\n  default:\n    type: tcp\n"
            f"    bind: {host}:{port}\n"
            "plugins:\n  amqtt.plugins.authentication.AnonymousAuthPlugin:\n"
            "    allow_anonymous: true\n",
            encoding="utf-8",
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "amqtt.scripts.broker_script", "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=(data_dir / "amqtt.log").open("ab"),
        )
        kind = "amqtt (embedded)"
    try:
        wait_for_port(host, port, 15, f"local {kind} broker")
    except RuntimeError:
        proc.kill()
        raise
    return LocalBroker(host, port, kind, proc)


@dataclass
class EmbeddedDatabase:
    """PostgreSQL started from the pgserver package; url points at database `gridwatch`."""

    url: str
    server: object = field(repr=False)

    def stop(self) -> None:
        self.server.cleanup()  # type: ignore[attr-defined]


def start_embedded_database(data_dir: Path, database: str = "gridwatch") -> EmbeddedDatabase:
    import pgserver  # imported here: only needed when no database is configured

    pgdata = data_dir / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(pgdata), cleanup_mode="stop")
    admin_url = server.get_uri()
    ensure_database(admin_url, database)
    return EmbeddedDatabase(url=server.get_uri(database), server=server)


def ensure_database(admin_url: str, database: str) -> None:
    """Create the database if it does not exist yet."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
        if exists.fetchone() is None:
            conn.execute(f'CREATE DATABASE "{database}"')  # name is ours, never user text
