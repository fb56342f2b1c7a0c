"""The delivery log over the API: GET /api/v1/notifications.

Every message the outbox holds about work orders, with each attempt to send it (sent,
failed and why, given up), so a screen or a person can see whether the word got out.
Operators and admins read every message; anyone else only the messages sent to them (a
property manager also those to their community's channels).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from dispatch.api.context import ApiError, api_context
from dispatch.api.orders import MAX_PAGE
from dispatch.auth import current_user, login_required, readable_recipients
from dispatch.delivery_log import MESSAGE_STATUSES, delivery_log

bp = Blueprint("api_v1_notifications", __name__, url_prefix="/api/v1")


@bp.errorhandler(ApiError)
def _api_error(err: ApiError) -> tuple[Response, int]:
    return jsonify({"error": err.reason}), err.status


def _whole(name: str, default: int | None) -> int | None:
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number, not {raw!r}") from None


@bp.get("/notifications")
@login_required
def notifications() -> Response:
    user = current_user()
    assert user is not None  # login_required ran first
    allowed = readable_recipients(user)
    if allowed == []:
        raise ApiError(403, "an application key has no messages; log in as a person")
    asked = request.args.get("recipient") or None
    if asked is not None:
        if allowed is not None and asked not in allowed:
            raise ApiError(
                403, f"you may read only your own messages ({', '.join(allowed)}), not {asked}'s"
            )
        allowed = [asked]
    status = request.args.get("status") or None
    if status is not None and status not in MESSAGE_STATUSES:
        raise ApiError(400, f"unknown status {status}; statuses: {', '.join(MESSAGE_STATUSES)}")
    work_order = _whole("work_order", None)
    limit, offset = _whole("limit", 100), _whole("offset", 0)
    assert limit is not None and offset is not None
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise ApiError(400, f"limit must be 1..{MAX_PAGE} and offset 0 or more")
    with api_context().pool.connection() as conn:
        rows = delivery_log(
            conn,
            recipients=allowed,
            work_order_id=work_order,
            status=status,
            limit=limit,
            offset=offset,
        )
    return jsonify({"notifications": rows, "limit": limit, "offset": offset})
