"""One read for every browser on the wall: recent answers are shared between refreshes.

A video wall runs several browsers on the same screen, each asking for the same snapshot
every refresh. Measured with ten of them on the large site, the four-connection pool could
not keep up and refreshes failed waiting for a connection. An answer is therefore reused
while it is younger than max_age_s and no alert has changed since it was read (the change
version from LISTEN), so a new alert is never hidden behind a shared answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class SharedReads:
    """Recent results by key, each read by one caller while the others wait for it."""

    def __init__(
        self,
        max_age_s: float,
        version: Callable[[], int],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_age_s = max_age_s
        self._version = version
        self._clock = clock
        self._entries: dict[Hashable, tuple[float, int, Any]] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable, read: Callable[[], T]) -> T:
        """read()'s result, or the one read for key less than max_age_s ago, same version."""
        if self._max_age_s <= 0:
            return read()
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            # The version is taken before reading: a change during the read makes the
            # next caller read again instead of trusting this answer.
            version = self._version()
            now = self._clock()
            entry = self._entries.get(key)
            if entry is not None and entry[1] == version and now - entry[0] < self._max_age_s:
                return entry[2]  # type: ignore[no-any-return]
            value = read()
            self._entries[key] = (now, version, value)
            return value
