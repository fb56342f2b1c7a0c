"""The control writer: status, device events, command acks and dead letters, one at a time.

These are few next to telemetry, so one thread with one connection writes them, each in
its own transaction. A database outage delays a write, it never loses it: the task is
retried until it commits, and only then is its message acknowledged.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg

from gridwatch import db
from ingest import codecs

log = logging.getLogger(__name__)

ControlTask = Callable[[psycopg.Connection], None]
# Called after each task: (kind of message or None, its ack token, whether it was stored).
TaskDone = Callable[[str | None, Any, bool], None]
MAX_RETRY_DELAY_S = 5.0


class ControlWriter:
    def __init__(self, database_url: str, max_queued: int, on_done: TaskDone) -> None:
        self._url = database_url
        self._queue: queue.Queue[tuple[ControlTask, str | None, Any] | None] = queue.Queue(
            max_queued
        )
        self._on_done = on_done
        self._thread = threading.Thread(target=self._run, name="control", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)

    def submit(self, task: ControlTask, kind: str | None = None, ack: Any = None) -> None:
        self._queue.put((task, kind, ack))

    def pending(self) -> int:
        return self._queue.qsize()

    def _run(self) -> None:
        conn: psycopg.Connection | None = None
        while (item := self._queue.get()) is not None:
            task, kind, ack = item
            conn, stored = self._run_until_done(conn, task, kind)
            self._on_done(kind, ack, stored)
        if conn is not None:
            conn.close()

    def _run_until_done(
        self, conn: psycopg.Connection | None, task: ControlTask, kind: str | None
    ) -> tuple[psycopg.Connection | None, bool]:
        delay = 0.2
        while True:
            try:
                if conn is None or conn.closed:
                    conn = db.connect(self._url)
                task(conn)
                conn.commit()
                return conn, True
            except psycopg.OperationalError as err:
                log.warning("database unavailable for a %s write (%s); retrying", kind, err)
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY_S)
            except psycopg.Error:
                # The same write would fail again; the caller counts it and goes on.
                log.exception("could not store a %s message", kind)
                if conn is not None:
                    conn.rollback()
                return conn, False


def touch(conn: psycopg.Connection, device_id: str) -> None:
    conn.execute(
        "INSERT INTO device_status (device_id, online) VALUES (%s, true)"
        " ON CONFLICT (device_id) DO UPDATE SET last_seen = now()",
        (device_id,),
    )


def set_status(conn: psycopg.Connection, device_id: str, status: codecs.Status) -> None:
    conn.execute(
        "INSERT INTO device_status (device_id, online, detail) VALUES (%s, %s, %s)"
        " ON CONFLICT (device_id) DO UPDATE SET online = EXCLUDED.online, detail = EXCLUDED.detail,"
        " last_seen = now(),"
        " since = CASE WHEN device_status.online = EXCLUDED.online THEN device_status.since"
        "              ELSE now() END",
        (device_id, status.online, status.detail),
    )


def store_dead_letter(
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
