"""Notifications about work orders: queued in an outbox, delivered and retried by the sweep.

Queueing happens in the transaction of the step that caused the message (dispatch,
escalation), so nothing is lost when a channel is down or the process stops: the row waits
in `notifications` until a sweep delivers it. Every attempt is a `notification_attempts` row
(the delivery log). Delivery is at least once: a crash between sending and committing sends
that one message again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from dispatch.channels import MQTT_PREFIX, DeliveryError, Senders, channel_label, check_channel
from gridwatch.domain import AreaLevel

log = logging.getLogger(__name__)

# Who answers for an area at each level: the people told when an order reaches it.
ROLES_AT_LEVEL: dict[AreaLevel, tuple[str, ...]] = {
    AreaLevel.GRID: ("grid_worker",),
    AreaLevel.COMMUNITY: ("property_manager",),
    AreaLevel.STREET: ("operator", "admin", "property_manager"),
    AreaLevel.DISTRICT: ("operator", "admin"),
}


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: first_s, 2×, 4×, … capped at max_s; give up after give_up_after_s."""

    first_s: float = 30.0
    max_s: float = 1800.0
    give_up_after_s: float = 86_400.0

    def next_attempt(self, attempts_made: int, now: datetime) -> datetime:
        delay = min(self.first_s * 2 ** max(attempts_made - 1, 0), self.max_s)
        return now + timedelta(seconds=delay)

    def gives_up(self, created_at: datetime, now: datetime) -> bool:
        return (now - created_at).total_seconds() >= self.give_up_after_s


DEFAULT_RETRY = RetryPolicy()


@dataclass(frozen=True)
class Message:
    work_order_id: int
    reason: str  # 'dispatched' or 'escalated'
    level: str
    title: str
    body: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class DeliveryCounts:
    sent: int = 0
    failed: int = 0
    gave_up: int = 0


def responsible_people(conn: psycopg.Connection, level: AreaLevel, area_id: str) -> list[str]:
    """The people who answer for `area_id` at `level` (see ROLES_AT_LEVEL)."""
    rows = conn.execute(
        "SELECT id FROM people WHERE area_id = %s AND role = ANY(%s) ORDER BY id",
        (area_id, list(ROLES_AT_LEVEL[level])),
    ).fetchall()
    return [r["id"] for r in rows]


def person_channels(conn: psycopg.Connection, person_id: str) -> list[str]:
    """A person's channels: those of the site model (people.channels) and those added since."""
    rows = conn.execute(
        "SELECT jsonb_array_elements_text(channels) AS url FROM people WHERE id = %s"
        " UNION SELECT url FROM notification_channels WHERE person_id = %s AND enabled",
        (person_id, person_id),
    ).fetchall()
    return sorted(r["url"] for r in rows)


def community_channels(conn: psycopg.Connection, community_id: str) -> list[str]:
    rows = conn.execute(
        "SELECT url FROM notification_channels WHERE community_id = %s AND enabled ORDER BY id",
        (community_id,),
    ).fetchall()
    return [r["url"] for r in rows]


def add_channel(
    conn: psycopg.Connection,
    url: str,
    *,
    person_id: str | None = None,
    community_id: str | None = None,
    label: str | None = None,
) -> int:
    """Store a channel for a person or a community, refusing a URL no sender understands."""
    if (person_id is None) == (community_id is None):
        raise ValueError("a channel belongs to exactly one person or one community")
    check_channel(url)
    if community_id is not None:
        area = conn.execute("SELECT level FROM areas WHERE id = %s", (community_id,)).fetchone()
        if area is None or area["level"] != AreaLevel.COMMUNITY:
            raise LookupError(f"{community_id!r} is not a community of the site")
    elif conn.execute("SELECT 1 FROM people WHERE id = %s", (person_id,)).fetchone() is None:
        raise LookupError(f"person {person_id!r} does not exist")
    row = conn.execute(
        "INSERT INTO notification_channels (person_id, community_id, url, label)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id",
        (person_id, community_id, url, label),
    ).fetchone()
    if row is None:
        raise ValueError(
            f"{person_id or community_id} already has the channel {channel_label(url)}"
        )
    return int(row["id"])


def list_channels(
    conn: psycopg.Connection, *, person_id: str | None = None, community_id: str | None = None
) -> list[dict[str, Any]]:
    """Stored channels (all, or a person's or a community's), secrets masked, oldest first.

    A person's channels from the site model (people.channels) come too, with no id: they
    change with the site model, not here.
    """
    rows = conn.execute(
        "SELECT id, person_id, community_id, url, label, enabled, created_at, 'stored' AS source"
        " FROM notification_channels"
        " WHERE (%(p)s::text IS NULL OR person_id = %(p)s)"
        " AND (%(c)s::text IS NULL OR community_id = %(c)s)"
        " UNION ALL SELECT NULL, p.id, NULL, u.url, NULL, true, NULL, 'site model'"
        " FROM people p, jsonb_array_elements_text(p.channels) AS u(url)"
        " WHERE %(p)s::text IS NOT NULL AND p.id = %(p)s"
        " ORDER BY source DESC, id",
        {"p": person_id, "c": community_id},
    ).fetchall()
    return [
        {
            "id": r["id"],
            "person_id": r["person_id"],
            "community_id": r["community_id"],
            "channel": channel_label(r["url"]),
            "label": r["label"],
            "enabled": r["enabled"],
            "source": r["source"],
            "created_at": r["created_at"].isoformat() if r["created_at"] else None,
        }
        for r in rows
    ]


def remove_channel(conn: psycopg.Connection, channel_id: int) -> bool:
    """Remove a stored channel; False if there is none with that id. Messages already
    queued for it stay in the outbox and the delivery log."""
    row = conn.execute(
        "DELETE FROM notification_channels WHERE id = %s RETURNING id", (channel_id,)
    ).fetchone()
    return row is not None


def queue(
    conn: psycopg.Connection, message: Message, recipient: str, channels: list[str], now: datetime
) -> int:
    """Put one message per channel in the outbox, due now; returns how many."""
    for channel in channels:
        conn.execute(
            "INSERT INTO notifications (work_order_id, reason, level, recipient, channel,"
            " channel_label, title, body, payload, next_attempt_at, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                message.work_order_id,
                message.reason,
                message.level,
                recipient,
                channel,
                channel_label(channel),
                message.title,
                message.body,
                Jsonb(message.payload),
                now,
                now,
            ),
        )
    return len(channels)


def queue_for_people(
    conn: psycopg.Connection, message: Message, people: list[str], now: datetime
) -> int:
    return sum(queue(conn, message, p, person_channels(conn, p), now) for p in people)


def queue_for_community(
    conn: psycopg.Connection, message: Message, community_id: str | None, now: datetime
) -> int:
    if community_id is None:
        return 0
    channels = community_channels(conn, community_id)
    return queue(conn, message, f"community:{community_id}", channels, now)


def queue_on_mqtt(conn: psycopg.Connection, message: Message, topic: str, now: datetime) -> int:
    return queue(conn, message, "mqtt", [MQTT_PREFIX + topic], now)


_NEXT_DUE = """
SELECT id, work_order_id, recipient, channel, channel_label, title, body, payload, attempts,
       created_at
FROM notifications
WHERE status = 'pending' AND next_attempt_at <= %s
ORDER BY next_attempt_at, id
LIMIT 1
FOR UPDATE SKIP LOCKED
"""


def deliver_due(
    conn: psycopg.Connection,
    now: datetime,
    senders: Senders,
    policy: RetryPolicy = DEFAULT_RETRY,
    limit: int = 50,
    budget_s: float = 5.0,
) -> DeliveryCounts:
    """Try the messages due at `now`, each in its own transaction.

    At most `limit` of them, and no new one after `budget_s` seconds of work, so that a slow
    channel (a DNS lookup or SMTP server that hangs until its timeout) cannot hold up the
    rest of the sweep for long; what is left is due at the next sweep.
    """
    sent = failed = gave_up = 0
    started = time.monotonic()
    for _ in range(limit):
        if time.monotonic() - started > budget_s:
            break
        with conn.transaction():
            row = conn.execute(_NEXT_DUE, (now,)).fetchone()
            if row is None:
                break
            attempt = row["attempts"] + 1
            try:
                senders.send(row["channel"], row["title"], row["body"], row["payload"])
            except DeliveryError as exc:
                give_up = exc.permanent or policy.gives_up(row["created_at"], now)
                _record(conn, row, attempt, "gave_up" if give_up else "failed", str(exc), now)
                conn.execute(
                    "UPDATE notifications SET attempts = %s, last_error = %s, status = %s,"
                    " next_attempt_at = %s WHERE id = %s",
                    (
                        attempt,
                        str(exc),
                        "gave_up" if give_up else "pending",
                        now if give_up else policy.next_attempt(attempt, now),
                        row["id"],
                    ),
                )
                log.warning(
                    "notification %d to %s via %s, attempt %d: %s%s",
                    row["id"],
                    row["recipient"],
                    row["channel_label"],
                    attempt,
                    exc,
                    " (gave up)" if give_up else "",
                )
                gave_up += give_up
                failed += not give_up
                continue
            _record(conn, row, attempt, "sent", None, now)
            conn.execute(
                "UPDATE notifications SET attempts = %s, status = 'sent', sent_at = %s,"
                " last_error = NULL WHERE id = %s",
                (attempt, now, row["id"]),
            )
            sent += 1
    return DeliveryCounts(sent, failed, gave_up)


def _record(
    conn: psycopg.Connection,
    row: dict[str, Any],
    attempt: int,
    status: str,
    error: str | None,
    now: datetime,
) -> None:
    conn.execute(
        "INSERT INTO notification_attempts (notification_id, work_order_id, recipient,"
        " channel_label, attempt, status, error, time) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (
            row["id"],
            row["work_order_id"],
            row["recipient"],
            row["channel_label"],
            attempt,
            status,
            error,
            now,
        ),
    )
