"""What the screens call things: Chinese labels (English beside them) and severity colours."""

from __future__ import annotations

from datetime import datetime

from gridwatch.domain import ALERT_TYPE_LABELS, AlertState, Severity, WorkOrderState

SEVERITY_LABELS: dict[Severity, tuple[str, str]] = {
    Severity.CRITICAL: ("紧急", "Critical"),
    Severity.MAJOR: ("重要", "Major"),
    Severity.MINOR: ("次要", "Minor"),
    Severity.WARNING: ("提示", "Warning"),
}

# Chosen to stay apart on a dark wall seen from across the room: yellow -> red as it worsens.
SEVERITY_COLORS: dict[Severity, str] = {
    Severity.WARNING: "#e8d44d",
    Severity.MINOR: "#ffab2e",
    Severity.MAJOR: "#ff6a1f",
    Severity.CRITICAL: "#ff2d46",
}
NO_ALERT_FILL = "#16212e"
GRID_BORDER = "#5d82a8"


ALERT_STATE_LABELS: dict[str, str] = {
    AlertState.ACTIVE: "未处理",
    AlertState.ACKNOWLEDGED: "已确认",
    AlertState.CLEARED: "已解除",
}

WORK_ORDER_STATE_LABELS: dict[WorkOrderState, str] = {
    WorkOrderState.REPORTED: "待受理",
    WorkOrderState.ACCEPTED: "已受理",
    WorkOrderState.DISPATCHED: "已派单",
    WorkOrderState.IN_PROGRESS: "处置中",
    WorkOrderState.RESOLVED: "已处置",
    WorkOrderState.VERIFIED: "已核查",
    WorkOrderState.CLOSED: "已办结",
}


def alert_type_label(alert_type: str) -> tuple[str, str]:
    """(Chinese, English) for an alert type; an unknown type shows as its own words."""
    if alert_type in ALERT_TYPE_LABELS:
        return ALERT_TYPE_LABELS[alert_type]
    words = alert_type.replace("_", " ")
    return (words, words)


def format_age(since: datetime, now: datetime) -> str:
    """How long ago, in the largest whole unit that reads at a glance: '3 min ago'."""
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 60:
        return "just now"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 24:
        rest = minutes % 60
        return f"{hours} h {rest} min ago" if rest else f"{hours} h ago"
    return f"{hours // 24} d ago"
