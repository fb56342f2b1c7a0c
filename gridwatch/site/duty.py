"""Who is on duty in a grid at a given time, from a site or from duty_roster rows.

A shift starts on each of its weekdays at ``starts_at`` (inclusive) and ends at ``ends_at``
(exclusive). When ``ends_at`` is not later than ``starts_at`` the shift runs overnight into the
next day (a Sunday 20:00-08:00 shift ends Monday 08:00); equal times mean 24 hours. Times are
the site's local time. The database keeps one ``duty_roster`` row per grid and weekday with the
same times, so in SQL a person is on duty at local weekday d, time t when
``weekday = d AND starts_at <= t AND (t < ends_at OR ends_at <= starts_at)``, or
``weekday = d - 1 (7 before 1) AND ends_at <= starts_at AND t < ends_at``. on_duty() is the
reference implementation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, time, tzinfo
from typing import Any

from gridwatch.site.fields import DEFAULT_TIMEZONE, site_timezone
from gridwatch.site.model import Site
from gridwatch.site.people import RosterRow

DAY_S = 86_400
WEEK_S = 7 * DAY_S


def _seconds(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def on_duty(
    source: Site | Iterable[RosterRow | Mapping[str, Any]],
    grid_id: str,
    when: datetime,
    tz: tzinfo | None = None,
) -> str | None:
    """Id of the person on duty in a grid at `when`, or None.

    `source` is a Site or roster rows (RosterRow or mappings with the duty_roster columns,
    e.g. database rows). A naive `when` is site-local time; an aware one is converted to the
    site's zone (`tz`, default Asia/Shanghai for bare rows). When shifts overlap, the one that
    started most recently wins, then the smaller person id.
    """
    if isinstance(source, Site):
        rows: Iterable[Any] = source._roster.get(grid_id, [])
        zone = tz or source.tzinfo
    else:
        rows = (
            r if isinstance(r, RosterRow) else RosterRow(**{f: r[f] for f in RosterRow._fields})
            for r in source
        )
        zone = tz or site_timezone(DEFAULT_TIMEZONE)
    local = when.astimezone(zone) if when.tzinfo is not None else when
    now = (local.isoweekday() - 1) * DAY_S + _seconds(local.time())
    best: tuple[int, str] | None = None
    for row in rows:
        if row.grid_id != grid_id:
            continue
        start, end = _seconds(row.starts_at), _seconds(row.ends_at)
        length = (end - start) % DAY_S or DAY_S
        since_start = (now - (row.weekday - 1) * DAY_S - start) % WEEK_S
        if since_start < length and (best is None or (since_start, row.person_id) < best):
            best = (since_start, row.person_id)
    return best[1] if best else None
