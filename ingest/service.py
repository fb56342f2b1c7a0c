"""The ingest process: MQTT in; telemetry, status, frames and events out to their stages.

Nothing is silently dropped: a message that cannot be accepted is stored in dead_letters
with the reason, and the traffic around it goes on.
"""

from __future__ import annotations

import json
import logging
import queue
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import paho.mqtt.client as paho
import psycopg

from detectors.base import Detection
from gridwatch import db
from gridwatch.mqtt import connect, make_client
from gridwatch.settings import Settings
from gridwatch.topics import (
    MessageKind,
    TopicError,
    ingest_subscriptions,
    is_published_by_gridwatch,
    parse_device_topic,
)
from ingest import codecs
from ingest.alerts import AlertPipeline
from ingest.codecs import Frame, Rejected
from ingest.commands import record_ack
from ingest.devices import DeviceDirectory, DeviceInfo
from ingest.frames import FrameRouter
from ingest.rules import RuleEngine
from ingest.writer import TelemetryWriter

log = logging.getLogger(__name__)

# A busy sensor must not cost a database write per message just to say it is alive:
# last_seen moves at most this often per device.
TOUCH_EVERY_S = 5.0


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
        self.counters = IngestCounters()
        self.devices = DeviceDirectory(self._url)
        self.rules = RuleEngine()  # fed on the network thread only
        self._touched: dict[str, float] = {}  # device -> when last_seen was last written
        # A fixed client id and a persistent session: while ingest restarts, the broker
        # queues what devices send instead of dropping it.
        self.mqtt = make_client(
            settings, client_id=f"gridwatch-ingest-{settings.site_id}", clean_start=False
        )
        self.mqtt.on_connect = self._on_connect
        self.mqtt.on_message = self._on_message
        self.writer = TelemetryWriter(
            self._url,
            batch_rows=settings.telemetry_batch_rows,
            flush_ms=settings.telemetry_flush_ms,
        )
        self._pipelines = [
            AlertPipeline(self._url, self.mqtt, settings.evidence_dir(), self.devices.get)
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
        )
        # Status, events, acks and dead letters are few: one thread with one connection.
        self._control: queue.Queue[Callable[[psycopg.Connection], None] | None] = queue.Queue()
        self._control_thread = threading.Thread(
            target=self._run_control, name="control", daemon=True
        )
        self.connected = threading.Event()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        self.writer.start()
        self.frames.start()
        self._control_thread.start()
        connect(
            self.mqtt,
            self.settings,
            clean_start=False,
            session_expiry_s=self.settings.ingest_session_expiry_s,
        )
        self.mqtt.loop_start()

    def stop(self) -> None:
        self.mqtt.loop_stop()
        self.mqtt.disconnect()
        self.frames.stop()
        self.writer.stop()
        self._control.put(None)
        self._control_thread.join(timeout=5)
        for pipeline in [*self._pipelines, self._event_pipeline]:
            pipeline.close()

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
        if getattr(reason, "is_failure", False):
            log.error("broker refused ingest: %s", reason)
            return
        for topic in ingest_subscriptions(self.settings.site_id):
            client.subscribe(topic, qos=1)
        log.info("ingest subscribed to %s", ", ".join(ingest_subscriptions(self.settings.site_id)))
        self.connected.set()

    def _on_message(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        if is_published_by_gridwatch(message.topic):
            return
        self.counters.received += 1
        try:
            self._route(message.topic, message.payload)
        except Rejected as err:
            self._dead_letter(message.topic, message.payload, err)

    def _route(self, topic_name: str, payload: bytes) -> None:
        now = time.time()
        try:
            topic = parse_device_topic(topic_name)
        except TopicError as err:
            raise Rejected("bad_topic", str(err)) from None
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
                for r in codecs.decode_telemetry(payload, now):
                    self.writer.submit((device.id, r.ts, r.metric, r.value, r.seq, r.unit))
                    for detection in self.rules.feed(
                        device.id, device.kind, device.config, r.metric, r.value, r.ts
                    ):
                        self._control.put(lambda conn, d=detection: self._apply_event(device, d))
                if now - self._touched.get(device.id, float("-inf")) >= TOUCH_EVERY_S:
                    self._touched[device.id] = now
                    self._control.put(lambda conn: _touch(conn, device.id))
            case MessageKind.FRAME:
                if not device.kind.endswith("_camera"):
                    raise Rejected(
                        "not_a_camera",
                        f"device {device.id} is a {device.kind}, "
                        "not a camera; it cannot send frames",
                    )
                self.frames.submit(device, codecs.decode_frame(payload, limit, now))
            case MessageKind.STATUS:
                status = codecs.decode_status(payload)
                self._control.put(lambda conn: _set_status(conn, device.id, status))
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
                self._control.put(lambda conn: self._apply_event(device, detection))
            case MessageKind.CMD_ACK:
                ack = codecs.decode_command_ack(payload)
                self._control.put(lambda conn: self._apply_ack(conn, device, ack, payload))
            case _:
                raise Rejected("bad_topic", f"{topic.kind} messages are not consumed by ingest")

    # -- stages ------------------------------------------------------------------------------
    def _on_detection(
        self, worker: int, device: DeviceInfo, detection: Detection, image: np.ndarray
    ) -> None:
        self._pipelines[worker].handle(device, detection, image)

    def _apply_event(self, device: DeviceInfo, detection: Detection) -> None:
        self._event_pipeline.handle(device, detection)

    def _apply_ack(
        self, conn: psycopg.Connection, device: DeviceInfo, ack: codecs.CommandAck, payload: bytes
    ) -> None:
        body = {"ok": ack.ok, "detail": ack.detail}
        if not record_ack(conn, device.id, ack.command_id, body):
            _store_dead_letter(
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

    def _dead_letter(self, topic: str, payload: bytes, err: Rejected) -> None:
        self.counters.rejected[err.code] += 1
        log.warning("rejected message on %s: %s", topic, err)
        device_id = topic.split("/")[4] if topic.count("/") >= 5 else None
        keep = self.settings.dead_letter_keep_bytes
        self._control.put(
            lambda conn: _store_dead_letter(
                conn, topic, payload, err.code, str(err), keep, device_id
            )
        )

    def _run_control(self) -> None:
        conn = db.connect(self._url)
        while (task := self._control.get()) is not None:
            try:
                task(conn)
                conn.commit()
            except psycopg.OperationalError:
                log.exception("database unavailable for a control task; reconnecting")
                conn.close()
                time.sleep(1)
                conn = db.connect(self._url)
            except psycopg.Error:
                log.exception("control task failed")
                conn.rollback()
        conn.close()

    def drain(self, timeout_s: float = 10.0) -> None:
        """Wait until queued control work and telemetry are written (tests, shutdown)."""
        deadline = time.monotonic() + timeout_s
        done = threading.Event()
        self._control.put(lambda conn: done.set())
        done.wait(timeout_s)
        while self.writer.pending() and time.monotonic() < deadline:
            time.sleep(0.05)


def _touch(conn: psycopg.Connection, device_id: str) -> None:
    conn.execute(
        "INSERT INTO device_status (device_id, online) VALUES (%s, true)"
        " ON CONFLICT (device_id) DO UPDATE SET last_seen = now()",
        (device_id,),
    )


def _set_status(conn: psycopg.Connection, device_id: str, status: codecs.Status) -> None:
    conn.execute(
        "INSERT INTO device_status (device_id, online, detail) VALUES (%s, %s, %s)"
        " ON CONFLICT (device_id) DO UPDATE SET online = EXCLUDED.online, detail = EXCLUDED.detail,"
        " last_seen = now(),"
        " since = CASE WHEN device_status.online = EXCLUDED.online THEN device_status.since"
        "              ELSE now() END",
        (device_id, status.online, status.detail),
    )


def _store_dead_letter(
    conn: psycopg.Connection,
    topic: str,
    payload: bytes,
    code: str,
    reason: str,
    keep_bytes: int,
    device_id: str | None,
) -> None:
    conn.execute(
        "INSERT INTO dead_letters (topic, reason_code, reason, device_id, payload, payload_size)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (topic[:512], code, reason, device_id, payload[:keep_bytes], len(payload)),
    )


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
