"""Figures of the closed loop (考核评价), computed from work orders and their event trail (pure).

For the orders opened in a period [start, end), judged as they stood at `as_of` (the period's
end, or now if that is earlier):
- closed: resolved, verified or closed at as_of. Closure rate = closed / orders.
- on time: closed, and it first reached resolved/closed (since its last reopening) by its
  resolve deadline. On-time rate = on time / closed.
- time to accept: opening → first step into accepted or in progress (median and p90).
- time to resolve: opening → reaching resolved/closed, for the closed ones (median and p90).
- overdue: missed at least one deadline by as_of (the escalation rule, dispatch.escalation).
- reopened: went back from resolved or verified to in progress at least once.
Percentiles interpolate linearly between ranks, as PostgreSQL's percentile_cont does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from dispatch.escalation import DONE_STATES, judge, state_at

TAKEN_STATES = frozenset({"accepted", "in_progress"})
REOPEN_FROM = frozenset({"resolved", "verified"})
UNASSIGNED = "(unassigned)"


class GroupBy(StrEnum):
    GRID = "grid"
    COMMUNITY = "community"
    STREET = "street"
    WORKER = "worker"


@dataclass(frozen=True)
class OrderRow:
    """One work order as the figures need it; events are (time, from_state, to_state)."""

    id: int
    grid_id: str
    community_id: str | None
    street_id: str | None
    assignee_id: str | None
    created_at: datetime
    accept_due: datetime | None
    resolve_due: datetime | None
    events: Sequence[tuple[datetime, str | None, str]] = field(default_factory=tuple)

    def group_key(self, by: GroupBy) -> str:
        key = {
            GroupBy.GRID: self.grid_id,
            GroupBy.COMMUNITY: self.community_id,
            GroupBy.STREET: self.street_id,
            GroupBy.WORKER: self.assignee_id,
        }[by]
        return key or UNASSIGNED


@dataclass(frozen=True)
class OrderFacts:
    accepted_at: datetime | None
    resolved_at: datetime | None
    closed: bool
    on_time: bool
    overdue: bool
    reopened: bool


def order_facts(order: OrderRow, as_of: datetime) -> OrderFacts:
    """What the figures count about one order, as it stood at `as_of`."""
    events = [e for e in order.events if e[0] <= as_of]
    states = [(t, to) for t, _, to in events]
    closed = state_at(states, as_of) in DONE_STATES
    accepted_at = next((t for t, f, to in events if to in TAKEN_STATES and f != to), None)
    resolved_at = None
    if closed:
        # The step that last brought it from open into resolved/verified/closed.
        resolved_at = next(
            (t for t, f, to in reversed(events) if to in DONE_STATES and f not in DONE_STATES),
            None,
        )
    on_time = resolved_at is not None and (
        order.resolve_due is None or resolved_at <= order.resolve_due
    )
    verdict = judge(order.created_at, order.accept_due, order.resolve_due, states, as_of)
    reopened = any(f in REOPEN_FROM and to == "in_progress" for _, f, to in events)
    return OrderFacts(accepted_at, resolved_at, closed, on_time, bool(verdict.missed), reopened)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th quantile (0..1) with linear interpolation between ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class GroupFigures:
    key: str
    orders: int
    closed: int
    on_time: int
    overdue: int
    reopened: int
    accept_median_s: float | None
    accept_p90_s: float | None
    resolve_median_s: float | None
    resolve_p90_s: float | None

    @property
    def closure_rate(self) -> float | None:
        return self.closed / self.orders if self.orders else None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.closed if self.closed else None


def group_figures(key: str, orders: Iterable[OrderRow], as_of: datetime) -> GroupFigures:
    """The figures of one group of orders."""
    rows = list(orders)
    facts = [order_facts(o, as_of) for o in rows]
    accept_s = [
        (f.accepted_at - o.created_at).total_seconds()
        for o, f in zip(rows, facts, strict=True)
        if f.accepted_at is not None
    ]
    resolve_s = [
        (f.resolved_at - o.created_at).total_seconds()
        for o, f in zip(rows, facts, strict=True)
        if f.resolved_at is not None
    ]
    return GroupFigures(
        key=key,
        orders=len(rows),
        closed=sum(f.closed for f in facts),
        on_time=sum(f.on_time for f in facts),
        overdue=sum(f.overdue for f in facts),
        reopened=sum(f.reopened for f in facts),
        accept_median_s=percentile(accept_s, 0.5),
        accept_p90_s=percentile(accept_s, 0.9),
        resolve_median_s=percentile(resolve_s, 0.5),
        resolve_p90_s=percentile(resolve_s, 0.9),
    )


ALL = "(all)"


def figures_by(
    orders: Iterable[OrderRow], by: GroupBy, as_of: datetime
) -> tuple[list[GroupFigures], GroupFigures]:
    """Figures per group (sorted by key) and for all the orders together."""
    rows = list(orders)
    groups: dict[str, list[OrderRow]] = {}
    for order in rows:
        groups.setdefault(order.group_key(by), []).append(order)
    per_group = [group_figures(key, groups[key], as_of) for key in sorted(groups)]
    return per_group, group_figures(ALL, rows, as_of)
