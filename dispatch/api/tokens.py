"""API tokens over the API: list them and revoke them (/api/v1/tokens).

Anyone may list and revoke their own tokens, and revoke the one they are calling with
(`DELETE /api/v1/tokens/current`: a token that leaked, or a device handed back). Operators
and admins may list and revoke anyone's, application keys included. A token that is not the
caller's and not theirs to manage answers 404, as one that does not exist.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from dispatch.api.accounts import list_tokens, revoke_token, token_owner
from dispatch.api.context import ApiError, api_context
from dispatch.auth import User, administration_refusal, current_user, login_required

bp = Blueprint("api_v1_tokens", __name__, url_prefix="/api/v1")


@bp.errorhandler(ApiError)
def _api_error(err: ApiError) -> tuple[Response, int]:
    return jsonify({"error": err.reason}), err.status


def _user() -> User:
    user = current_user()
    assert user is not None  # login_required ran first
    return user


def _revoked(token_id: int) -> Response:
    ctx = api_context()
    with ctx.transaction() as (conn, _writes):
        when = revoke_token(conn, token_id, ctx.clock())
    return jsonify({"id": token_id, "revoked_at": when.isoformat()})


@bp.get("/tokens")
@login_required
def tokens() -> Response:
    user = _user()
    person = request.args.get("person") or None
    if user.person_id is None:
        raise ApiError(403, "an application key lists no tokens; it may revoke itself only")
    if person != user.person_id:
        reason = administration_refusal(user, "other people's tokens")
        if reason and person is not None:
            raise ApiError(403, reason)
        if reason:
            person = user.person_id
    with api_context().pool.connection() as conn:
        return jsonify({"tokens": list_tokens(conn, person)})


@bp.delete("/tokens/current")
@login_required
def revoke_current() -> Response:
    user = _user()
    if user.token_id is None:
        raise ApiError(400, "this request came with a session, not a token; POST /logout ends it")
    return _revoked(user.token_id)


@bp.delete("/tokens/<int:token_id>")
@login_required
def revoke(token_id: int) -> Response:
    user = _user()
    with api_context().pool.connection() as conn:
        exists, owner = token_owner(conn, token_id)
    mine = token_id == user.token_id or (owner is not None and owner == user.person_id)
    if not exists or not (mine or administration_refusal(user, "tokens") is None):
        raise ApiError(404, f"token {token_id} is not among the tokens you may revoke")
    return _revoked(token_id)
