"""The figures as files: a CSV table and a printable, self-contained HTML report with charts.

The HTML carries its charts as inline SVG: no script, no CDN, so it opens and prints on a
machine without network access.
"""

from __future__ import annotations

import csv
import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path

import psycopg

from dispatch.figures import ALL, GroupBy, GroupFigures, figures_by
from dispatch.figures_queries import names, orders_in_period

COLUMNS = [
    "group",
    "name",
    "orders",
    "closed",
    "closure_rate",
    "on_time",
    "on_time_rate",
    "accept_median_min",
    "accept_p90_min",
    "resolve_median_min",
    "resolve_p90_min",
    "overdue",
    "reopened",
]
LEVEL_NAMES = {
    GroupBy.GRID: "网格 Grid",
    GroupBy.COMMUNITY: "社区 Community",
    GroupBy.STREET: "街道 Street",
    GroupBy.WORKER: "网格员 Worker",
}


@dataclass(frozen=True)
class Period:
    """Local dates, both included, in the site's time zone."""

    first: date
    last: date
    tz: tzinfo

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"the period ends ({self.last}) before it starts ({self.first})")

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), self.tz)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), self.tz)

    def slug(self) -> str:
        return f"{self.first.isoformat()}_{self.last.isoformat()}"


def _minutes(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 60:.1f}"


def _rate(rate: float | None) -> str:
    return "" if rate is None else f"{rate:.4f}"


def csv_row(g: GroupFigures, label: dict[str, str]) -> list[str | int]:
    return [
        g.key,
        label.get(g.key, g.key),
        g.orders,
        g.closed,
        _rate(g.closure_rate),
        g.on_time,
        _rate(g.on_time_rate),
        _minutes(g.accept_median_s),
        _minutes(g.accept_p90_s),
        _minutes(g.resolve_median_s),
        _minutes(g.resolve_p90_s),
        g.overdue,
        g.reopened,
    ]


def write_csv(path: Path, groups: Sequence[GroupFigures], label: dict[str, str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for g in groups:
            writer.writerow(csv_row(g, label))


def bar_chart(
    title: str, rows: Sequence[tuple[str, Sequence[float | None]]], series: Sequence[str], unit: str
) -> str:
    """Horizontal grouped bars as an SVG element; `rows` are (label, one value per series)."""
    colours = ["#2f6fb0", "#e0892b", "#5a9e4b"]
    bar_h, gap, label_w, plot_w = 12, 10, 170, 460
    top = 34
    height = top + len(rows) * (len(series) * bar_h + gap) + 10
    peak = max((v for _, vals in rows for v in vals if v is not None), default=0.0) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + plot_w + 80}" '
        f'height="{height}" role="img" aria-label="{html.escape(title)}">',
        f'<text x="0" y="14" font-size="13" font-weight="bold">{html.escape(title)}</text>',
    ]
    for i, name in enumerate(series):
        x = label_w + i * 150
        parts.append(f'<rect x="{x}" y="20" width="10" height="10" fill="{colours[i]}"/>')
        parts.append(f'<text x="{x + 14}" y="29" font-size="11">{html.escape(name)}</text>')
    y = top
    for label, values in rows:
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar_h * len(series) / 2 + 4}" font-size="11" '
            f'text-anchor="end">{html.escape(label)}</text>'
        )
        for i, value in enumerate(values):
            width = 0 if value is None else max(value / peak * plot_w, 1)
            text = "–" if value is None else f"{value:.1f}{unit}"
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{width:.1f}" height="{bar_h - 2}" '
                f'fill="{colours[i]}"/>'
                f'<text x="{label_w + width + 4:.1f}" y="{y + bar_h - 3}" font-size="10">'
                f"{text}</text>"
            )
            y += bar_h
        y += gap
    parts.append("</svg>")
    return "".join(parts)


_STYLE = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; font-size: 12px; margin: 12px 0 24px; }
th, td { border: 1px solid #bbb; padding: 3px 6px; text-align: right; }
th:first-child, td:first-child, td:nth-child(2) { text-align: left; }
tr.total td { font-weight: bold; background: #f1f1f1; }
.chart { margin: 8px 0 20px; page-break-inside: avoid; }
td:nth-child(2) { white-space: nowrap; }
@page { size: A4 landscape; margin: 12mm; }
@media print { body { margin: 0; } }
"""


def render_html(
    groups: Sequence[GroupFigures],
    total: GroupFigures,
    by: GroupBy,
    label: dict[str, str],
    period: Period,
    made_at: datetime,
) -> str:
    """The printable report: the table, then closure/on-time and speed charts."""
    header = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = []
    for g in [*groups, total]:
        cells = "".join(f"<td>{html.escape(str(v))}</td>" for v in csv_row(g, label))
        body.append(f'<tr class="{"total" if g.key == ALL else ""}">{cells}</tr>')

    def name(g: GroupFigures) -> str:
        return label.get(g.key, g.key)

    def pct(rate: float | None) -> float | None:
        return None if rate is None else rate * 100

    def mins(seconds: float | None) -> float | None:
        return None if seconds is None else seconds / 60

    rates = bar_chart(
        "办结率与按时率 Closure and on-time rate",
        [(name(g), [pct(g.closure_rate), pct(g.on_time_rate)]) for g in groups],
        ["closure rate", "on-time rate"],
        "%",
    )
    accept = bar_chart(
        "响应时间 Time to accept (minutes)",
        [(name(g), [mins(g.accept_median_s), mins(g.accept_p90_s)]) for g in groups],
        ["median", "90th percentile"],
        "",
    )
    resolve = bar_chart(
        "办结时间 Time to resolve (minutes)",
        [(name(g), [mins(g.resolve_median_s), mins(g.resolve_p90_s)]) for g in groups],
        ["median", "90th percentile"],
        "",
    )
    title = f"考核评价 Work-order figures by {LEVEL_NAMES[by]}"
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_STYLE}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Orders opened {period.first} – {period.last} (local time); judged as at
{made_at.astimezone(period.tz):%Y-%m-%d %H:%M}. {total.orders} orders, closure rate
{_percent(total.closure_rate)}, on-time rate {_percent(total.on_time_rate)},
{total.overdue} overdue, {total.reopened} reopened.</p>
<table><thead><tr>{header}</tr></thead><tbody>{"".join(body)}</tbody></table>
<div class="chart">{rates}</div>
<div class="chart">{accept}</div>
<div class="chart">{resolve}</div>
<p><small>Definitions: docs/DISPATCH.md (figures).</small></p>
</body></html>
"""


def _percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"


def make_report(
    conn: psycopg.Connection, period: Period, by: GroupBy, out_dir: Path, now: datetime
) -> tuple[Path, Path]:
    """Write figures-<by>-<period>.csv and .html into out_dir; returns both paths."""
    as_of = min(period.end, now)
    orders = orders_in_period(conn, period.start, period.end, as_of)
    groups, total = figures_by(orders, by, as_of)
    label = names(conn)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"figures-{by.value}-{period.slug()}"
    csv_path, html_path = stem.with_suffix(".csv"), stem.with_suffix(".html")
    write_csv(csv_path, [*groups, total], label)
    html_path.write_text(render_html(groups, total, by, label, period, as_of), encoding="utf-8")
    return csv_path, html_path
