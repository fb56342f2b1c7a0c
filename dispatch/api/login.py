"""Session login for browsers: GET/POST /login and POST /logout, on the dashboard's server.

The cookie is HttpOnly and SameSite=Lax, so another site cannot make a browser send it
with a cross-site POST; pages and the API accept it like a bearer token.
"""

from __future__ import annotations

import math
from datetime import timedelta
from html import escape

from flask import Blueprint, Response, jsonify, make_response, redirect, request

from dispatch.api.accounts import SESSION_LIFETIME, check_login, end_session, start_session
from dispatch.api.context import api_context
from dispatch.api.throttle import (
    ThrottlePolicy,
    clear_failures,
    recent_failures,
    record_failure,
    wait_text,
)
from dispatch.auth import SESSION_COOKIE

bp = Blueprint("login", __name__)

_FORM = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>登录 Log in · GridWatch</title>
<style>body{{font-family:sans-serif;max-width:22rem;margin:3rem auto;padding:0 1rem}}
label,input,button{{display:block;width:100%;margin:.4rem 0;font-size:1.1rem}}
.error{{color:#b00020}}</style></head>
<body><h1>登录 Log in</h1>{error}
<form method="post" action="/login">
<input type="hidden" name="next" value="{next}">
<label for="login">账号 Login</label><input id="login" name="login" autocomplete="username">
<label for="password">密码 Password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit">登录 Log in</button></form></body></html>"""


def _safe_next(target: str | None) -> str:
    # Only paths on this server: an absolute URL here would be an open redirect.
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.get("/login")
def login_form() -> Response:
    page = _FORM.format(error="", next=escape(_safe_next(request.args.get("next"))))
    return Response(page, mimetype="text/html")


def _refused(reason: str, status: int, target: str) -> Response:
    if _wants_json():
        response = jsonify({"error": reason})
        response.status_code = status
        return response
    page = _FORM.format(error=f'<p class="error">{escape(reason)}</p>', next=escape(target))
    return Response(page, status=status, mimetype="text/html")


def throttle_policy() -> ThrottlePolicy:
    settings = api_context().settings
    return ThrottlePolicy(
        settings.login_max_failures, timedelta(seconds=settings.login_failure_window_s)
    )


@bp.post("/login")
def login() -> Response:
    name = request.form.get("login", "").strip()
    password = request.form.get("password", "")
    target = _safe_next(request.form.get("next"))
    # Behind a reverse proxy this is the proxy's address unless the server is told to trust
    # its X-Forwarded-For; the throttle then counts per name alone, which still holds.
    address = request.remote_addr or "unknown"
    ctx = api_context()
    policy = throttle_policy()
    now = ctx.clock()
    with ctx.pool.connection() as conn:
        if name:
            wait = policy.retry_after(recent_failures(conn, name, address, now, policy), now)
            if wait is not None:
                window = wait_text(policy.window)
                response = _refused(
                    f"登录失败次数过多 too many failed logins: {policy.max_failures} for"
                    f" {name!r} from {address} within {window}; try again in {wait_text(wait)}",
                    429,
                    target,
                )
                response.headers["Retry-After"] = str(max(1, math.ceil(wait.total_seconds())))
                return response
        user = check_login(conn, name, password) if name and password else None
        if user is None:
            if name:
                record_failure(conn, name, address, now, policy)
            return _refused("账号或密码错误 the login or the password is wrong", 401, target)
        assert user.person_id is not None
        clear_failures(conn, name, address)
        session_id = start_session(conn, user.person_id, now)
    if _wants_json():
        response = jsonify({"person_id": user.person_id, "name": user.name, "role": user.role})
    else:
        response = make_response(redirect(target))
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    return response


@bp.post("/logout")
def logout() -> Response:
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        with api_context().pool.connection() as conn:
            end_session(conn, session_id)
    response = make_response(redirect("/login"))
    response.delete_cookie(SESSION_COOKIE)
    return response
