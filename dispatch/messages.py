"""What notifications say: titles, bodies and MQTT payloads of work-order messages (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from dispatch.notifications import Message
from gridwatch.domain import ALERT_TYPE_LABELS

LEVEL_LABELS = {
    "grid": "网格 grid",
    "community": "社区 community",
    "street": "街道 street",
    "district": "区 district",
}


def _type_label(order_type: str) -> str:
    zh, en = ALERT_TYPE_LABELS.get(order_type, (order_type, order_type))
    return f"{zh} {en}"


def _local(t: datetime | None, tz: tzinfo) -> str:
    return t.astimezone(tz).strftime("%Y-%m-%d %H:%M") if t else "-"


def dispatched_message(order: Mapping[str, Any], tz: tzinfo) -> Message:
    """To the worker who got a new order (and the community's channels)."""
    title = f"工单 Work order {order['id']}: {_type_label(order['type'])}"
    body = "\n".join(
        [
            f"{order['title']} — {order['severity']}, grid {order['grid_id']}",
            f"Assigned to {order['assignee_id'] or 'nobody yet'}.",
            f"Accept by {_local(order['accept_due'], tz)}, resolve by "
            f"{_local(order['resolve_due'], tz)}.",
        ]
    )
    return Message(int(order["id"]), "dispatched", "grid", title, body, {})


def escalated_message(
    order: Mapping[str, Any],
    level: str,
    area_id: str | None,
    area_name: str | None,
    missed: str,
    deadline: datetime,
    now: datetime,
    tz: tzinfo,
) -> Message:
    """To the people of the level an overdue order climbed to (督办)."""
    where = f"{area_name} ({area_id})" if area_name else (area_id or "unknown area")
    what = "accepted" if missed == "accept" else "resolved"
    title = f"督办 Escalated to {LEVEL_LABELS[level]} {where}: work order {order['id']}"
    body = "\n".join(
        [
            f"{_type_label(order['type'])}: {order['title']} — {order['severity']}, "
            f"grid {order['grid_id']}.",
            f"Not {what} by its deadline {_local(deadline, tz)}; now {order['state']}, "
            f"assigned to {order['assignee_id'] or 'nobody'}.",
        ]
    )
    payload = {
        "event": "escalated",
        "alert_id": order.get("alert_id"),
        "work_order": int(order["id"]),
        "type": order["type"],
        "severity": order["severity"],
        "grid": order["grid_id"],
        "level": level,
        "area": area_id,
        "missed": missed,
        "deadline": deadline.timestamp(),
        "ts": now.timestamp(),
    }
    return Message(int(order["id"]), "escalated", level, title, body, payload)
