"""The OpenAPI 3 description of the HTTP API, served at /api/v1/openapi.json.

Built as plain data so a test can walk every path it lists (and so every listed path is
checked for who may call it).
"""

from __future__ import annotations

from typing import Any

from dispatch.api.openapi_paths import (
    ERROR,
    NOTIFICATION,
    OPEN311_ERROR,
    REPORT,
    access_paths,
    errors,
    json_body,
    notification_paths,
    open311_paths,
)
from gridwatch.domain import WorkOrderState

_EVENT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "time": {"type": "string", "format": "date-time"},
        "from_state": {"type": "string", "nullable": True},
        "to_state": {"type": "string"},
        "actor": {"type": "string", "description": "Person id, 'system' or app-key:N"},
        "note": {"type": "string", "nullable": True},
        "has_photo": {"type": "boolean"},
    },
}
_ORDER = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "alert_id": {"type": "integer", "nullable": True},
        "source": {"type": "string", "enum": ["alert", "resident", "patrol"]},
        "grid_id": {"type": "string"},
        "grid_name": {"type": "string"},
        "community_id": {"type": "string"},
        "type": {"type": "string"},
        "severity": {"type": "string"},
        "title": {"type": "string"},
        "state": {"type": "string", "enum": [s.value for s in WorkOrderState]},
        "assignee_id": {"type": "string", "nullable": True},
        "assignee_name": {"type": "string", "nullable": True},
        "escalation_level": {"type": "string"},
        "escalated": {"type": "boolean"},
        "escalated_at": {"type": "string", "format": "date-time", "nullable": True},
        "overdue": {
            "type": "boolean",
            "description": "Open, and the latest deadline that has passed was missed",
        },
        "overdue_since": {
            "type": "string",
            "format": "date-time",
            "nullable": True,
            "description": "The first deadline it missed",
        },
        "accept_due": {"type": "string", "format": "date-time", "nullable": True},
        "resolve_due": {"type": "string", "format": "date-time", "nullable": True},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "closed_at": {"type": "string", "format": "date-time", "nullable": True},
        "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
    },
}


_NOTE_BODY = {
    "content": {
        "application/json": {
            "schema": {"type": "object", "properties": {"note": {"type": "string"}}}
        },
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "note": {"type": "string"},
                    "photo": {"type": "string", "format": "binary", "description": "JPEG/PNG"},
                },
            }
        },
    }
}
_ORDER_ID = {"name": "order_id", "in": "path", "required": True, "schema": {"type": "integer"}}


def _step(summary: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "tags": ["work orders"],
            "parameters": [_ORDER_ID],
            "requestBody": _NOTE_BODY,
            "responses": {
                "200": json_body("WorkOrder", "The work order after the step, with its events"),
                **errors(400, 401, 403, 404, 409),
            },
        }
    }


def openapi_document() -> dict[str, Any]:
    """The whole description as a dict (JSON-serialisable)."""
    order_path = "/api/v1/work-orders/{order_id}"
    paths: dict[str, Any] = {
        "/api/v1/me": {
            "get": {
                "summary": "Who the token or session belongs to",
                "tags": ["access"],
                "responses": {"200": {"description": "person_id, name, role, area_id"}},
            }
        },
        "/api/v1/work-orders": {
            "get": {
                "summary": "Work orders you may see, newest first",
                "tags": ["work orders"],
                "parameters": [
                    {
                        "name": "state",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "Comma-separated states, e.g. dispatched,in_progress",
                    },
                    {"name": "grid", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "source",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["alert", "resident", "patrol"]},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
                    },
                    {"name": "offset", "in": "query", "schema": {"type": "integer", "default": 0}},
                    {
                        "name": "overdue",
                        "in": "query",
                        "schema": {"type": "boolean"},
                        "description": "true: only overdue orders; false: only the others",
                    },
                ],
                "responses": {
                    "200": {"description": "{work_orders: [WorkOrder], limit, offset}"},
                    **errors(400, 401),
                },
            }
        },
        order_path: {
            "get": {
                "summary": "One work order with its audit trail",
                "tags": ["work orders"],
                "parameters": [_ORDER_ID],
                "responses": {"200": json_body("WorkOrder", "The work order"), **errors(401, 404)},
            }
        },
        f"{order_path}/accept": _step("Accept (reported or dispatched → accepted)"),
        f"{order_path}/start": _step("Start work (accepted/dispatched → in progress)"),
        f"{order_path}/resolve": _step("Report it solved (in progress → resolved)"),
        f"{order_path}/verify": _step("Confirm the fix (resolved → verified)"),
        f"{order_path}/close": _step("Close the order"),
        f"{order_path}/reopen": _step(
            "Reopen a resolved or verified order (→ in progress); note required"
        ),
        f"{order_path}/dispatch": {
            "post": {
                "summary": "Dispatch or reassign to a person by hand",
                "tags": ["work orders"],
                "parameters": [_ORDER_ID],
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["assignee"],
                                "properties": {
                                    "assignee": {"type": "string", "description": "Person id"},
                                    "note": {"type": "string"},
                                },
                            }
                        }
                    }
                },
                "responses": {
                    "200": json_body("WorkOrder", "The work order, now with the new assignee"),
                    **errors(400, 401, 403, 404, 409),
                },
            }
        },
        f"{order_path}/comments": {
            "post": {
                "summary": "Add a note (and optional photo) without changing the state",
                "tags": ["work orders"],
                "parameters": [_ORDER_ID],
                "requestBody": _NOTE_BODY,
                "responses": {
                    "201": json_body("WorkOrder", "The work order with the new event"),
                    **errors(400, 401, 403, 404),
                },
            }
        },
        f"{order_path}/events/{{event_id}}/photo": {
            "get": {
                "summary": "The photo attached to one event of the trail",
                "tags": ["work orders"],
                "parameters": [
                    _ORDER_ID,
                    {
                        "name": "event_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "JPEG or PNG",
                        "content": {"image/jpeg": {}, "image/png": {}},
                    },
                    **errors(401, 404),
                },
            }
        },
    }
    paths.update(access_paths())
    paths.update(notification_paths())
    paths.update(open311_paths())
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "GridWatch API",
            "version": "1",
            "description": "Work orders of the closed loop, and Open311 GeoReport v2 for "
            "resident and patrol reports. See docs/API.md.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "gridwatch_session"},
                "open311_key": {"type": "apiKey", "in": "query", "name": "api_key"},
            },
            "schemas": {
                "Error": ERROR,
                "Open311Error": OPEN311_ERROR,
                "Event": _EVENT,
                "WorkOrder": _ORDER,
                "Notification": NOTIFICATION,
                "Report": REPORT,
            },
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
    }
