"""The live alert list: open alerts first, newest first, one large-type row per alert.

The list travels as plain JSON (a `ScreenList`, see screen_list.py) and is drawn in the
browser by assets/screen_lists.js: as Dash components, 30 rows were ~300 components that the
renderer re-checked on every store update.
"""

from __future__ import annotations

from datetime import datetime

from dashboard.components.screen_list import ScreenList, screen_list
from dashboard.evidence_route import evidence_url
from dashboard.labels import (
    ALERT_STATE_TEXT,
    SEVERITY_TEXT,
    Language,
    alert_type_text,
    format_age,
    pick,
    t,
)
from dashboard.queries import AlertRow


def alert_row(alert: AlertRow, now: datetime, lang: Language = "zh") -> dict[str, str | int]:
    """One alert: severity badge, what happened, where, how long ago, its state."""
    return {
        "id": alert.id,
        "severity": alert.severity.value,
        "state": alert.state,
        "first_seen": alert.first_seen.isoformat(),
        "title": alert.title,
        "severity_text": pick(SEVERITY_TEXT[alert.severity], lang),
        "type_text": alert_type_text(alert.type, lang),
        "repeats": f"×{alert.occurrences}" if alert.occurrences > 1 else "",
        "grid": alert.grid_name,
        "device": alert.device_name,
        "thumb": evidence_url(alert.snapshot_path) if alert.snapshot_path else "",
        "age": format_age(alert.first_seen, now, lang),
        "state_text": pick(ALERT_STATE_TEXT.get(alert.state, (alert.state,) * 2), lang),
    }


def alert_rows(alerts: list[AlertRow], now: datetime, lang: Language = "zh") -> ScreenList:
    """Rows for the list, in the order given (the query puts open ones first, newest first)."""
    return screen_list([alert_row(a, now, lang) for a in alerts], t("no_alerts", lang))
