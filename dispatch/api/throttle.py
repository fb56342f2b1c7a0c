"""The login throttle: too many failed logins for one name from one address → 429 for a while.

`retry_after` is the pure judgement (failure times in, how long to wait out); the rest keeps
the failures in `login_failures`, so every server process sharing the database counts the
same failures. Keyed by name *and* address: a guesser elsewhere cannot lock a worker out of
their own phone, and one address cannot try a name more than `max_failures` times a window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg


@dataclass(frozen=True)
class ThrottlePolicy:
    """At most `max_failures` failed logins per name and address within `window`."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=5)

    def retry_after(self, failures: Sequence[datetime], now: datetime) -> timedelta | None:
        """How long until another try is allowed, or None if one is allowed now.

        Once the limit is reached, the next try is allowed when the oldest failure that
        counts towards it leaves the window.
        """
        recent = sorted(t for t in failures if now - self.window < t <= now)
        if len(recent) < self.max_failures:
            return None
        frees_at = recent[-self.max_failures] + self.window
        return frees_at - now


def recent_failures(
    conn: psycopg.Connection, login: str, address: str, now: datetime, policy: ThrottlePolicy
) -> list[datetime]:
    rows = conn.execute(
        "SELECT time FROM login_failures WHERE login = %s AND address = %s AND time > %s",
        (login, address, now - policy.window),
    ).fetchall()
    return [r["time"] for r in rows]


def record_failure(
    conn: psycopg.Connection, login: str, address: str, now: datetime, policy: ThrottlePolicy
) -> None:
    """Count a failed login, forgetting this key's failures that have left the window."""
    conn.execute(
        "DELETE FROM login_failures WHERE login = %s AND address = %s AND time <= %s",
        (login, address, now - policy.window),
    )
    conn.execute(
        "INSERT INTO login_failures (login, address, time) VALUES (%s, %s, %s)",
        (login, address, now),
    )


def clear_failures(conn: psycopg.Connection, login: str, address: str) -> None:
    """A successful login starts the count again."""
    conn.execute("DELETE FROM login_failures WHERE login = %s AND address = %s", (login, address))


def wait_text(wait: timedelta) -> str:
    seconds = max(1, int(wait.total_seconds() + 0.999))
    return f"{seconds} s" if seconds < 120 else f"{(seconds + 59) // 60} min"
