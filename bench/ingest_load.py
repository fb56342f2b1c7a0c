"""A telemetry load for ingest: sensors in the database, a QoS 1 stream on the wire, a count.

Used by `python -m bench.ingest` and by the delivery, scale-out and fault tests. Every
message carries one reading with a sequence number unique in the stream, so what arrived
can be checked exactly: `stored_counts` says how many distinct messages are in the table
and how many rows are there (a duplicate would make them differ).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as paho
import psycopg
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gridwatch.topics import MessageKind, device_topic

# Messages a publisher may have unacknowledged. The publisher waits for room itself: paho's
# own queue beyond its in-flight window rescans every queued message on each PUBACK.
PUBLISH_WINDOW = 1000


@dataclass(frozen=True)
class Sensors:
    site_id: str
    grid_id: str
    device_ids: list[str]

    def topic(self, index: int) -> str:
        device = self.device_ids[index % len(self.device_ids)]
        return device_topic(self.site_id, self.grid_id, device, MessageKind.TELEMETRY)


def create_sensors(conn: psycopg.Connection, site_id: str, count: int) -> Sensors:
    """`count` sensors in one grid of `site_id` (ids prefixed with the site, so runs differ)."""
    grid = f"{site_id}-load"
    conn.execute(
        "INSERT INTO areas (id, level, name) VALUES (%s, 'grid', 'load') ON CONFLICT DO NOTHING",
        (grid,),
    )
    devices = [f"{site_id}-s{n}" for n in range(count)]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO devices (id, site_id, grid_id, kind, name) VALUES"
            " (%s, %s, %s, 'load_sensor', %s) ON CONFLICT DO NOTHING",
            [(d, site_id, grid, d) for d in devices],
        )
    conn.commit()
    return Sensors(site_id, grid, devices)


def stored_counts(conn: psycopg.Connection, sensors: Sensors) -> tuple[int, int]:
    """(distinct messages stored, rows stored) for these sensors."""
    row = conn.execute(
        "SELECT count(DISTINCT seq) AS messages, count(*) AS rows FROM telemetry"
        " WHERE device_id = ANY(%s)",
        (sensors.device_ids,),
    ).fetchone()
    conn.commit()  # do not hold a snapshot open between polls
    assert row is not None
    return int(row["messages"]), int(row["rows"])


def payload(seq: int) -> bytes:
    return json.dumps({"ts": time.time(), "seq": seq, "values": {"v": seq % 100}}).encode()


def publish_stream(
    host: str,
    port: int,
    sensors: Sensors,
    first: int,
    count: int,
    *,
    rate: float | None = None,
    session_expiry_s: int = 0,
    for_s: float | None = None,
) -> tuple[int, float]:
    """Publish messages first…first+count-1 at QoS 1 and wait until the broker has them all.

    rate: messages per second to hold (None: as fast as the broker takes them); for_s: stop
    publishing after this many seconds even if count is not reached. With a session expiry
    the publisher keeps a persistent session, so a broker restart in the middle loses
    nothing: paho resends what was not acknowledged. Returns (messages published, seconds).
    A PUBACK other than Success (MQTT 5: "No matching subscribers" when the broker had no
    session to queue it for) means the broker dropped the message: that raises at the end.
    """
    client = paho.Client(
        paho.CallbackAPIVersion.VERSION2,
        client_id=f"gridwatch-load-{uuid.uuid4().hex[:10]}",
        protocol=paho.MQTTv5,
    )
    client.max_inflight_messages_set(PUBLISH_WINDOW)
    client.reconnect_delay_set(min_delay=1, max_delay=2)
    acked = 0
    dropped: list[str] = []  # reason codes of PUBACKs that were not Success
    room = threading.Condition()

    def on_publish(_c: object, _u: object, _mid: int, reason: object, _p: object) -> None:
        nonlocal acked
        with room:
            acked += 1
            if getattr(reason, "value", 0) != 0:
                dropped.append(str(reason))
            room.notify()

    client.on_publish = on_publish
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = session_expiry_s
    client.connect(host, port, keepalive=30, clean_start=False, properties=properties)
    client.loop_start()
    start = time.monotonic()
    deadline = start + for_s if for_s else float("inf")
    published = 0
    for i in range(count):
        if i % 100 == 0 and time.monotonic() > deadline:
            break
        if rate and i % 100 == 0:
            ahead = start + i / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)  # pacing the load generator, not waiting on a result
        with room:
            room.wait_for(lambda sent=i: sent - acked < PUBLISH_WINDOW)
        seq = first + i
        client.publish(sensors.topic(seq), payload(seq), qos=1)
        published += 1
    with room:
        finished = room.wait_for(lambda: acked >= published, timeout=120.0)
    elapsed = time.monotonic() - start
    client.disconnect()
    client.loop_stop()
    if not finished:
        raise RuntimeError(f"broker acknowledged only {acked} of {published} messages")
    if dropped:
        raise RuntimeError(
            f"the broker refused or had no subscriber for {len(dropped)} of {published}"
            f" messages ({', '.join(sorted(set(dropped)))})"
        )
    return published, elapsed


def publish_in_processes(
    host: str,
    port: int,
    sensors: Sensors,
    count: int,
    processes: int,
    *,
    rate: float | None = None,
    session_expiry_s: int = 0,
    for_s: float | None = None,
) -> tuple[int, float]:
    """publish_stream split over several processes (one per core beats one GIL)."""
    from concurrent.futures import ProcessPoolExecutor

    share = count // processes
    with ProcessPoolExecutor(processes) as pool:
        futures = [
            pool.submit(
                publish_stream,
                host,
                port,
                sensors,
                p * share,
                share if p < processes - 1 else count - p * share,
                rate=rate / processes if rate else None,
                session_expiry_s=session_expiry_s,
                for_s=for_s,
            )
            for p in range(processes)
        ]
        results = [f.result() for f in futures]
    return sum(n for n, _ in results), max(s for _, s in results)


class IngestProcess:
    """`gridwatch ingest` in a process of its own, configured through GRIDWATCH_* variables."""

    def __init__(self, log_file: Path, **settings: object) -> None:
        self.log_file = log_file
        self.env = {**os.environ, **{f"GRIDWATCH_{k.upper()}": str(v) for k, v in settings.items()}}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> IngestProcess:
        with self.log_file.open("ab") as log:
            self._log_start = log.tell()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gridwatch.cli", "ingest"],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        return self

    def wait_subscribed(self, timeout_s: float = 60.0) -> None:
        """Until this run of the process has logged its subscriptions."""
        assert self.process is not None
        deadline = time.monotonic() + timeout_s
        while True:
            with self.log_file.open("rb") as log:
                log.seek(self._log_start)
                if b"ingest subscribed" in log.read():
                    return
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.log_file.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"ingest did not subscribe; its log ends:\n{tail}")
            time.sleep(0.1)

    def peak_rss_mb(self) -> float:
        """Peak resident memory of the process so far (VmHWM), in MB."""
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
        return kb / 1024

    def kill(self) -> None:
        """kill -9: no goodbye to the broker, nothing flushed."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


# mosquitto_pub -l ends once the PUBACK for the id of its last message comes back. Ids are
# 16 bits: past 65,535 messages they wrap, and the PUBACK of an earlier message with that
# same id ends it early, dropping what it still holds, with exit status 0 (a run once lost
# 327,527 of 1,500,000 messages this way). So no process is given more than this.
MESSAGES_PER_MOSQUITTO_PUB = 60_000


def publish_with_mosquitto_pub(
    port: int,
    sensors: Sensors,
    count: int,
    processes: int,
    *,
    rate: float | None = None,
    for_s: float | None = None,
) -> tuple[int, float]:
    """The same stream from C: `mosquitto_pub -l` processes, one per sensor, fed lines here.

    Each line is one message; its timestamp is taken when the line is handed over. A
    process that has had MESSAGES_PER_MOSQUITTO_PUB lines is told to finish and a fresh one
    takes its place. Returns (messages published, seconds until every publisher had its
    PUBACKs and exited).
    """
    binary = shutil.which("mosquitto_pub")
    if binary is None:
        raise RuntimeError("mosquitto_pub is not installed (Debian: apt install mosquitto-clients)")
    processes = min(processes, len(sensors.device_ids))

    def start(p: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [binary, "-h", "127.0.0.1", "-p", str(port), "-V", "5", "-q", "1", "-M", "1000",
             "-i", f"gridwatch-load-{uuid.uuid4().hex[:10]}", "-l", "-t", sensors.topic(p)],
            stdin=subprocess.PIPE,
        )  # fmt: skip

    publishers = [start(p) for p in range(processes)]
    fed = [0] * processes  # lines given to each current process
    finishing: list[subprocess.Popen[bytes]] = []
    chunk = 100
    start_at = time.monotonic()
    deadline = start_at + for_s if for_s else float("inf")
    published = 0
    try:
        while published < count and time.monotonic() < deadline:
            if rate:
                ahead = start_at + published / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)  # pacing the load generator
            p = (published // chunk) % processes
            n = min(chunk, count - published)
            if fed[p] + n > MESSAGES_PER_MOSQUITTO_PUB:
                assert publishers[p].stdin is not None
                publishers[p].stdin.close()  # it finishes what it has, in the background
                finishing.append(publishers[p])
                publishers[p], fed[p] = start(p), 0
            ts = time.time()
            lines = "".join(
                f'{{"ts":{ts:.6f},"seq":{seq},"values":{{"v":{seq % 100}}}}}\n'
                for seq in range(published, published + n)
            )
            stdin = publishers[p].stdin
            assert stdin is not None
            stdin.write(lines.encode())
            stdin.flush()
            fed[p] += n
            published += n
    finally:
        for publisher in publishers:
            assert publisher.stdin is not None
            publisher.stdin.close()
        failed = [p.wait(timeout=300) for p in [*finishing, *publishers]]
    if any(failed):
        raise RuntimeError(f"mosquitto_pub exited with {failed}")
    return published, time.monotonic() - start_at
