"""Open311 GeoReport v2 under /open311/v2/ (JSON): services, filing and reading reports.

Who is asking: `api_key` (form or query, the spec's way) or a bearer token or the session
cookie. A person's key files as that person (a grid worker's report is a patrol report); an
application key (the QR form's) files resident reports and reads back only what it filed.
Errors use the spec's format, `[{"code": 400, "description": "why"}]`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from flask import Blueprint, Response, current_app, jsonify, request, send_file

from dispatch.api.context import (
    MAX_PHOTO_BYTES,
    UNKNOWN_PATH_METHODS,
    ApiError,
    api_context,
    unknown_path_error,
)
from dispatch.api.orders import scope_condition
from dispatch.auth import (
    AUTHENTICATOR_KEY,
    Action,
    Authenticator,
    OrderScope,
    User,
    current_user,
    may_see,
    refusal,
)
from dispatch.reports import (
    SERVICES,
    SERVICES_BY_CODE,
    ReportError,
    file_report,
    locate,
    parse_report,
    request_rows,
)

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

# Open311 says "closed" once the problem is dealt with; reopening makes it open again.
_CLOSED_STATES = frozenset({"resolved", "verified", "closed"})


def _error(status: int, reason: str) -> tuple[Response, int]:
    return jsonify([{"code": status, "description": reason}]), status


@bp.errorhandler(ReportError)
def _report_error(err: ReportError) -> tuple[Response, int]:
    return _error(err.status, err.reason)


@bp.errorhandler(ApiError)
def _api_error(err: ApiError) -> tuple[Response, int]:
    return _error(err.status, err.reason)


def _caller() -> User:
    """The reporter: a person's api_key, else the logged-in person, else an application key."""
    api_key = (request.values.get("api_key") or "").strip()
    key_user = None
    if api_key:
        authenticator = cast(Authenticator, current_app.extensions[AUTHENTICATOR_KEY])
        key_user = authenticator.user_for_token(api_key)
        if key_user is None:
            raise ReportError(401, "api_key is unknown or revoked")
    if key_user is not None and key_user.person_id is not None:
        return key_user
    session_user = current_user()
    if session_user is not None and session_user.person_id is not None:
        return session_user
    if key_user is not None:
        return key_user
    if session_user is not None:
        return session_user
    raise ReportError(401, "api_key is required (the demo tester's key is in docs/API.md)")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _request_json(row: dict[str, Any]) -> dict[str, Any]:
    service = SERVICES_BY_CODE.get(row["service_code"])
    media_url = row["media_url"]
    if media_url is None and row["photo_path"]:
        media_url = f"{request.url_root}open311/v2/requests/{row['work_order_id']}/media"
    return {
        "service_request_id": str(row["work_order_id"]),
        "status": "closed" if row["state"] in _CLOSED_STATES else "open",
        "status_notes": f"work order {row['state']}",
        "service_name": f"{service.name} {service.name_en}" if service else row["service_code"],
        "service_code": row["service_code"],
        "description": row["description"],
        "agency_responsible": row["grid_name"],
        "service_notice": None,
        "requested_datetime": _iso(row["requested_at"]),
        "updated_datetime": _iso(row["updated_at"]),
        "expected_datetime": _iso(row["resolve_due"]),
        "address": row["address"],
        "address_id": None,
        "zipcode": None,
        "lat": row["lat"],
        "long": row["lon"],
        "media_url": media_url,
    }


def _scope(user: User) -> tuple[str, dict[str, Any]]:
    """Which reports the caller may read: an application key, the ones it filed."""
    if user.person_id is None:
        return "sr.token_id = %(token)s", {"token": user.token_id}
    if refusal(user, Action.READ, OrderScope("", None, None)) is not None:
        return "FALSE", {}
    return scope_condition(user)


@bp.get("/services.json")
def services() -> Response:
    return jsonify(
        [
            {
                "service_code": s.code,
                "service_name": f"{s.name} {s.name_en}",
                "description": f"{s.name}（{s.name_en}）",
                "metadata": False,
                "type": "realtime",
                "keywords": s.code.replace("_", ","),
                "group": s.group,
            }
            for s in SERVICES
        ]
    )


@bp.post("/requests.json")
def create_request() -> tuple[Response, int]:
    if request.mimetype == "application/json":
        # Open311 clients post forms; a JSON body would otherwise read as "api_key missing".
        raise ReportError(
            415,
            "send the report as a form (application/x-www-form-urlencoded, or"
            " multipart/form-data with a photo), as Open311 GeoReport v2 does; this body is JSON",
        )
    if (request.content_length or 0) > MAX_PHOTO_BYTES + 100_000:
        raise ReportError(
            413, f"the request is too large; a photo may have {MAX_PHOTO_BYTES} bytes at most"
        )
    reporter = _caller()
    if refusal(reporter, Action.REPORT, OrderScope("", None, None)):
        raise ReportError(403, f"a {reporter.role} may not file reports")
    report = parse_report(request.form)
    upload = request.files.get("media") or request.files.get("photo")
    photo = upload.read() if upload else None
    ctx = api_context()
    with ctx.transaction() as (conn, writes):
        place = locate(conn, report)
        now = ctx.clock()
        photo_path = writes.save_photo(photo, "report") if photo is not None else None
        order_id = file_report(
            conn,
            report,
            reporter,
            place,
            now,
            ctx.site_tz(conn),
            photo_path,
            ctx.deadlines,
            ctx.routing,
        )
    notice = f"已受理 received: work order {order_id} in grid {place[0]}"
    return jsonify(
        [{"service_request_id": str(order_id), "service_notice": notice, "account_id": None}]
    ), 201


@bp.get("/requests.json")
def list_requests() -> Response:
    user = _caller()
    condition, params = _scope(user)
    where = [condition]
    ids = [i for i in request.args.get("service_request_id", "").split(",") if i.strip()]
    if ids:
        if not all(i.strip().isdigit() for i in ids):
            raise ReportError(400, "service_request_id must be comma-separated numbers")
        where.append("sr.work_order_id = ANY(%(ids)s)")
        params["ids"] = [int(i) for i in ids]
    if request.args.get("service_code"):
        where.append("sr.service_code = %(code)s")
        params["code"] = request.args["service_code"]
    for name, op in (("start_date", ">="), ("end_date", "<=")):
        if request.args.get(name):
            try:
                params[name] = datetime.fromisoformat(request.args[name])
            except ValueError:
                raise ReportError(400, f"{name} is not an ISO 8601 date-time") from None
            where.append(f"sr.requested_at {op} %({name})s")
    status = request.args.get("status")
    if status not in (None, "", "open", "closed"):
        raise ReportError(400, f"status {status!r} is neither open nor closed")
    if status:
        # In the query, not after it: the newest rows of the other status must not crowd
        # the ones asked for out of the page.
        negate = "" if status == "closed" else "NOT "
        where.append(f"{negate}(w.state = ANY(%(closed_states)s))")
        params["closed_states"] = sorted(_CLOSED_STATES)
    with api_context().pool.connection() as conn:
        rows = request_rows(conn, " AND ".join(where), params)
    return jsonify([_request_json(r) for r in rows])


def _one(request_id: int) -> dict[str, Any]:
    user = _caller()
    condition, params = _scope(user)
    with api_context().pool.connection() as conn:
        rows = request_rows(
            conn, f"{condition} AND sr.work_order_id = %(id)s", {**params, "id": request_id}
        )
    if not rows or (
        user.person_id is not None
        and not may_see(
            user, OrderScope(rows[0]["grid_id"], rows[0]["community_id"], rows[0]["assignee_id"])
        )
    ):
        raise ReportError(404, f"service request {request_id} is not among those you may see")
    return rows[0]


@bp.get("/requests/<int:request_id>.json")
def read_request(request_id: int) -> Response:
    return jsonify([_request_json(_one(request_id))])


@bp.get("/requests/<int:request_id>/media")
def request_media(request_id: int) -> Response:
    row = _one(request_id)
    if not row["photo_path"]:
        raise ReportError(404, f"service request {request_id} came without a photo")
    return send_file(row["photo_path"])


@bp.route("/<path:rest>", methods=UNKNOWN_PATH_METHODS)
def unknown_path(rest: str) -> tuple[Response, int]:
    error, served = unknown_path_error(
        "this server speaks GeoReport v2 in JSON: services.json, requests.json,"
        " requests/{id}.json, requests/{id}/media"
    )
    response, status = _error(error.status, error.reason)
    if served:
        response.headers["Allow"] = ", ".join(served)
    return response, status
