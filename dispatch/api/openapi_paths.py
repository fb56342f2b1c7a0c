"""Parts of the OpenAPI description besides the work orders: access, notifications and
Open311, with the small builders and error schemas every part uses (dispatch.api.openapi
assembles the whole document)."""

from __future__ import annotations

from typing import Any

ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string", "description": "Why, in words"}},
}
OPEN311_ERROR = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}


NOTIFICATION = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "work_order_id": {"type": "integer"},
        "reason": {"type": "string", "enum": ["dispatched", "escalated"]},
        "level": {"type": "string"},
        "recipient": {"type": "string", "description": "Person id, community:<id> or mqtt"},
        "channel": {"type": "string", "description": "The channel, secrets masked"},
        "title": {"type": "string"},
        "status": {"type": "string", "enum": ["pending", "sent", "gave_up"]},
        "attempts": {"type": "integer"},
        "next_attempt_at": {"type": "string", "format": "date-time", "nullable": True},
        "last_error": {"type": "string", "nullable": True},
        "created_at": {"type": "string", "format": "date-time"},
        "sent_at": {"type": "string", "format": "date-time", "nullable": True},
        "attempt_log": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "attempt": {"type": "integer"},
                    "status": {"type": "string", "enum": ["sent", "failed", "gave_up"]},
                    "error": {"type": "string", "nullable": True},
                    "time": {"type": "string", "format": "date-time"},
                },
            },
        },
    },
}
REPORT = {
    "type": "object",
    "required": ["api_key", "service_code", "description"],
    "properties": {
        "api_key": {"type": "string"},
        "service_code": {"type": "string", "description": "One of services.json"},
        "description": {"type": "string", "maxLength": 4000},
        "lat": {"type": "number", "description": "WGS 84, with long"},
        "long": {"type": "number", "description": "WGS 84, with lat"},
        "address_string": {
            "type": "string",
            "description": "Names a building of the site; instead of lat and long",
        },
        "media": {"type": "string", "format": "binary", "description": "JPEG/PNG, 5 MB"},
        "media_url": {"type": "string", "format": "uri"},
    },
}


def json_body(schema_ref: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
    }


def errors(*codes: int) -> dict[str, Any]:
    words = {
        400: "Malformed request (reason in `error`)",
        401: "Not logged in, or the token is unknown or revoked",
        403: "Your role may not do this (reason in `error`)",
        404: "No such work order among those you may see",
        409: "The state machine does not allow this step now (allowed next states named)",
    }
    return {str(code): json_body("Error", words[code]) for code in codes}


def _plain(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {}}}


def access_paths() -> dict[str, Any]:
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
                "responses": {"200": _plain("{channels: [...]}"), **errors(401, 403)},
            },
            "post": {
                "summary": "Add a channel of one person or one community (operator, admin)",
                "tags": ["notifications"],
                "requestBody": channel_body,
                "responses": {"201": _plain("The stored channel"), **errors(400, 401, 403)},
            },
        },
        "/api/v1/channels/{channel_id}": {
            "delete": {
                "summary": "Remove a stored channel (operator, admin)",
                "tags": ["notifications"],
                "parameters": [channel_id],
                "responses": {
                    "200": _plain("{removed: id}"),
                    **errors(401, 403),
                    "404": json_body("Error", "No stored channel with that id"),
                },
            }
        },
        "/api/v1/tokens": {
            "get": {
                "summary": "Your API tokens (operator, admin: anyone's, or ?person=)",
                "tags": ["access"],
                "parameters": [{"name": "person", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": _plain("{tokens: [...]}"), **errors(401, 403)},
            }
        },
        "/api/v1/tokens/current": {
            "delete": {
                "summary": "Revoke the token this request is made with",
                "tags": ["access"],
                "responses": {"200": _plain("{id, revoked_at}"), **errors(400, 401)},
            }
        },
        "/api/v1/tokens/{token_id}": {
            "delete": {
                "summary": "Revoke one of your tokens (operator, admin: anyone's)",
                "tags": ["access"],
                "parameters": [token_id],
                "responses": {
                    "200": _plain("{id, revoked_at}"),
                    **errors(401),
                    "404": json_body("Error", "No such token among those you may revoke"),
                },
            }
        },
    }


def open311_paths() -> dict[str, Any]:
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
                "requestBody": {
                    "content": {
                        "multipart/form-data": {"schema": {"$ref": "#/components/schemas/Report"}},
                        "application/x-www-form-urlencoded": {
                            "schema": {"$ref": "#/components/schemas/Report"}
                        },
                    }
                },
                "responses": {
                    "201": {"description": "[{service_request_id, service_notice}]"},
                    "400": error,
                    "401": error,
                    "403": error,
                    "413": error,
                    "415": error,
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


def notification_paths() -> dict[str, Any]:
    """The delivery log: operators and admins read all, anyone else their own messages."""
    query = [
        {"name": "work_order", "in": "query", "schema": {"type": "integer"}},
        {
            "name": "recipient",
            "in": "query",
            "schema": {"type": "string"},
            "description": "A person id or community:<id>; others than your own need an"
            " operator or admin",
        },
        {
            "name": "status",
            "in": "query",
            "schema": {"type": "string", "enum": ["pending", "sent", "gave_up"]},
        },
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
        },
        {"name": "offset", "in": "query", "schema": {"type": "integer", "default": 0}},
    ]
    return {
        "/api/v1/notifications": {
            "get": {
                "summary": "The delivery log: messages, newest first, each with its attempts",
                "tags": ["notifications"],
                "parameters": query,
                "responses": {
                    "200": {
                        "description": "{notifications: [Notification], limit, offset}",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "notifications": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/Notification"},
                                        },
                                        "limit": {"type": "integer"},
                                        "offset": {"type": "integer"},
                                    },
                                }
                            }
                        },
                    },
                    **errors(400, 401, 403),
                },
            }
        }
    }
