"""A list panel of the big screen as plain JSON, drawn in the browser by one renderer.

The alert list, dispatch board and grid events feed each go to the page as one `dcc.Store`
holding {"rows": [...], "empty": text}; assets/screen_lists.js turns the rows into DOM in the
panel's element. Measured on the large site: as Dash component trees (~800 components for
the three lists) the renderer's re-checks took most of the page's first render and of the
time from a new alert to its row; one store per list costs it three components.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from dash import dcc, html


class ScreenList(TypedDict):
    rows: list[dict[str, Any]]
    empty: str  # shown instead of the rows when there are none


def screen_list(rows: Sequence[Mapping[str, Any]], empty: str) -> ScreenList:
    return {"rows": [dict(r) for r in rows], "empty": empty}


def list_panel_body(list_id: str, class_name: str) -> list[Any]:
    """The panel's element the renderer fills, and the store it is filled from.

    The element has no Dash children, so React never touches the rows drawn into it.
    """
    return [
        html.Div(id=list_id, className=class_name),
        dcc.Store(id=f"{list_id}-rows"),
    ]
