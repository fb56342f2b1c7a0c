"""What the screens call things, in Chinese (zh) and English (en), and severity colours.

Every label a screen shows comes from TEXT through `t(key, lang)`, so switching language is
one table lookup and a missing translation is a test failure, not a half-English screen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from gridwatch.domain import ALERT_TYPE_LABELS, AlertState, Severity, WorkOrderState

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")
DEFAULT_LANGUAGE: Language = "zh"

# key -> (Chinese, English)
TEXT: dict[str, tuple[str, str]] = {
    "title": ("网格指挥大屏", "Grid command screen"),
    "site": ("站点", "Site"),
    "connecting": ("连接中…", "connecting…"),
    "live": ("实时", "live"),
    "db_down": ("数据库不可达", "database unreachable"),
    "stale_since": ("画面停在", "screen frozen at"),
    "grid_map": ("网格态势", "Grid map"),
    "live_alerts": ("实时告警", "Live alerts"),
    "grid_events": ("网格事件", "Grid events"),
    "dispatch_board": ("派单看板", "Dispatch board"),
    "camera_wall": ("视频墙", "Camera wall"),
    "trend_24h": ("24小时告警趋势", "Alerts, last 24 h"),
    "no_alerts": ("暂无告警", "No alerts"),
    "no_events": ("暂无事件", "No events"),
    "no_orders": ("暂无工单", "No open work orders"),
    "no_frames": ("暂无画面", "No frames yet"),
    "normal": ("正常", "Normal"),
    "open_alerts": ("开放告警", "Open alerts"),
    "today_alerts": ("今日告警", "Alerts today"),
    "work_orders": ("工单", "Work orders"),
    "devices": ("设备", "Devices"),
    "to_accept": ("待受理", "To accept"),
    "in_hand": ("处置中", "In hand"),
    "overdue": ("逾期", "Overdue"),
    "closure_rate": ("办结率", "Closed"),
    "median_accept": ("受理中位", "Median accept"),
    "median_resolve": ("处置中位", "Median resolve"),
    "online": ("在线", "Online"),
    "offline": ("离线", "Offline"),
    "not_reported": ("未上报", "never reported"),
    "snapshot": ("抓拍", "snapshot"),
    "clip": ("录像", "clip"),
    "alert_detail": ("告警详情", "Alert detail"),
    "close": ("关闭", "Close"),
    "acknowledge": ("确认告警", "Acknowledge"),
    "acknowledged_by_screen": ("大屏确认", "acknowledged on the big screen"),
    "no_snapshot": ("无抓拍", "No snapshot"),
    "evidence_files": ("证据文件 (SHA-256)", "Evidence files (SHA-256)"),
    "frames": ("帧", "frames"),
    "trajectory": ("抛物轨迹", "Trajectory"),
    "floor": ("估计楼层", "Estimated floor"),
    "sensor_curves": ("充电棚传感器 (±10分钟)", "Shed sensors (±10 min)"),
    "order_timeline": ("工单流程", "Work order timeline"),
    "no_order": ("尚无工单", "No work order yet"),
    "grid_detail": ("网格详情", "Grid detail"),
    "on_duty": ("值班网格员", "Worker on duty"),
    "nobody_on_duty": ("无人值班", "Nobody on duty"),
    "open_orders": ("未办结工单", "Open work orders"),
    "devices_online": ("设备在线", "Devices online"),
    "waited": ("已等待", "waited"),
    "unassigned": ("未派人", "unassigned"),
    "all_grids": ("全部网格", "All grids"),
    "all_communities": ("全部社区", "All communities"),
    "resident": ("居民报事", "Resident report"),
    "patrol": ("巡查上报", "Patrol report"),
    "device_alert": ("设备告警", "Device alert"),
    "hours": ("小时", "h"),
    "minutes": ("分钟", "min"),
    "language": ("English", "中文"),
    "device_types": ("设备类型", "Device types"),
    "sensors": ("传感器/报警器", "Sensors & alarms"),
    "no_alerts_24h": ("近24小时无告警", "No alerts in the last 24 h"),
    "today_total": ("合计", "Total"),
    "new_alert": ("新告警", "New alert"),
    # the manager view
    "manager_title": ("社区工作台", "Manager view"),
    "area": ("辖区", "Area"),
    "area_everywhere": ("全部辖区", "Everywhere"),
    "area_assigned": ("派给我的工单", "Orders assigned to me"),
    "my_alerts": ("辖区告警", "Alerts in my area"),
    "my_orders": ("辖区工单", "Work orders in my area"),
    "step_accept": ("受理", "Accept"),
    "step_start": ("开始处置", "Start"),
    "step_resolve": ("处置完成", "Resolve"),
    "step_comment": ("留言", "Comment"),
    "note_placeholder": ("备注（留言必填）", "Note (needed for a comment)"),
    "assignee": ("处置人", "Assignee"),
    "latest_event": ("最新进展", "Latest"),
    "log_out": ("退出登录", "Log out"),
    "session_ended": ("登录已失效，请重新登录", "Your login has ended; log in again"),
    "needs_api": ("工作台需要数据库与接口", "The manager view needs the database and the API"),
}

ROLE_TEXT: dict[str, tuple[str, str]] = {
    "grid_worker": ("网格员", "Grid worker"),
    "property_manager": ("物业管理员", "Property manager"),
    "operator": ("指挥中心值班员", "Operator"),
    "department": ("职能部门联系人", "Department contact"),
    "tester": ("测试员", "Tester"),
    "admin": ("管理员", "Admin"),
}

SEVERITY_TEXT: dict[Severity, tuple[str, str]] = {
    Severity.CRITICAL: ("紧急", "Critical"),
    Severity.MAJOR: ("重要", "Major"),
    Severity.MINOR: ("次要", "Minor"),
    Severity.WARNING: ("提示", "Warning"),
}
# Kept under its old name for the map's hover text, which shows both languages.
SEVERITY_LABELS = SEVERITY_TEXT

ALERT_STATE_TEXT: dict[str, tuple[str, str]] = {
    AlertState.ACTIVE: ("未处理", "Active"),
    AlertState.ACKNOWLEDGED: ("已确认", "Acknowledged"),
    AlertState.CLEARED: ("已解除", "Cleared"),
}

WORK_ORDER_STATE_TEXT: dict[str, tuple[str, str]] = {
    WorkOrderState.REPORTED: ("待受理", "Reported"),
    WorkOrderState.ACCEPTED: ("已受理", "Accepted"),
    WorkOrderState.DISPATCHED: ("已派单", "Dispatched"),
    WorkOrderState.IN_PROGRESS: ("处置中", "In progress"),
    WorkOrderState.RESOLVED: ("已处置", "Resolved"),
    WorkOrderState.VERIFIED: ("已核查", "Verified"),
    WorkOrderState.CLOSED: ("已办结", "Closed"),
}

DEVICE_KIND_TEXT: dict[str, tuple[str, str]] = {
    "fire_lane_camera": ("消防通道摄像头", "Fire-lane camera"),
    "elevator_camera": ("电梯摄像头", "Elevator camera"),
    "facade_camera": ("高空抛物摄像头", "Facade camera"),
    "shed_camera": ("充电棚摄像头", "Shed camera"),
    "sound_light_alarm": ("声光报警器", "Sound-light alarm"),
    "elevator_controller": ("电梯控制器", "Elevator controller"),
    "charging_socket": ("充电插座", "Charging socket"),
    "smoke_detector": ("烟感", "Smoke detector"),
    "hydrant_pressure": ("消防栓压力", "Hydrant pressure"),
    "fire_door": ("防火门", "Fire door"),
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
# An offline device is a hollow grey ring over its dot: no device kind is grey, so a grey
# mark on the map always means offline (pale grey-blue sensors were taken for offline ones).
OFFLINE_COLOR = "#a3afbd"

# Device kinds on the map: cool colours, so they never read as an alert's warm ones. The
# cameras each have their own; sensors and alarms share one (the legend names five colours).
SENSOR_COLOR = "#5fd88a"
DEVICE_KIND_COLORS: dict[str, str] = {
    "fire_lane_camera": "#4fc3ff",
    "elevator_camera": "#8f9bff",
    "facade_camera": "#c58cff",
    "shed_camera": "#3ee0c8",
    "sound_light_alarm": SENSOR_COLOR,
    "elevator_controller": SENSOR_COLOR,
    "charging_socket": SENSOR_COLOR,
    "smoke_detector": SENSOR_COLOR,
    "hydrant_pressure": SENSOR_COLOR,
    "fire_door": SENSOR_COLOR,
}
OTHER_DEVICE_COLOR = SENSOR_COLOR


def language_of(value: object) -> Language:
    """The language a stored value names, Chinese when it names none we have."""
    return "en" if value == "en" else "zh"


def pick(pair: tuple[str, str], lang: Language) -> str:
    return pair[1] if lang == "en" else pair[0]


def t(key: str, lang: Language) -> str:
    """The label `key` in `lang`; an unknown key raises, so a typo fails a test at once."""
    return pick(TEXT[key], lang)


def alert_type_label(alert_type: str) -> tuple[str, str]:
    """(Chinese, English) for an alert type; an unknown type shows as its own words."""
    if alert_type in ALERT_TYPE_LABELS:
        return ALERT_TYPE_LABELS[alert_type]
    words = alert_type.replace("_", " ")
    return (words, words)


def alert_type_text(alert_type: str, lang: Language) -> str:
    return pick(alert_type_label(alert_type), lang)


def device_kind_text(kind: str, lang: Language) -> str:
    return pick(DEVICE_KIND_TEXT.get(kind, (kind, kind.replace("_", " "))), lang)


def format_duration(seconds: float, lang: Language = "en") -> str:
    """A duration in the largest whole units that read at a glance: '3 h 2 min', '3小时2分钟'."""
    seconds = max(0, int(seconds))
    minutes = seconds // 60
    hours, rest = divmod(minutes, 60)
    h, m = t("hours", lang), t("minutes", lang)
    sep = "" if lang == "zh" else " "
    if hours >= 24:
        return f"{hours // 24}{'天' if lang == 'zh' else ' d'}"
    if hours:
        return f"{hours}{sep}{h}{f' {rest}{sep}{m}' if rest else ''}"
    return f"{minutes}{sep}{m}"


def format_age(since: datetime, now: datetime, lang: Language = "en") -> str:
    """How long ago, in the largest whole unit that reads at a glance: '3 min ago'."""
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 60:
        return "刚刚" if lang == "zh" else "just now"
    if lang == "zh":
        return f"{format_duration(seconds, 'zh')}前"
    return f"{format_duration(seconds, 'en')} ago"
