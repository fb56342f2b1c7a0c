"""The control writer groups a burst of dead letters into few transactions, acknowledging
each only once committed, and one refused row does not take the others with it."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import psycopg

from gridwatch import db
from ingest.control import ControlWriter, store_dead_letter


class Done:
    """Records on_done calls and, at each, whether its row was already committed."""

    def __init__(self, database_url: str, marker: str) -> None:
        self._url = database_url
        self.marker = marker
        self.calls: list[tuple[str | None, Any, bool, int]] = []
        self.finished = threading.Event()
        self.expected = 0

    def __call__(self, kind: str | None, ack: Any, stored: bool) -> None:
        with db.connection(self._url) as other:  # another connection sees only commits
            row = other.execute(
                "SELECT count(*) AS n FROM dead_letters WHERE topic = %s", (f"{self.marker}/{ack}",)
            ).fetchone()
        assert row is not None
        self.calls.append((kind, ack, stored, int(row["n"])))
        if len(self.calls) == self.expected:
            self.finished.set()


def _dead_letter(marker: str, n: int, payload: bytes = b"{bad") -> Any:
    def task(conn: psycopg.Connection) -> None:
        store_dead_letter(conn, f"{marker}/{n}", payload, "malformed_json", "test", 64, None)

    return task


def _transactions(conn: psycopg.Connection, marker: str) -> int:
    row = conn.execute(
        "SELECT count(DISTINCT xmin::text) AS n FROM dead_letters WHERE topic LIKE %s",
        (f"{marker}/%",),
    ).fetchone()
    conn.commit()
    assert row is not None
    return int(row["n"])


def test_a_burst_of_dead_letters_is_written_in_few_transactions_and_acked_after_commit(
    database_url: str, conn: psycopg.Connection
) -> None:
    marker = f"ctl-{uuid.uuid4().hex[:8]}"
    done = Done(database_url, marker)
    done.expected = 301  # the burst and the task holding the writer
    writer = ControlWriter(database_url, 1000, done)
    release = threading.Event()
    writer.submit(lambda c: release.wait(30))  # hold the writer while the burst queues up
    for n in range(300):
        writer.submit(_dead_letter(marker, n), "dead_letter", n)
    writer.start()
    release.set()
    try:
        assert done.finished.wait(60), f"only {len(done.calls)} of 301 tasks done"
    finally:
        writer.stop()
    burst = [(ack, stored, visible) for _, ack, stored, visible in done.calls if ack is not None]
    assert sorted(ack for ack, _, _ in burst) == list(range(300))
    assert all(stored and visible == 1 for _, stored, visible in burst)
    assert _transactions(conn, marker) <= 2  # 300 rows, one group (MAX_GROUP is 500)


def test_a_refused_dead_letter_in_a_group_does_not_take_the_others_with_it(
    database_url: str, conn: psycopg.Connection
) -> None:
    marker = f"ctl-{uuid.uuid4().hex[:8]}"
    done = Done(database_url, marker)
    done.expected = 21
    writer = ControlWriter(database_url, 100, done)
    release = threading.Event()
    writer.submit(lambda c: release.wait(30))

    def refused(c: psycopg.Connection) -> None:
        c.execute("SELECT 1/0")  # the database refuses it, and would again

    for n in range(20):
        writer.submit(refused if n == 7 else _dead_letter(marker, n), "dead_letter", n)
    writer.start()
    release.set()
    try:
        assert done.finished.wait(60), f"only {len(done.calls)} of 21 tasks done"
    finally:
        writer.stop()
    outcome = {ack: stored for _, ack, stored, _ in done.calls if ack is not None}
    assert outcome == {n: n != 7 for n in range(20)}
    row = conn.execute(
        "SELECT count(*) AS n FROM dead_letters WHERE topic LIKE %s", (f"{marker}/%",)
    ).fetchone()
    assert row is not None and row["n"] == 19
