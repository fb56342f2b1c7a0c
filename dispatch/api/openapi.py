"""The OpenAPI 3 description of the HTTP API, served at /api/v1/openapi.json.

Built as plain data so a test can walk every path it lists (and so every listed path is
checked for who may call it).
"""

from __future__ import annotations

from typing import Any

from gridwatch.domain import WorkOrderState

_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string", "description": "Why, in words"}},
}
_OPEN311_ERROR = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}
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


def _json(schema_ref: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
    }


def _errors(*codes: int) -> dict[str, Any]:
    words = {
        400: "Malformed request (reason in `error`)",
        401: "Not logged in, or the token is unknown or revoked",
        403: "Your role may not do this (reason in `error`)",
        404: "No such work order among those you may see",
        409: "The state machine does not allow this step now (allowed next states named)",
    }
    return {str(code): _json("Error", words[code]) for code in codes}


def _step(summary: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "tags": ["work orders"],
            "parameters": [_ORDER_ID],
            "requestBody": _NOTE_BODY,
            "responses": {
                "200": _json("WorkOrder", "The work order after the step, with its events"),
                **_errors(400, 401, 403, 404, 409),
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
                ],
                "responses": {
                    "200": {"description": "{work_orders: [WorkOrder], limit, offset}"},
                    **_errors(400, 401),
                },
            }
        },
        order_path: {
            "get": {
                "summary": "One work order with its audit trail",
                "tags": ["work orders"],
                "parameters": [_ORDER_ID],
                "responses": {"200": _json("WorkOrder", "The work order"), **_errors(401, 404)},
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
                    "200": _json("WorkOrder", "The work order, now with the new assignee"),
                    **_errors(400, 401, 403, 404, 409),
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
                    "201": _json("WorkOrder", "The work order with the new event"),
                    **_errors(400, 401, 403, 404),
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
                    **_errors(401, 404),
                },
            }
        },
    }
    paths.update(_access_paths())
    paths.update(_open311_paths())
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
                "Error": _ERROR,
                "Open311Error": _OPEN311_ERROR,
                "Event": _EVENT,
                "WorkOrder": _ORDER,
            },
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
    }


def _plain(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {}}}


def _access_paths() -> dict[str, Any]:
    """Notification channels (operators and admins) and API tokens (own, or anyone's)."""
    channel_id = {
        "name": "channel_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
    }
    token_id = {"name": "token_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    channel_body = {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["url"],
                    "properties": {
                        "url": {"type": "string", "description": "apprise URL or mqtt:<topic>"},
                        "person_id": {"type": "string"},
                        "community_id": {"type": "string"},
                        "label": {"type": "string"},
                    },
                }
            }
        }
    }
    return {
        "/api/v1/channels": {
            "get": {
                "summary": "Notification channels, secrets masked (operator, admin)",
                "tags": ["notifications"],
                "parameters": [
                    {"name": "person", "in": "query", "schema": {"type": "string"}},
                    {"name": "community", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {"200": _plain("{channels: [...]}"), **_errors(401, 403)},
            },
            "post": {
                "summary": "Add a channel of one person or one community (operator, admin)",
                "tags": ["notifications"],
                "requestBody": channel_body,
                "responses": {"201": _plain("The stored channel"), **_errors(400, 401, 403)},
            },
        },
        "/api/v1/channels/{channel_id}": {
            "delete": {
                "summary": "Remove a stored channel (operator, admin)",
                "tags": ["notifications"],
                "parameters": [channel_id],
                "responses": {
                    "200": _plain("{removed: id}"),
                    **_errors(401, 403),
                    "404": _json("Error", "No stored channel with that id"),
                },
            }
        },
        "/api/v1/tokens": {
            "get": {
                "summary": "Your API tokens (operator, admin: anyone's, or ?person=)",
                "tags": ["access"],
                "parameters": [{"name": "person", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": _plain("{tokens: [...]}"), **_errors(401, 403)},
            }
        },
        "/api/v1/tokens/current": {
            "delete": {
                "summary": "Revoke the token this request is made with",
                "tags": ["access"],
                "responses": {"200": _plain("{id, revoked_at}"), **_errors(400, 401)},
            }
        },
        "/api/v1/tokens/{token_id}": {
            "delete": {
                "summary": "Revoke one of your tokens (operator, admin: anyone's)",
                "tags": ["access"],
                "parameters": [token_id],
                "responses": {
                    "200": _plain("{id, revoked_at}"),
                    **_errors(401),
                    "404": _json("Error", "No such token among those you may revoke"),
                },
            }
        },
    }


def _open311_paths() -> dict[str, Any]:
    error = {
        "description": "Open311 error list",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Open311Error"}}},
    }
    key_security = [{"open311_key": []}, {"bearer": []}, {"session": []}]
    return {
        "/open311/v2/services.json": {
            "get": {
                "summary": "What residents can report",
                "tags": ["open311"],
                "security": [],
                "responses": {"200": {"description": "Service list"}},
            }
        },
        "/open311/v2/requests.json": {
            "get": {
                "summary": "Reports you may see (an app key: the ones it filed)",
                "tags": ["open311"],
                "security": key_security,
                "responses": {
                    "200": {"description": "Service requests"},
                    "400": error,
                    "401": error,
                },
            },
            "post": {
                "summary": "File a report: api_key, service_code, lat+long or address_string,"
                " description, optional media (file) or media_url",
                "tags": ["open311"],
                "security": key_security,
                "responses": {
                    "200": {"description": "[{service_request_id, service_notice}]"},
                    "400": error,
                    "401": error,
                    "403": error,
                    "413": error,
                },
            },
        },
        "/open311/v2/requests/{service_request_id}.json": {
            "get": {
                "summary": "One report",
                "tags": ["open311"],
                "security": key_security,
                "parameters": [
                    {
                        "name": "service_request_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
                "responses": {
                    "200": {"description": "[service request]"},
                    "401": error,
                    "404": error,
                },
            }
        },
        "/open311/v2/requests/{service_request_id}/media": {
            "get": {
                "summary": "The photo a report came with",
                "tags": ["open311"],
                "security": key_security,
                "parameters": [
                    {
                        "name": "service_request_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
                "responses": {"200": {"description": "JPEG or PNG"}, "401": error, "404": error},
            }
        },
    }
