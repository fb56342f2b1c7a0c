"""What an operator can change from the big screen: for now, acknowledging an alert."""

from __future__ import annotations

import psycopg

from gridwatch import db


def acknowledge_alert(conn: psycopg.Connection, alert_id: int, actor: str, note: str) -> bool:
    """Mark an active alert acknowledged, with its event row; False if it was not active."""
    with conn.transaction():
        row = conn.execute(
            "UPDATE alerts SET state = 'acknowledged' WHERE id = %s AND state = 'active'"
            " RETURNING id",
            (alert_id,),
        ).fetchone()
        if row is None:
            return False
        conn.execute(
            "INSERT INTO alert_events (alert_id, kind, actor, note)"
            " VALUES (%s, 'acknowledged', %s, %s)",
            (alert_id, actor, note),
        )
        conn.execute("SELECT pg_notify(%s, %s)", (db.ALERTS_CHANNEL, f"acknowledged:{alert_id}"))
    return True
