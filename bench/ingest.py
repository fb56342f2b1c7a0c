"""Telemetry ingest end to end at QoS 1: broker in, committed rows out, against two baselines.

    python -m bench.ingest [--seconds 60] [--rate 30000] [--workers 2] [--publisher c|python]
                           [--broker-queue N]

Starts its own Mosquitto (the deployed queue limits, with the per-client queue raised to
hold the whole run, so an ingest slower than the offered load shows as lag, not as loss)
and a fresh database on the local PostgreSQL. In one run, on the same machine:

- msgs_per_s: `--workers` ingest processes sharing the stream (MQTT 5 shared subscription)
  while `--publishers` processes offer `--rate` messages/s for `--seconds`; messages stored
  divided by the time from the first publish to the last commit. One MQTT message carries
  one reading. lost and duplicated are counted in the table afterwards; a loss is placed
  where it happened (lost_breakdown: not_published, the broker never took it; not_received,
  the broker took it but ingest never got it, dropped_by_broker saying how many of those the
  broker dropped over a queue limit; not_stored, ingest got it and the table lacks it).
- baseline.receive_only: one bare paho consumer that stores nothing (the client-side limit).
- baseline.naive_per_row: one consumer that INSERTs and commits each message on its own.
- p99_lag_ms: publish to commit, from the workers' lag histograms.
- peak_rss_mb: the ingest processes' peak resident memory, added up.
- cpu_us_per_msg: CPU time (user + system) per message stored during the main run, of the
  ingest processes, the broker and the database's backends for the bench database. Unlike
  msgs/s it hardly moves when other work shares the machine, so runs on a busy machine can
  still be compared; the publishers are not counted.

Ends with one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import getpass
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import psycopg
from prometheus_client.parser import text_string_to_metric_families

from bench.ingest_load import (
    IngestProcess,
    Sensors,
    create_sensors,
    publish_in_processes,
    publish_with_mosquitto_pub,
    stored_counts,
)
from gridwatch import db
from gridwatch.broker.mosquitto import start_mosquitto
from gridwatch.services import ensure_database, free_port

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# How often the broker publishes its $SYS counters (the loss breakdown reads them).
SYS_INTERVAL_S = 1
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def backend_pids(url: str) -> list[int]:
    """PostgreSQL server processes serving the bench database (same machine only)."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        ).fetchall()
    return [pid for (pid,) in rows]


class CpuMeter:
    """CPU seconds spent by groups of processes between start() and stop()."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self._groups = groups
        self._start: dict[int, float] = {}

    def start(self) -> None:
        self._start = {pid: cpu_seconds(pid) for find in self._groups.values() for pid in find()}

    def stop(self) -> dict[str, float]:
        # A process that appeared after start() started from zero.
        return {
            name: sum(cpu_seconds(pid) - self._start.get(pid, 0.0) for pid in find())
            for name, find in self._groups.items()
        }


def start_broker(folder: Path, queued: int) -> Any:
    port = free_port()
    conf = folder / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\nuser {getpass.getuser()}\n"
        f"persistence false\nmax_queued_messages {queued}\nmax_queued_bytes 1073741824\n"
        "max_inflight_messages 1000\nmessage_size_limit 2000000\n"
        f"sys_interval {SYS_INTERVAL_S}\nlog_dest file {folder / 'mosquitto.log'}\n",
        encoding="utf-8",
    )
    return start_mosquitto(conf, port)


BROKER_COUNTERS = {
    "received": "$SYS/broker/publish/messages/received",  # PUBLISH packets taken in
    "dropped": "$SYS/broker/publish/messages/dropped",  # over a queue or in-flight limit
}


def broker_counters(port: int) -> dict[str, int]:
    """The broker's own message counters (retained $SYS topics; 0 until first counted)."""
    values = {name: 0 for name in BROKER_COUNTERS}
    seen: set[str] = set()
    done = threading.Event()
    names = {topic: name for name, topic in BROKER_COUNTERS.items()}

    def on_message(client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        values[names[message.topic]] = int(message.payload)
        seen.add(message.topic)
        if len(seen) == len(names):
            done.set()

    client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client.on_message = on_message
    client.on_subscribe = lambda *a: subscribed.set()
    subscribed = threading.Event()
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        client.subscribe([(topic, 0) for topic in names])
        subscribed.wait(10)
        # A counter the broker has not counted yet has no retained value: wait a moment.
        done.wait(2 * SYS_INTERVAL_S + 1)
    finally:
        client.disconnect()
        client.loop_stop()
    return values


def lost_breakdown(total: int, stored: int, at_broker: int, received_first: int) -> dict[str, int]:
    """Where the messages that are not in the table went missing, in the order they travel.

    at_broker: messages the broker took from the publishers; received_first: messages
    ingest received for the first time (redeliveries not counted again).
    """
    lost = total - stored
    not_published = min(lost, max(0, total - at_broker))
    not_received = min(lost - not_published, max(0, at_broker - received_first))
    return {
        "not_published": not_published,
        "not_received": not_received,
        "not_stored": lost - not_published - not_received,
    }


def publish(
    args: argparse.Namespace,
    port: int,
    sensors: Sensors,
    count: int,
    *,
    rate: float | None = None,
    for_s: float | None = None,
) -> tuple[int, float]:
    """The stream, from mosquitto_pub processes (C) or paho processes (Python)."""
    if args.publisher == "c":
        return publish_with_mosquitto_pub(
            port, sensors, count, args.publishers, rate=rate, for_s=for_s
        )
    return publish_in_processes(
        "127.0.0.1", port, sensors, count, args.publishers, rate=rate, for_s=for_s
    )


# -- baselines: each a plain paho consumer in a process of its own ---------------------------
def _consume(port: int, topic: str, count: int, url: str | None, ready: Any, done: Any) -> None:
    """Receive `count` messages; with a url, insert and commit each one first (naive)."""
    conn = psycopg.connect(url, autocommit=True) if url else None
    received = 0

    def on_message(client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        nonlocal received
        if conn is not None:
            doc = json.loads(message.payload)
            device = message.topic.split("/")[4]
            conn.execute(
                "INSERT INTO telemetry (time, device_id, metric, value, seq)"
                " VALUES (to_timestamp(%s), %s, 'v', %s, %s) ON CONFLICT DO NOTHING",
                (doc["ts"], device, doc["values"]["v"], doc["seq"]),
            )
        received += 1
        if received == count:
            done.put(time.monotonic())

    client = paho.Client(
        paho.CallbackAPIVersion.VERSION2,
        client_id=f"bench-baseline-{uuid.uuid4().hex[:8]}",
        protocol=paho.MQTTv5,
    )
    client.on_message = on_message
    client.on_subscribe = lambda *a: ready.set()
    client.connect("127.0.0.1", port)
    client.subscribe(topic, qos=1)
    client.loop_forever()


def run_baseline(
    args: argparse.Namespace, port: int, sensors: Sensors, count: int, url: str | None
) -> float:
    """Messages/s through a bare consumer (url None) or a row-by-row inserting one."""
    ctx = multiprocessing.get_context("spawn")
    ready, done = ctx.Event(), ctx.Queue()
    topic = f"gw/v1/{sensors.site_id}/+/+/telemetry"
    consumer = ctx.Process(target=_consume, args=(port, topic, count, url, ready, done))
    consumer.start()
    try:
        if not ready.wait(60):
            raise RuntimeError("baseline consumer did not subscribe")
        start = time.monotonic()
        publish(args, port, sensors, count)
        finished = done.get(timeout=600)
        return count / (finished - start)
    finally:
        consumer.kill()
        consumer.join(10)


# -- the real thing ----------------------------------------------------------------------------
def scrape(ports: list[int]) -> list[Any]:
    """Every sample of every worker's /metrics."""
    samples = []
    for port in ports:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            text = r.read().decode()
        for family in text_string_to_metric_families(text):
            samples.extend(family.samples)
    return samples


def lag_quantile(samples: list[Any], q: float) -> float | None:
    """The q-quantile of publish-to-commit lag in seconds over all workers (histogram_quantile)."""
    buckets: dict[float, float] = {}
    for s in samples:
        if s.name == "gridwatch_ingest_lag_seconds_bucket":
            le = float(s.labels["le"])
            buckets[le] = buckets.get(le, 0.0) + s.value
    bounds = sorted(buckets)
    total = buckets.get(float("inf"), 0.0)
    if not total:
        return None
    rank, lower, below = q * total, 0.0, 0.0
    for upper in bounds:
        if buckets[upper] >= rank:
            if upper == float("inf"):
                return lower  # beyond the last bucket: report its bound, as Prometheus does
            return lower + (upper - lower) * (rank - below) / (buckets[upper] - below)
        lower, below = upper, buckets[upper]
    return None


def run_ingest(
    args: argparse.Namespace, port: int, url: str, sensors: Sensors, logs: Path, broker_pid: int
) -> dict[str, Any]:
    ports = [free_port() for _ in range(args.workers)]
    workers = [
        IngestProcess(
            logs / f"ingest-{i}.log",
            database_url=url,
            mqtt_port=port,
            site_id=sensors.site_id,
            ingest_workers=args.workers,
            ingest_worker_index=i,
            metrics_port=ports[i] - i,
            ingest_receive_maximum=args.receive_maximum,
        ).start()
        for i in range(args.workers)
    ]
    try:
        for worker in workers:
            worker.wait_subscribed()
        say(f"ingest: {args.workers} workers, {args.rate:,.0f} msgs/s offered for {args.seconds} s")
        before = broker_counters(port)
        meter = CpuMeter(
            {
                "ingest": lambda: [w.process.pid for w in workers if w.process],
                "broker": lambda: [broker_pid],
                "postgres": lambda: backend_pids(url),
            }
        )
        meter.start()
        start = time.monotonic()
        total, publish_s = publish(
            args, port, sensors, int(args.rate * args.seconds), rate=args.rate, for_s=args.seconds
        )
        say(f"  published in {publish_s:.1f} s ({total / publish_s:,.0f}/s offered)")
        with db.connection(url) as conn:
            stored, last_change = 0, time.monotonic()
            while stored < total and time.monotonic() - last_change < 30:
                now_stored = stored_counts(conn, sensors)[0]
                if now_stored != stored:
                    stored, last_change = now_stored, time.monotonic()
                time.sleep(0.05)  # polling the table for the last commit
            elapsed = last_change - start
            distinct, rows = stored_counts(conn, sensors)
        cpu = meter.stop()
        samples = scrape(ports)
        after = broker_counters(port)
        p50, p99 = lag_quantile(samples, 0.5), lag_quantile(samples, 0.99)
        received = sum(
            s.value
            for s in samples
            if s.name == "gridwatch_ingest_received_total" and s.labels["kind"] == "telemetry"
        )
        redelivered = sum(
            s.value for s in samples if s.name == "gridwatch_ingest_redelivered_total"
        )
        return {
            "messages": total,
            "msgs_per_s": round(distinct / elapsed, 1),
            "seconds": round(elapsed, 1),
            "offered_per_s": round(total / publish_s, 1),
            "lost": total - distinct,
            "lost_breakdown": lost_breakdown(
                total,
                distinct,
                after["received"] - before["received"],
                int(received - redelivered),
            ),
            "dropped_by_broker": after["dropped"] - before["dropped"],
            "received_by_ingest": int(received),
            "redelivered_to_ingest": int(redelivered),
            "duplicated": rows - distinct,
            "p50_lag_ms": None if p50 is None else round(p50 * 1000, 1),
            "p99_lag_ms": None if p99 is None else round(p99 * 1000, 1),
            "peak_rss_mb": round(sum(w.peak_rss_mb() for w in workers), 1),
            "cpu_us_per_msg": {
                name: round(seconds / max(distinct, 1) * 1e6, 1) for name, seconds in cpu.items()
            },
        }
    finally:
        for worker in workers:
            worker.stop()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the main run")
    # Above the 25,000 msgs/s goal: offered exactly that, the figure would show the
    # publishers' pacing (a little under it) rather than what ingest stores.
    parser.add_argument("--rate", type=float, default=30_000, help="messages/s offered")
    parser.add_argument("--workers", type=int, default=2, help="ingest processes")
    parser.add_argument("--publishers", type=int, default=8, help="publisher processes")
    parser.add_argument(
        "--publisher",
        choices=["c", "python"],
        default="c",
        help="c: mosquitto_pub -l, one per sensor; python: paho processes",
    )
    parser.add_argument("--sensors", type=int, default=200)
    parser.add_argument("--baseline-messages", type=int, default=50_000)
    parser.add_argument("--naive-messages", type=int, default=5_000)
    parser.add_argument(
        "--broker-queue",
        type=int,
        default=None,
        help="the broker's per-client queue limit (default: the whole run fits in it)",
    )
    parser.add_argument(
        "--receive-maximum",
        type=int,
        default=5_000,
        help="MQTT 5 receive maximum of each worker: messages in flight before the broker waits",
    )
    parser.add_argument("--admin-url", default=ADMIN_URL, help="PostgreSQL to create a db on")
    args = parser.parse_args(argv)

    name = f"gridwatch_bench_{uuid.uuid4().hex[:8]}"
    ensure_database(args.admin_url, name)
    url = args.admin_url.rsplit("/", 1)[0] + f"/{name}"
    db.migrate(url)
    folder = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    queued = args.broker_queue or int(args.rate * args.seconds) + 100_000
    broker = start_broker(folder, queued=queued)
    try:
        with db.connection(url) as conn:
            receive_sensors = create_sensors(conn, "benchrecv", args.sensors)
            naive_sensors = create_sensors(conn, "benchnaive", args.sensors)
            ingest_sensors = create_sensors(conn, "benchingest", args.sensors)
        say(f"receive-only baseline: {args.baseline_messages:,} messages")
        receive_only = run_baseline(
            args, broker.port, receive_sensors, args.baseline_messages, None
        )
        say(f"  {receive_only:,.0f} msgs/s")
        say(f"naive baseline (a commit per row): {args.naive_messages:,} messages")
        naive = run_baseline(args, broker.port, naive_sensors, args.naive_messages, url)
        say(f"  {naive:,.0f} msgs/s")
        figures = run_ingest(args, broker.port, url, ingest_sensors, folder, broker.process.pid)
        say(f"  {figures['msgs_per_s']:,.0f} msgs/s stored, p99 lag {figures['p99_lag_ms']} ms")
    finally:
        broker.stop()
        with psycopg.connect(args.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    result = {
        "bench": "ingest",
        **figures,
        "workers": args.workers,
        "publishers": args.publishers,
        "publisher": "mosquitto_pub" if args.publisher == "c" else "paho",
        "qos": 1,
        "baseline": {"naive_per_row": round(naive, 1), "receive_only": round(receive_only, 1)},
    }
    result["vs_naive"] = round(figures["msgs_per_s"] / naive, 2)
    result["vs_receive_only"] = round(figures["msgs_per_s"] / receive_only, 2)
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
