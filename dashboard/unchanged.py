"""Send a panel again only when it changed: the browser's cost is in re-rendering it.

Measured on the large site in headless Chromium, when the lists were still Dash components:
re-sending the alert list, dispatch board and events feed every refresh kept the page's
main thread busy 12-15 s out of 12 s (long tasks overlapping), against 0.1 s with those
lists held still. The lists are plain JSON now (components/screen_list.py), but the tiles
and camera wall are components, and an unchanged panel costs nothing when not sent, so a
panel whose content is unchanged is answered with no_update.
"""

from __future__ import annotations

import hashlib
from typing import Any

from dash import no_update
from plotly.io.json import to_json_plotly


def digest(content: Any) -> str:
    """A short digest of a panel's content as Dash would send it."""
    return hashlib.sha256(to_json_plotly(content).encode()).hexdigest()[:24]


def unless_shown(content: Any, shown: Any) -> tuple[Any, str]:
    """(content, its digest), or (no_update, digest) when the browser shows it already."""
    current = digest(content)
    return (no_update if current == shown else content), current


def shown_part(shown: Any, name: str) -> Any:
    """The digest a browser reported for one part of a panel group (None if unknown)."""
    return shown.get(name) if isinstance(shown, dict) else None
