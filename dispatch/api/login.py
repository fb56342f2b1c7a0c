"""Session login for browsers: GET/POST /login and POST /logout, on the dashboard's server.

The cookie is HttpOnly and SameSite=Lax, so another site cannot make a browser send it
with a cross-site POST; pages and the API accept it like a bearer token.
"""

from __future__ import annotations

from html import escape

from flask import Blueprint, Response, jsonify, make_response, redirect, request

from dispatch.api.accounts import SESSION_LIFETIME, check_login, end_session, start_session
from dispatch.api.context import api_context
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


@bp.post("/login")
def login() -> Response | tuple[Response, int]:
    name = request.form.get("login", "").strip()
    password = request.form.get("password", "")
    target = _safe_next(request.form.get("next"))
    ctx = api_context()
    with ctx.pool.connection() as conn:
        user = check_login(conn, name, password) if name and password else None
        if user is None:
            reason = "账号或密码错误 the login or the password is wrong"
            if _wants_json():
                return jsonify({"error": reason}), 401
            page = _FORM.format(error=f'<p class="error">{reason}</p>', next=escape(target))
            return Response(page, status=401, mimetype="text/html")
        assert user.person_id is not None
        session_id = start_session(conn, user.person_id, ctx.clock())
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
