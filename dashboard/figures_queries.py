"""The day's figures for the big screen: alerts by type, a 24-hour trend, closure and speed.

"Today" starts at midnight in the site's time zone, the way the command centre's shift
report counts; the trend is the last 24 hours by hour, whatever the day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import psycopg

DONE_STATES = ("resolved", "verified", "closed")


@dataclass(frozen=True)
class DayFigures:
    today_by_type: dict[str, int] = field(default_factory=dict)
    # (hour start, alert type, count) for the last 24 hours, oldest first
    trend: list[tuple[datetime, str, int]] = field(default_factory=list)
    orders_today: int = 0
    orders_done_today: int = 0
    median_accept_s: float | None = None
    median_resolve_s: float | None = None

    @property
    def closure_rate(self) -> float | None:
        """Share of today's work orders already resolved or closed; None before the first."""
        return self.orders_done_today / self.orders_today if self.orders_today else None


_TODAY_SQL = "SELECT date_trunc('day', now() AT TIME ZONE %(tz)s) AT TIME ZONE %(tz)s AS t"

_TODAY_BY_TYPE_SQL = """
SELECT type, count(*) AS n FROM alerts WHERE first_seen >= %(since)s GROUP BY type
"""

_TREND_SQL = """
SELECT date_trunc('hour', first_seen) AS hour, type, count(*) AS n
FROM alerts
WHERE first_seen >= date_trunc('hour', now()) - interval '23 hours'
GROUP BY 1, 2
ORDER BY 1, 2
"""

# Time to accept: from creation to the first step out of 'reported'; to resolve: to the
# first 'resolved'. Both over the orders created today.
_ORDER_FIGURES_SQL = """
WITH today AS (
    SELECT id, state, created_at FROM work_orders WHERE created_at >= %(since)s
), steps AS (
    SELECT e.work_order_id,
           min(e.time) FILTER (WHERE e.from_state = 'reported') AS accepted_at,
           min(e.time) FILTER (WHERE e.to_state = 'resolved') AS resolved_at
    FROM work_order_events e JOIN today t ON t.id = e.work_order_id
    GROUP BY e.work_order_id
)
SELECT count(*) AS orders,
       count(*) FILTER (WHERE t.state = ANY(%(done)s)) AS done,
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY extract(epoch FROM s.accepted_at - t.created_at)) AS median_accept_s,
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY extract(epoch FROM s.resolved_at - t.created_at)) AS median_resolve_s
FROM today t LEFT JOIN steps s ON s.work_order_id = t.id
"""


def day_figures(conn: psycopg.Connection, timezone: str) -> DayFigures:
    """Read the day's figures; rows come back as dicts (the dashboard's pool sets dict_row)."""
    since = conn.execute(_TODAY_SQL, {"tz": timezone}).fetchone()["t"]  # type: ignore[index]
    by_type = {r["type"]: r["n"] for r in conn.execute(_TODAY_BY_TYPE_SQL, {"since": since})}
    trend = [(r["hour"], r["type"], r["n"]) for r in conn.execute(_TREND_SQL)]
    orders = conn.execute(_ORDER_FIGURES_SQL, {"since": since, "done": list(DONE_STATES)})
    row = orders.fetchone() or {}
    return DayFigures(
        today_by_type=by_type,
        trend=trend,
        orders_today=row.get("orders") or 0,
        orders_done_today=row.get("done") or 0,
        median_accept_s=row.get("median_accept_s"),
        median_resolve_s=row.get("median_resolve_s"),
    )
