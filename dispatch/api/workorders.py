"""REST endpoints for work orders under /api/v1/: list, read, act, reassign, comment.

Every change goes through dispatch.workorders (the state machine) in one transaction and
leaves an event row with who, when, the note and an optional photo. An order outside the
caller's area answers 404, exactly like one that does not exist, so its existence leaks
nothing; an action the caller's role may not take answers 403 with the reason.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request, send_file

from dispatch.api.context import (
    UNKNOWN_PATH_METHODS,
    ApiError,
    api_context,
    body_fields,
    text_field,
    unknown_path_error,
)
from dispatch.api.openapi import openapi_document
from dispatch.api.orders import (
    MAX_PAGE,
    fetch_events,
    fetch_order,
    list_orders,
    order_json,
    person_area,
    scope_of,
)
from dispatch.assignment import tell_assignee
from dispatch.auth import (
    Action,
    User,
    assignee_refusal,
    current_user,
    login_required,
    may_assign,
    may_see,
    refusal,
)
from dispatch.workorders import attach_photo, comment, reassign, transition
from gridwatch.domain import InvalidTransition, WorkOrderState
from gridwatch.site import PersonRole

W = WorkOrderState
bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
SOURCES = ("alert", "patrol", "resident")

# step in the URL -> (permission, target state, states it may start from or None for "any
# the state machine allows", whether a note is required)
STEPS: dict[str, tuple[Action, WorkOrderState, frozenset[WorkOrderState] | None, bool]] = {
    "accept": (Action.ACCEPT, W.ACCEPTED, None, False),
    "start": (Action.START, W.IN_PROGRESS, frozenset({W.ACCEPTED, W.DISPATCHED}), False),
    "resolve": (Action.RESOLVE, W.RESOLVED, None, False),
    "verify": (Action.VERIFY, W.VERIFIED, None, False),
    "close": (Action.CLOSE, W.CLOSED, None, False),
    "reopen": (Action.REOPEN, W.IN_PROGRESS, frozenset({W.RESOLVED, W.VERIFIED}), True),
}
# Roles that do the work themselves: accepting an order makes it theirs.
_DOERS = frozenset({PersonRole.GRID_WORKER, PersonRole.DEPARTMENT})


@bp.errorhandler(ApiError)
def _api_error(err: ApiError) -> tuple[Response, int]:
    return jsonify({"error": err.reason}), err.status


@bp.errorhandler(InvalidTransition)
def _invalid_transition(err: InvalidTransition) -> tuple[Response, int]:
    return jsonify({"error": str(err)}), 409


def _user() -> User:
    user = current_user()
    assert user is not None  # login_required ran first
    return user


def _photo() -> bytes | None:
    upload = request.files.get("photo")
    return upload.read() if upload else None


def _visible_order(conn: Any, user: User, order_id: int, action: Action) -> dict[str, Any]:
    row = fetch_order(conn, order_id)
    if row is None or not may_see(user, scope_of(row)):
        raise ApiError(404, f"work order {order_id} is not among the work orders you may see")
    reason = refusal(user, action, scope_of(row))
    if reason:
        raise ApiError(403, reason)
    return row


def _full(conn: Any, order_id: int) -> dict[str, Any]:
    row = fetch_order(conn, order_id)
    assert row is not None
    return order_json(row, fetch_events(conn, order_id))


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


@bp.get("/me")
@login_required
def me() -> Response:
    user = _user()
    return jsonify(
        {"person_id": user.person_id, "name": user.name, "role": user.role, "area_id": user.area_id}
    )


@bp.get("/work-orders")
@login_required
def list_work_orders() -> Response:
    states = [s for s in request.args.get("state", "").split(",") if s]
    unknown = sorted(set(states) - {s.value for s in W})
    if unknown:
        raise ApiError(400, f"unknown state {', '.join(unknown)}; states: {', '.join(W)}")
    try:
        limit = int(request.args.get("limit", 100))
        offset = int(request.args.get("offset", 0))
    except ValueError:
        raise ApiError(400, "limit and offset must be whole numbers") from None
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise ApiError(400, f"limit must be 1..{MAX_PAGE} and offset 0 or more")
    source = request.args.get("source") or None
    if source is not None and source not in SOURCES:
        raise ApiError(400, f"unknown source {source}; sources: {', '.join(SOURCES)}")
    overdue = {None: None, "": None, "true": True, "false": False}.get(request.args.get("overdue"))
    if overdue is None and request.args.get("overdue"):
        raise ApiError(400, f"overdue must be true or false, not {request.args['overdue']!r}")
    ctx = api_context()
    with ctx.pool.connection() as conn:
        rows = list_orders(
            conn,
            _user(),
            states=states,
            grid_id=request.args.get("grid") or None,
            source=source,
            overdue=overdue,
            limit=limit,
            offset=offset,
        )
    return jsonify({"work_orders": [order_json(r) for r in rows], "limit": limit, "offset": offset})


@bp.get("/work-orders/<int:order_id>")
@login_required
def read_work_order(order_id: int) -> Response:
    with api_context().pool.connection() as conn:
        _visible_order(conn, _user(), order_id, Action.READ)
        return jsonify(_full(conn, order_id))


@bp.post("/work-orders/<int:order_id>/<any(accept,start,resolve,verify,close,reopen):step>")
@login_required
def step_work_order(order_id: int, step: str) -> Response:
    action, target, from_states, note_required = STEPS[step]
    user, body = _user(), body_fields()
    note = text_field(body, "note", required=note_required)
    photo = _photo()
    ctx = api_context()
    with ctx.transaction() as (conn, writes):
        row = _visible_order(conn, user, order_id, action)
        if from_states is not None and row["state"] not in from_states:
            allowed = " or ".join(sorted(from_states))
            raise ApiError(
                409,
                f"only a work order that is {allowed} can be {step}ed (this one is {row['state']})",
            )
        now = ctx.clock()
        takes_over = (
            step == "accept" and user.role in _DOERS and row["assignee_id"] != user.person_id
        )
        if takes_over:
            taken = f"taken over from {row['assignee_id'] or 'nobody'}"
            note = f"{taken}: {note}" if note else taken
            conn.execute(
                "UPDATE work_orders SET assignee_id = %s WHERE id = %s",
                (user.person_id, order_id),
            )
        transition(conn, order_id, target, user.label, now, note)
        if photo is not None:
            attach_photo(conn, order_id, writes.save_photo(photo, f"wo{order_id}"))
        return jsonify(_full(conn, order_id))


@bp.post("/work-orders/<int:order_id>/dispatch")
@login_required
def dispatch_work_order(order_id: int) -> Response:
    user, body = _user(), body_fields()
    assignee = text_field(body, "assignee", required=True)
    assert assignee is not None
    note = text_field(body, "note")
    ctx = api_context()
    with ctx.transaction() as (conn, _writes):
        _visible_order(conn, user, order_id, Action.DISPATCH)
        person = person_area(conn, assignee)
        if person is None:
            raise ApiError(400, f"person {assignee!r} does not exist")
        unfit = assignee_refusal(assignee, person["role"])
        if unfit:
            raise ApiError(400, unfit)
        if not may_assign(user, person["area_id"], person["community_id"]):
            raise ApiError(
                403,
                f"a {user.role} of {user.area_id} may not hand work orders to {assignee},"
                f" who belongs to {person['area_id']}",
            )
        now = ctx.clock()
        reassign(conn, order_id, assignee, user.label, now, note)
        tell_assignee(conn, order_id, now, ctx.site_tz(conn))
        return jsonify(_full(conn, order_id))


@bp.post("/work-orders/<int:order_id>/comments")
@login_required
def comment_work_order(order_id: int) -> tuple[Response, int]:
    user, body = _user(), body_fields()
    note = text_field(body, "note", required=True)
    assert note is not None
    photo = _photo()
    ctx = api_context()
    with ctx.transaction() as (conn, writes):
        _visible_order(conn, user, order_id, Action.COMMENT)
        photo_path = writes.save_photo(photo, f"wo{order_id}") if photo is not None else None
        comment(conn, order_id, user.label, ctx.clock(), note, photo_path)
        return jsonify(_full(conn, order_id)), 201


@bp.get("/work-orders/<int:order_id>/events/<int:event_id>/photo")
@login_required
def event_photo(order_id: int, event_id: int) -> Response:
    with api_context().pool.connection() as conn:
        _visible_order(conn, _user(), order_id, Action.READ)
        row = conn.execute(
            "SELECT photo_path FROM work_order_events WHERE id = %s AND work_order_id = %s",
            (event_id, order_id),
        ).fetchone()
    if row is None or row["photo_path"] is None:
        raise ApiError(404, f"event {event_id} of work order {order_id} has no photo")
    return send_file(row["photo_path"])


@bp.route("/<path:rest>", methods=UNKNOWN_PATH_METHODS)
def unknown_path(rest: str) -> tuple[Response, int]:
    error, served = unknown_path_error("the endpoints are listed in /api/v1/openapi.json")
    response = jsonify({"error": error.reason})
    if served:
        response.headers["Allow"] = ", ".join(served)
    return response, error.status
