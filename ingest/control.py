"""The control writer: status, device events, command acks and dead letters.

These are few next to telemetry, so one thread with one connection writes them, each in
its own transaction, except dead letters: a burst of rejected messages (a misconfigured
device fleet) is written like telemetry, as many as are waiting in one transaction. A
database outage delays a write, it never loses it: the task is retried until it commits,
and only then are its messages acknowledged. A grouped write that the database refuses is
retried one task at a time, so one bad row does not take the others with it.
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
# Kinds whose tasks are written many to a transaction, and how many at most.
GROUPED_KINDS = frozenset({"dead_letter"})
MAX_GROUP = 500
_NOTHING = object()  # no item held back (None is the stop signal)


class ControlWriter:
    def __init__(self, database_url: str, max_queued: int, on_done: TaskDone) -> None:
        self._url = database_url
        self._queue: queue.Queue[tuple[ControlTask, str | None, Any] | None] = queue.Queue(
            max_queued
        )
        self._on_done = on_done
        self._thread = threading.Thread(target=self._run, name="control", daemon=True)
        self._writing = 0  # tasks taken from the queue, not yet done

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)

    def submit(self, task: ControlTask, kind: str | None = None, ack: Any = None) -> None:
        self._queue.put((task, kind, ack))

    def pending(self) -> int:
        return self._queue.qsize() + self._writing

    def _run(self) -> None:
        conn: psycopg.Connection | None = None
        held: Any = _NOTHING
        while True:
            item = self._queue.get() if held is _NOTHING else held
            if item is None:
                break
            group, held = self._group(item)
            self._writing = len(group)
            conn = self._write_group(conn, group)
            self._writing = 0
        if conn is not None:
            conn.close()

    def _group(self, first: tuple[ControlTask, str | None, Any]) -> tuple[list[Any], Any]:
        """`first` and the tasks of its kind waiting right behind it (if its kind groups).

        Returns the group and the next item if one was taken that does not belong to it.
        """
        group = [first]
        if first[1] not in GROUPED_KINDS:
            return group, _NOTHING
        while len(group) < MAX_GROUP:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None or item[1] != first[1]:
                return group, item
            group.append(item)
        return group, _NOTHING

    def _write_group(
        self, conn: psycopg.Connection | None, group: list[tuple[ControlTask, str | None, Any]]
    ) -> psycopg.Connection | None:
        kind = group[0][1]
        if len(group) > 1:

            def all_tasks(c: psycopg.Connection) -> None:
                for task, _, _ in group:
                    task(c)

            conn, stored = self._run_until_done(conn, all_tasks, kind)
            if stored:
                for _, task_kind, ack in group:
                    self._on_done(task_kind, ack, True)
                return conn
        for task, task_kind, ack in group:  # alone, or again one by one after a refusal
            conn, stored = self._run_until_done(conn, task, task_kind)
            self._on_done(task_kind, ack, stored)
        return conn

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
