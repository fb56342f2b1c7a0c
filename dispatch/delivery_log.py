"""Reading the delivery log: every message of the outbox with each attempt to send it.

For screens and the API (GET /api/v1/notifications). Channels appear only with their
secrets masked (`channel_label`); the URLs themselves never leave the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg

MESSAGE_STATUSES = ("pending", "sent", "gave_up")

_MESSAGES = """
SELECT id, work_order_id, reason, level, recipient, channel_label, title, status, attempts,
       next_attempt_at, last_error, created_at, sent_at
FROM notifications
WHERE (%(recipients)s::text[] IS NULL OR recipient = ANY(%(recipients)s))
  AND (%(order)s::bigint IS NULL OR work_order_id = %(order)s)
  AND (%(status)s::text IS NULL OR status = %(status)s)
ORDER BY id DESC
LIMIT %(limit)s OFFSET %(offset)s
"""
_ATTEMPTS = """
SELECT notification_id, attempt, status, error, time FROM notification_attempts
WHERE notification_id = ANY(%s) ORDER BY notification_id, attempt, id
"""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def delivery_log(
    conn: psycopg.Connection,
    *,
    recipients: Sequence[str] | None = None,
    work_order_id: int | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Messages newest first, each with its attempts (oldest first).

    `recipients` keeps the messages of those recipients only (a person id, or
    'community:<id>' for a community's channels); None keeps everyone's.
    """
    if status is not None and status not in MESSAGE_STATUSES:
        raise ValueError(f"unknown status {status}; statuses: {', '.join(MESSAGE_STATUSES)}")
    rows = conn.execute(
        _MESSAGES,
        {
            "recipients": list(recipients) if recipients is not None else None,
            "order": work_order_id,
            "status": status,
            "limit": limit,
            "offset": offset,
        },
    ).fetchall()
    attempts: dict[int, list[dict[str, Any]]] = {}
    for a in conn.execute(_ATTEMPTS, ([r["id"] for r in rows],)):
        attempts.setdefault(a["notification_id"], []).append(
            {
                "attempt": a["attempt"],
                "status": a["status"],
                "error": a["error"],
                "time": _iso(a["time"]),
            }
        )
    return [
        {
            "id": r["id"],
            "work_order_id": r["work_order_id"],
            "reason": r["reason"],
            "level": r["level"],
            "recipient": r["recipient"],
            "channel": r["channel_label"],
            "title": r["title"],
            "status": r["status"],
            "attempts": r["attempts"],
            "next_attempt_at": _iso(r["next_attempt_at"]) if r["status"] == "pending" else None,
            "last_error": r["last_error"],
            "created_at": _iso(r["created_at"]),
            "sent_at": _iso(r["sent_at"]),
            "attempt_log": attempts.get(r["id"], []),
        }
        for r in rows
    ]
