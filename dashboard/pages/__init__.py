"""Dashboard pages. Each page is a module exposing PAGE: its path, title, layout and callbacks.

To add a screen, write a module beside bigscreen.py and list its PAGE in PAGES.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dash import Dash
from dash.development.base_component import Component

from dashboard.queries import DashboardQueries
from gridwatch.settings import Settings


@dataclass(frozen=True)
class Page:
    path: str
    title: str
    layout: Callable[[Settings], Component]
    register_callbacks: Callable[[Dash, DashboardQueries, Settings], None]


def all_pages() -> list[Page]:
    """Every page of the dashboard, the first one being the home page."""
    from dashboard.pages import bigscreen, manager, tester

    return [bigscreen.PAGE, tester.PAGE, manager.PAGE]
