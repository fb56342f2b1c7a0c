"""Reading the dead letters back: how many per reason, and the latest of each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import dict_row


@dataclass(frozen=True)
class DeadLetterExample:
    received_at: datetime
    topic: str
    reason: str
    payload_size: int
    payload_head: bytes


@dataclass(frozen=True)
class ReasonCount:
    reason_code: str
    count: int
    latest: list[DeadLetterExample]


def summarize(
    conn: psycopg.Connection, since: datetime | None = None, examples: int = 1
) -> list[ReasonCount]:
    """Dead letters counted by reason code (most first), with the latest `examples` of each."""
    with conn.cursor(row_factory=dict_row) as cur:
        counts = cur.execute(
            "SELECT reason_code, count(*) AS n FROM dead_letters"
            " WHERE %(since)s::timestamptz IS NULL OR received_at >= %(since)s"
            " GROUP BY reason_code ORDER BY n DESC, reason_code",
            {"since": since},
        ).fetchall()
        latest = cur.execute(
            "SELECT * FROM (SELECT reason_code, received_at, topic, reason, payload_size,"
            " substring(payload FROM 1 FOR 48) AS head, row_number() OVER"
            " (PARTITION BY reason_code ORDER BY received_at DESC, id DESC) AS rank"
            " FROM dead_letters"
            " WHERE %(since)s::timestamptz IS NULL OR received_at >= %(since)s) ranked"
            " WHERE rank <= %(examples)s ORDER BY rank",
            {"since": since, "examples": examples},
        ).fetchall()
    by_code: dict[str, list[DeadLetterExample]] = {}
    for row in latest:
        by_code.setdefault(row["reason_code"], []).append(
            DeadLetterExample(
                row["received_at"],
                row["topic"],
                row["reason"],
                row["payload_size"],
                bytes(row["head"] or b""),
            )
        )
    return [
        ReasonCount(row["reason_code"], int(row["n"]), by_code.get(row["reason_code"], []))
        for row in counts
    ]
