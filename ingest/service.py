"""The ingest process: MQTT in; telemetry, status, frames and events out to their stages.

Nothing is silently dropped: a message that cannot be accepted is stored in dead_letters
with the reason, and the traffic around it goes on. A message is acknowledged to the broker
only once what it carries is committed (ingest/delivery.py).
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import paho.mqtt.client as paho
import psycopg

from detectors.base import Detection
from gridwatch.mqtt import connect, make_client
from gridwatch.settings import Settings
from gridwatch.topics import (
    DeviceTopic,
    MessageKind,
    TopicError,
    is_published_by_gridwatch,
    parse_device_topic,
)
from ingest import codecs, delivery
from ingest.alerts import AlertPipeline
from ingest.clips import ClipWindow
from ingest.codecs import Frame, Rejected
from ingest.commands import record_ack
from ingest.control import ControlTask, ControlWriter, set_status, store_dead_letter, touch
from ingest.delivery import Acknowledger, AckToken
from ingest.devices import DeviceDirectory, DeviceInfo
from ingest.frames import FrameRouter
from ingest.metrics import IngestMetrics
from ingest.mqtt_client import IngestClient
from ingest.offline import OfflineRule
from ingest.rules import RuleEngine
from ingest.writer import TelemetryMessage, TelemetryWriter

log = logging.getLogger(__name__)

# A busy sensor must not cost a database write per message just to say it is alive:
# last_seen moves at most this often per device.
TOUCH_EVERY_S = 5.0
# Parsed topics kept: a few per device; forgotten all at once past this (bounded memory).
TOPICS_REMEMBERED = 50_000
# How often the offline rule looks for devices that stayed away (ingest/offline.py), at
# most; a quarter of the grace when that is shorter.
OFFLINE_CHECK_S = 5.0


@dataclass
class IngestCounters:
    received: int = 0
    rejected: Counter[str] = field(default_factory=Counter)


class IngestService:
    def __init__(self, settings: Settings) -> None:
        if not settings.database_url:
            raise ValueError("ingest needs a database: set GRIDWATCH_DATABASE_URL")
        self.settings = settings
        self._url = settings.database_url
        if settings.ingest_worker_index >= settings.ingest_workers:
            raise ValueError(
                f"ingest_worker_index {settings.ingest_worker_index} is out of range for "
                f"{settings.ingest_workers} workers (0 to {settings.ingest_workers - 1})"
            )
        self.counters = IngestCounters()
        self.metrics = IngestMetrics()
        self.devices = DeviceDirectory(self._url)
        self.rules = RuleEngine()  # fed on the network thread only
        self._touched: dict[str, float] = {}  # device -> when last_seen was last written
        self._topics: dict[str, DeviceTopic] = {}  # topic name -> parsed (network thread only)
        self._workers = settings.ingest_workers
        self._index = settings.ingest_worker_index
        # A fixed client id and a persistent session: while ingest restarts, the broker
        # queues what devices send instead of dropping it.
        self.mqtt = make_client(
            settings,
            client_id=delivery.client_id(settings.site_id, self._workers, self._index),
            clean_start=False,
            client_class=IngestClient,
        )
        self.mqtt.manual_ack_set(True)
        self.mqtt.on_connect = self._on_connect
        self.mqtt.on_disconnect = self._on_disconnect
        self.mqtt.on_message = self._on_message
        self.acks = Acknowledger(self.mqtt)
        self.writer = TelemetryWriter(
            self._url,
            batch_rows=settings.telemetry_batch_rows,
            flush_ms=settings.telemetry_flush_ms,
            # Never the limit in practice: the broker sends at most receive_maximum at once.
            max_queued=2 * settings.ingest_receive_maximum,
            on_committed=self._on_telemetry_committed,
        )
        self._pipelines = [
            AlertPipeline(
                self._url,
                self.mqtt,
                settings.evidence_dir(),
                self.devices.get,
                ClipWindow(
                    settings.clip_pre_seconds,
                    settings.clip_post_seconds,
                    settings.clip_buffer_max_bytes,
                ),
            )
            for _ in range(settings.frame_workers)
        ]
        # Device-side events are applied on the control thread, through a pipeline of its own.
        self._event_pipeline = AlertPipeline(
            self._url, self.mqtt, settings.evidence_dir(), self.devices.get
        )
        self.frames = FrameRouter(
            settings.frame_workers,
            settings.frame_queue_per_camera,
            self._on_detection,
            self._on_undecodable_frame,
            on_dropped=self.metrics.dropped.labels("frame").inc,
            on_frame=self._on_frame,
        )
        self._control = ControlWriter(
            self._url, 2 * settings.ingest_receive_maximum, self._control_done
        )
        self.connected = threading.Event()
        self._stopping = threading.Event()
        self._offline = OfflineRule(
            self._event_pipeline.handle,
            self.devices.get,
            self._owns_device,
            settings.offline_alert_after_s,
        )
        self._offline_watch = threading.Thread(
            target=self._watch_offline, name="offline-rule", daemon=True
        )
        self.metrics_port: int | None = None
        self.metrics.watch_queue("telemetry", self.writer.pending)
        self.metrics.watch_queue("control", self._control.pending)
        self.metrics.watch_queue("frames", self.frames.waiting)
        self.metrics.watch_queue("unacked", self.acks.outstanding)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        if self.settings.metrics_port:
            port = self.settings.metrics_port + self._index
            try:
                self.metrics_port = self.metrics.serve(port)
            except OSError as err:
                # Storing what devices send matters more than being watched: run on, say why.
                log.error(
                    "ingest metrics not served: port %d is unavailable (%s); set "
                    "GRIDWATCH_METRICS_PORT to a free port, or 0 to turn metrics off",
                    port,
                    err,
                )
        self.writer.start()
        self.frames.start()
        self._control.start()
        connect(
            self.mqtt,
            self.settings,
            clean_start=False,
            session_expiry_s=self.settings.ingest_session_expiry_s,
            receive_maximum=self.settings.ingest_receive_maximum,
        )
        self.mqtt.loop_start()
        self._offline_watch.start()

    def stop(self) -> None:
        self._stopping.set()
        # No more input; what is queued is written and acknowledged (paho sends from the
        # calling thread once its loop is stopped), then the session is left for next time.
        self.mqtt.loop_stop()
        self.frames.stop()
        self.writer.stop()
        self._control.stop()
        self.mqtt.disconnect()
        for pipeline in [*self._pipelines, self._event_pipeline]:
            pipeline.close()
        self.metrics.close()

    def wait_connected(self, timeout_s: float = 10.0) -> None:
        if not self.connected.wait(timeout_s):
            raise RuntimeError(
                f"ingest could not subscribe at {self.settings.mqtt_host}:{self.settings.mqtt_port}"
            )

    # -- MQTT callbacks (network thread: quick, no database work here) ---------------------
    def _on_connect(
        self,
        client: paho.Client,
        userdata: object,
        flags: object,
        reason: object,
        properties: object = None,
    ) -> None:
        self.acks.new_connection()
        if getattr(reason, "is_failure", False):
            log.error("broker refused ingest: %s", reason)
            return
        topics = delivery.subscriptions(
            self.settings.site_id,
            self._workers,
            per_device_shared=self.settings.ingest_frames_shared,
        )
        for topic in topics:
            client.subscribe(topic, qos=1)
        log.info("ingest subscribed to %s", ", ".join(topics))
        self.connected.set()

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: object,
        flags: object,
        reason: object,
        properties: object = None,
    ) -> None:
        # Messages received so far will be redelivered: their acknowledgements are stale.
        self.acks.new_connection()
        log.log(
            logging.WARNING if getattr(reason, "is_failure", True) else logging.INFO,
            "ingest disconnected from the broker (%s); %d messages await redelivery",
            reason,
            self.acks.outstanding(),
        )

    def _on_message(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        token = self.acks.token(message)
        topic = message.topic  # paho decodes it at every access
        # A topic already parsed is a device's; only a new one can be GridWatch's own output.
        if topic not in self._topics and is_published_by_gridwatch(topic):
            self._ack(token)
            return
        self.counters.received += 1
        if message.dup:
            self.metrics.redelivered.inc()
        try:
            self._route(topic, message.payload, token)
        except Rejected as err:
            self._dead_letter(topic, message.payload, err, token)

    def _ack(self, *tokens: AckToken | None) -> None:
        sent, stale = self.acks.ack(tokens)
        self.metrics.acked.inc(sent)
        if stale:
            self.metrics.stale_acks.inc(stale)

    def _parse(self, topic_name: str) -> DeviceTopic:
        """parse_device_topic, remembered: each device sends on a few topics, over and over."""
        topic = self._topics.get(topic_name)
        if topic is None:
            topic = parse_device_topic(topic_name)  # a bad topic raises and is not kept
            if len(self._topics) >= TOPICS_REMEMBERED:
                self._topics.clear()
            self._topics[topic_name] = topic
        return topic

    def _route(self, topic_name: str, payload: bytes, token: AckToken | None) -> None:
        now = time.time()
        try:
            topic = self._parse(topic_name)
        except TopicError as err:
            if self._index != 0:  # no device to say whose it is: the first worker reports it
                self._skip(token, "unknown")
                return
            raise Rejected("bad_topic", str(err)) from None
        kind = topic.kind.value
        self.metrics.inc(self.metrics.received, kind)
        if (
            self._workers > 1
            and topic.kind is not MessageKind.TELEMETRY
            and not self.settings.ingest_frames_shared
            and delivery.owner(topic.device, self._workers) != self._index
        ):
            self._skip(token, kind)
            return
        device = self.devices.get(topic.device)
        if device is None:
            raise Rejected(
                "unknown_device",
                f"device {topic.device!r} is not in the site model; add it to devices.yaml and "
                "run `gridwatch site load`",
            )
        if device.grid_id != topic.grid or device.site_id != topic.site:
            raise Rejected(
                "wrong_place",
                f"device {device.id} belongs to {device.site_id}/{device.grid_id}, "
                f"not {topic.site}/{topic.grid}",
            )
        limit = (
            self.settings.max_frame_bytes
            if topic.kind is MessageKind.FRAME
            else (self.settings.max_payload_bytes)
        )
        if topic.kind is not MessageKind.FRAME and len(payload) > limit:
            raise Rejected(
                "oversized", f"{topic.kind} payload of {len(payload):,} bytes exceeds {limit:,}"
            )
        match topic.kind:
            case MessageKind.TELEMETRY:
                readings = codecs.decode_telemetry(payload, now)
                self.writer.submit(
                    TelemetryMessage(
                        [(device.id, r.ts, r.metric, r.value, r.seq, r.unit) for r in readings],
                        token,
                    )
                )
                for r in readings:
                    for detection in self.rules.feed(
                        device.id, device.kind, device.config, r.metric, r.value, r.ts
                    ):
                        self._later(lambda conn, d=detection: self._apply_event(device, d))
                if now - self._touched.get(device.id, float("-inf")) >= TOUCH_EVERY_S:
                    self._touched[device.id] = now
                    self._later(lambda conn: touch(conn, device.id))
            case MessageKind.FRAME:
                if not device.kind.endswith("_camera"):
                    raise Rejected(
                        "not_a_camera",
                        f"device {device.id} is a {device.kind}, "
                        "not a camera; it cannot send frames",
                    )
                self.frames.submit(device, codecs.decode_frame(payload, limit, now))
                # Routed (queued for its camera, or an older frame dropped for it): decided.
                self.metrics.inc(self.metrics.stored, kind)
                self._ack(token)
            case MessageKind.STATUS:
                status = codecs.decode_status(payload)
                self._later(lambda conn: self._apply_status(conn, device, status), kind, token)
            case MessageKind.EVENT:
                event = codecs.decode_event(payload, now)
                detection = Detection(
                    type=event.type,
                    ts=event.ts,
                    confidence=event.confidence,
                    cleared=event.cleared,
                    details=event.details,
                    evidence="none",
                )
                self._later(lambda conn: self._apply_event(device, detection), kind, token)
            case MessageKind.CMD_ACK:
                ack = codecs.decode_command_ack(payload)
                self._later(lambda conn: self._apply_ack(conn, device, ack, payload), kind, token)
            case _:
                raise Rejected("bad_topic", f"{topic.kind} messages are not consumed by ingest")

    def _skip(self, token: AckToken | None, kind: str) -> None:
        """Another worker owns this device: acknowledge and leave it to that worker."""
        self.metrics.inc(self.metrics.skipped, kind)
        self._ack(token)

    def _later(
        self, task: ControlTask, kind: str | None = None, token: AckToken | None = None
    ) -> None:
        """Run a write on the control thread; acknowledge `token` once it is committed."""
        self._control.submit(task, kind, token)

    # -- stages ------------------------------------------------------------------------------
    def _on_telemetry_committed(self, batch: list[TelemetryMessage], committed_at: float) -> None:
        self._ack(*(message.ack for message in batch))
        rows = sum(len(message.rows) for message in batch)
        self.metrics.stored.labels("telemetry").inc(len(batch))
        self.metrics.rows.inc(rows)
        self.metrics.batch_rows.observe(rows)
        for message in batch:
            self.metrics.lag.observe(max(committed_at - message.rows[0][1], 0.0))

    def _on_detection(
        self, worker: int, device: DeviceInfo, detection: Detection, image: np.ndarray
    ) -> None:
        self._pipelines[worker].handle(device, detection, image)

    def _on_frame(self, worker: int, device: DeviceInfo, frame: Frame) -> None:
        self._pipelines[worker].observe_frame(device.id, frame.ts, frame.jpeg)

    def _apply_event(self, device: DeviceInfo, detection: Detection) -> None:
        self._event_pipeline.handle(device, detection)

    def _apply_status(
        self, conn: psycopg.Connection, device: DeviceInfo, status: codecs.Status
    ) -> None:
        set_status(conn, device.id, status)
        self._offline.status_stored(conn, device, status.online)

    def _watch_offline(self) -> None:
        every = min(OFFLINE_CHECK_S, self.settings.offline_alert_after_s / 4)
        while not self._stopping.wait(every):
            self._later(self._offline.raise_overdue)

    def _owns_device(self, device_id: str) -> bool:
        """Whether this worker handles the device's status (and so its offline rule)."""
        if self._workers == 1:
            return True
        if self.settings.ingest_frames_shared:  # no owner by hash: the first worker decides
            return self._index == 0
        return delivery.owner(device_id, self._workers) == self._index

    def _apply_ack(
        self, conn: psycopg.Connection, device: DeviceInfo, ack: codecs.CommandAck, payload: bytes
    ) -> None:
        body = {"ok": ack.ok, "detail": ack.detail}
        if not record_ack(conn, device.id, ack.command_id, body):
            store_dead_letter(
                conn,
                f"gw/v1/{device.site_id}/{device.grid_id}/{device.id}/cmd/ack",
                payload,
                "unknown_command",
                f"no command {ack.command_id} was sent to {device.id}",
                self.settings.dead_letter_keep_bytes,
                device.id,
            )

    def _on_undecodable_frame(self, device: DeviceInfo, frame: Frame) -> None:
        topic = f"gw/v1/{device.site_id}/{device.grid_id}/{device.id}/frame"
        err = Rejected(
            "undecodable_jpeg",
            f"frame {frame.seq} from {device.id} has a JPEG "
            "header but OpenCV cannot decode it (truncated or corrupt)",
        )
        self._dead_letter(topic, frame.jpeg, err)

    def _dead_letter(
        self, topic: str, payload: bytes, err: Rejected, token: AckToken | None = None
    ) -> None:
        self.counters.rejected[err.code] += 1
        self.metrics.inc(self.metrics.rejected, err.code)
        log.warning("rejected message on %s: %s", topic, err)
        device_id = topic.split("/")[4] if topic.count("/") >= 5 else None
        keep = self.settings.dead_letter_keep_bytes
        self._later(
            lambda conn: store_dead_letter(
                conn, topic, payload, err.code, str(err), keep, device_id
            ),
            "dead_letter",
            token,
        )

    def _control_done(self, kind: str | None, token: AckToken | None, stored: bool) -> None:
        if not stored:
            self.metrics.inc(self.metrics.rejected, "store_failed")
        elif kind is not None:
            self.metrics.inc(self.metrics.stored, kind)
        self._ack(token)

    def drain(self, timeout_s: float = 10.0) -> None:
        """Wait until queued control work and telemetry are written (tests, shutdown)."""
        deadline = time.monotonic() + timeout_s
        done = threading.Event()
        self._later(lambda conn: done.set())
        done.wait(timeout_s)
        while self.writer.pending() and time.monotonic() < deadline:
            time.sleep(0.05)


def run_ingest(settings: Settings) -> None:
    """Run ingest until SIGINT/SIGTERM."""
    service = IngestService(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    service.start()
    log.info("ingest running for site %s with %d devices", settings.site_id, len(service.devices))
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()
        log.info(
            "ingest stopped; %s",
            json.dumps(
                {"received": service.counters.received, "rejected": dict(service.counters.rejected)}
            ),
        )
