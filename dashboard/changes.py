"""Wakes the big screen when an alert changes: LISTEN gridwatch_alerts in one thread.

Ingest and the screen's own acknowledge send NOTIFY on every raise, repeat, clear and
acknowledgement. One listener per dashboard process counts them; each browser keeps one
request open that returns as soon as the count moves (a long poll, wait_for_change), and
refreshes at once instead of waiting for the next full refresh. Without a database the
count simply stays put.
"""

from __future__ import annotations

import logging
import threading

import psycopg

from gridwatch import db

log = logging.getLogger(__name__)

RETRY_S = 2.0
WAIT_S = 1.0  # how long one notifies() wait may block, so stop() is prompt


class ChangeWatcher:
    """A counter that goes up whenever the database announces an alert change."""

    def __init__(self, database_url: str, channel: str = db.ALERTS_CHANNEL) -> None:
        self._url = database_url
        self._channel = channel
        self._version = 0
        self._moved = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dashboard-listen", daemon=True)

    @property
    def version(self) -> int:
        with self._moved:
            return self._version

    def wait_for_change(self, seen: int, timeout_s: float) -> int:
        """The version, once it differs from seen or timeout_s has passed."""
        with self._moved:
            self._moved.wait_for(lambda: self._version != seen, timeout=timeout_s)
            return self._version

    def start(self) -> ChangeWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _bump(self) -> None:
        with self._moved:
            self._version += 1
            self._moved.notify_all()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {self._channel}")
                    self._bump()  # whatever happened while not listening: look again
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=WAIT_S, stop_after=1000):
                            self._bump()
            except psycopg.Error as err:
                log.warning("alert change listener lost the database, retrying: %s", err)
                self._stop.wait(RETRY_S)
