"""The HTTP API on the dashboard's Flask server: REST for work orders (/api/v1/), Open311
GeoReport v2 (/open311/v2/), session login (/login) and the grids' report forms (/report/).

`mount_api(server, settings)` registers it all on one Flask app; docs/API.md describes it.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from dispatch.api.accounts import Accounts
from dispatch.api.context import CONTEXT_KEY, ApiContext
from dispatch.auth import AUTHENTICATOR_KEY
from dispatch.deadlines import load_deadlines
from dispatch.routing import load_routing
from gridwatch.settings import Settings


def _now() -> datetime:
    return datetime.now(UTC)


def mount_api(
    server: Flask, settings: Settings, clock: Callable[[], datetime] = _now
) -> ApiContext:
    """Register the API's blueprints on `server`; `clock` gives aware datetimes (tests' own)."""
    from dispatch import open311
    from dispatch.api import channels, login, notifications, report_form, tokens, workorders

    if not settings.database_url:
        raise ValueError("the API needs a database: set GRIDWATCH_DATABASE_URL")
    # Reports get the deadlines and routes dispatch gives alerts; a bad file stops the start.
    deadlines = load_deadlines(settings.deadlines_file)
    routing = load_routing(settings.routing_file)
    pool = ConnectionPool(
        settings.database_url,
        min_size=1,
        max_size=4,
        timeout=5.0,
        kwargs={"row_factory": dict_row},
        check=ConnectionPool.check_connection,
        name="api",
        open=False,
    )
    pool.open(wait=False)
    atexit.register(pool.close)
    context = ApiContext(pool, settings, clock, deadlines, routing)
    # Reasons are often in Chinese: keep them readable in a raw answer (curl, logs), not \uXXXX.
    server.json.ensure_ascii = False  # type: ignore[attr-defined]
    server.extensions[CONTEXT_KEY] = context
    server.extensions[AUTHENTICATOR_KEY] = Accounts(pool, clock)
    blueprints = (workorders.bp, channels.bp, notifications.bp, tokens.bp, open311.bp)
    for blueprint in (*blueprints, login.bp, report_form.bp):
        server.register_blueprint(blueprint)
    return context
