"""Notification channels over the API: /api/v1/channels (operators and admins only).

A channel is an apprise URL (or mqtt:<topic>) of one person or one community; new work
orders and escalations reach them through it (dispatch.notifications). Secrets in the URLs
are masked in every answer.
"""

from __future__ import annotations

import psycopg
from flask import Blueprint, Response, jsonify, request

from dispatch.api.context import ApiError, api_context, body_fields, text_field
from dispatch.auth import User, administration_refusal, current_user, login_required
from dispatch.notifications import add_channel, list_channels, remove_channel

bp = Blueprint("api_v1_channels", __name__, url_prefix="/api/v1")


@bp.errorhandler(ApiError)
def _api_error(err: ApiError) -> tuple[Response, int]:
    return jsonify({"error": err.reason}), err.status


def _administrator() -> User:
    user = current_user()
    assert user is not None  # login_required ran first
    reason = administration_refusal(user, "notification channels")
    if reason:
        raise ApiError(403, reason)
    return user


@bp.get("/channels")
@login_required
def channels() -> Response:
    _administrator()
    with api_context().pool.connection() as conn:
        rows = list_channels(
            conn,
            person_id=request.args.get("person") or None,
            community_id=request.args.get("community") or None,
        )
    return jsonify({"channels": rows})


@bp.post("/channels")
@login_required
def create_channel() -> tuple[Response, int]:
    _administrator()
    body = body_fields()
    url = text_field(body, "url", required=True)
    person, community = text_field(body, "person_id"), text_field(body, "community_id")
    label = text_field(body, "label")
    assert url is not None
    with api_context().transaction() as (conn, _writes):
        try:
            channel_id = add_channel(
                conn, url, person_id=person, community_id=community, label=label
            )
        except (ValueError, LookupError) as err:
            raise ApiError(400, str(err)) from None
        except psycopg.errors.ForeignKeyViolation:  # the person or area vanished meanwhile
            raise ApiError(400, f"{person or community} does not exist") from None
        [row] = [
            r
            for r in list_channels(conn, person_id=person, community_id=community)
            if r["id"] == channel_id
        ]
    return jsonify(row), 201


@bp.delete("/channels/<int:channel_id>")
@login_required
def delete_channel(channel_id: int) -> Response:
    _administrator()
    with api_context().transaction() as (conn, _writes):
        if not remove_channel(conn, channel_id):
            raise ApiError(404, f"there is no stored channel {channel_id}")
    return jsonify({"removed": channel_id})
