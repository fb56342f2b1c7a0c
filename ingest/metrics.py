"""Ingest's Prometheus metrics: what came in, what was stored, rejected or dropped, and how late.

One registry per ingest service (not the library's global one), so several services in one
process — tests, the benchmark — keep their figures apart.
"""

from __future__ import annotations

from collections.abc import Callable
from threading import Thread
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

# Rows per telemetry batch: group commit makes batches grow with the load.
BATCH_ROWS_BUCKETS = (1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000)
# Reading time to commit, in seconds; the goal under load is a p99 under 0.5 s.
LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0)


class IngestMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.received = Counter(
            "gridwatch_ingest_received", "MQTT messages received, by kind", ["kind"], registry=r
        )
        self.redelivered = Counter(
            "gridwatch_ingest_redelivered",
            "MQTT messages the broker sent again (DUP set): received before, not acknowledged",
            registry=r,
        )
        self.stored = Counter(
            "gridwatch_ingest_stored",
            "Messages handled, by kind: committed (frames: handed to their camera's queue)",
            ["kind"],
            registry=r,
        )
        self.rows = Counter(
            "gridwatch_ingest_telemetry_rows", "Telemetry readings committed", registry=r
        )
        self.rejected = Counter(
            "gridwatch_ingest_rejected",
            "Messages stored as dead letters, by reason",
            ["reason"],
            registry=r,
        )
        self.dropped = Counter(
            "gridwatch_ingest_dropped",
            "Messages deliberately not processed (frames: oldest of a lagging camera)",
            ["kind"],
            registry=r,
        )
        self.skipped = Counter(
            "gridwatch_ingest_skipped",
            "Messages left to the ingest worker that owns their device",
            ["kind"],
            registry=r,
        )
        self.acked = Counter(
            "gridwatch_ingest_acked", "Messages acknowledged to the broker", registry=r
        )
        self.stale_acks = Counter(
            "gridwatch_ingest_stale_acks",
            "Acknowledgements not sent because the connection they arrived on is gone "
            "(the broker redelivers those messages)",
            registry=r,
        )
        self.batch_rows = Histogram(
            "gridwatch_ingest_batch_rows",
            "Telemetry rows per committed batch",
            buckets=BATCH_ROWS_BUCKETS,
            registry=r,
        )
        self.lag = Histogram(
            "gridwatch_ingest_lag_seconds",
            "Telemetry: reading timestamp to commit (device clock to database)",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self._queue_depth = Gauge(
            "gridwatch_ingest_queue_depth",
            "Items waiting in an in-process queue",
            ["queue"],
            registry=r,
        )
        self._children: dict[tuple[int, str], Any] = {}
        self._server: WSGIServer | None = None
        self._thread: Thread | None = None

    def inc(self, counter: Counter, label: str, amount: float = 1.0) -> None:
        """counter.labels(label).inc(amount), with the labelled child looked up once."""
        key = (id(counter), label)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = counter.labels(label)
        child.inc(amount)

    def watch_queue(self, name: str, depth: Callable[[], float]) -> None:
        """Report depth() as the queue's gauge, read at every scrape."""
        self._queue_depth.labels(name).set_function(depth)

    def serve(self, port: int, host: str = "127.0.0.1") -> int:
        """Serve /metrics over HTTP; returns the port (useful when port is 0: any free one)."""
        self._server, self._thread = start_http_server(port, addr=host, registry=self.registry)
        return int(self._server.server_port)

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
