"""A large site for bench.dashboard: generated grids and devices plus years of SQL history."""

from __future__ import annotations

from pathlib import Path

import psycopg

from gridwatch.site import load_site, store_site
from gridwatch.sitegen import generate_site

# History is written by set-based SQL: 100,000 alerts in one statement, not one per row.
_HISTORY_SQL = """
INSERT INTO alerts (site_id, device_id, grid_id, type, severity, state, title,
                    first_seen, last_seen, cleared_at)
WITH d AS (SELECT array_agg(id ORDER BY id) AS ids, array_agg(grid_id ORDER BY id) AS grids,
                  count(*) AS n FROM devices WHERE site_id = %(site)s)
SELECT %(site)s, d.ids[1 + (i * 7919) %% d.n], d.grids[1 + (i * 7919) %% d.n],
       t.type, t.severity, 'cleared', 'history',
       now() - (i * interval '26 seconds'), now() - (i * interval '26 seconds'),
       now() - (i * interval '26 seconds') + interval '5 minutes'
FROM d, generate_series(1, %(alerts)s) AS i
JOIN LATERAL (SELECT (ARRAY['fire_lane_occupied','ebike_in_elevator','falling_object',
                            'socket_overheat','smoke'])[1 + i %% 5] AS type,
                     (ARRAY['major','major','critical','critical','critical'])[1 + i %% 5]
                         AS severity) t ON true
"""

_OPEN_ALERTS_SQL = """
INSERT INTO alerts (site_id, device_id, grid_id, type, severity, state, title,
                    first_seen, last_seen)
SELECT %(site)s, id, grid_id, 'threshold', 'minor',
       CASE WHEN n %% 3 = 0 THEN 'active' ELSE 'acknowledged' END, 'open',
       now() - n * interval '1 minute', now()
FROM (SELECT id, grid_id, row_number() OVER (ORDER BY id) AS n FROM devices
      WHERE site_id = %(site)s) d
WHERE n %% 20 = 0
"""

_ORDERS_SQL = """
INSERT INTO work_orders (source, grid_id, type, severity, title, state, accept_due,
                         resolve_due, created_at)
WITH g AS (SELECT array_agg(id ORDER BY id) AS ids, count(*) AS n FROM areas
           WHERE level = 'grid')
SELECT (ARRAY['alert','resident','patrol'])[1 + i %% 3], g.ids[1 + i %% g.n],
       'fire_lane_occupied', 'major',
       'bench order', (ARRAY['reported','dispatched','in_progress'])[1 + i %% 3],
       now() - interval '1 hour' + (i %% 120) * interval '1 minute',
       now() + (i %% 300 - 60) * interval '1 minute', now() - (i %% 600) * interval '1 minute'
FROM g, generate_series(1, %(orders)s) AS i
"""

_STATUS_SQL = """
INSERT INTO device_status (device_id, online)
SELECT id, (row_number() OVER (ORDER BY id)) %% 25 <> 0 FROM devices WHERE site_id = %(site)s
ON CONFLICT (device_id) DO NOTHING
"""


def build_large_site(
    conn: psycopg.Connection,
    folder: Path,
    site_id: str,
    grids: int = 500,
    devices: int = 5000,
    alerts: int = 100_000,
    orders: int = 2000,
) -> dict[str, int]:
    """Generate and store the site, then its history; returns what was written."""
    generate_site(folder, seed=11, grids=grids, devices=devices)
    site = load_site(folder).model_copy(update={"id": site_id})
    store_site(conn, site)
    placed = len(site.devices)
    params = {"site": site_id, "alerts": alerts, "orders": orders}
    conn.execute(_HISTORY_SQL, params)
    conn.execute(_OPEN_ALERTS_SQL, params)
    conn.execute(_ORDERS_SQL, params)
    conn.execute(_STATUS_SQL, params)
    conn.execute("ANALYZE")
    conn.commit()
    return {"grids": grids, "devices": placed, "alerts": alerts, "open_work_orders": orders}
