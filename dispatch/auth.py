"""Who may see and do what with a work order, and the Flask glue that finds the caller.

The rules are pure (a `User`, an `OrderScope`, an `Action` in; a reason out) so they are
tested without a server. Roles come from the site model (`people.role`):

- operator, admin: every work order, every action;
- property manager: the orders of their own community, every action;
- grid worker: the orders of their own grid; accept, start, resolve, comment, report;
- tester: every order, read and comment only (testers check what the system did);
- department contact: read and act on the orders assigned to them.

Anyone sees the orders assigned to them. An application key (no person) reads and files
resident reports only. In Flask, `current_user()` reads `Authorization: Bearer TOKEN` or the
session cookie set by POST /login; `login_required` guards a view (401 JSON under /api/,
a redirect to /login elsewhere).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeVar, cast
from urllib.parse import quote

from flask import current_app, g, jsonify, redirect, request

from gridwatch.site import PersonRole

SESSION_COOKIE = "gridwatch_session"
CLIENT_ROLE = "client"  # an application key: no person behind it

# scrypt cost: 2^14 rounds of 8-block mixing, about 16 MB and tens of milliseconds per
# check, which makes guessing a stolen hash slow without making a login feel slow.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


class Action(StrEnum):
    READ = "read"
    COMMENT = "comment"
    ACCEPT = "accept"
    DISPATCH = "dispatch"
    START = "start"
    RESOLVE = "resolve"
    VERIFY = "verify"
    CLOSE = "close"
    REOPEN = "reopen"
    REPORT = "report"


_EVERYTHING = frozenset(Action)
_DOER = frozenset({Action.READ, Action.COMMENT, Action.ACCEPT, Action.START, Action.RESOLVE})
ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    PersonRole.OPERATOR: _EVERYTHING,
    PersonRole.ADMIN: _EVERYTHING,
    PersonRole.PROPERTY_MANAGER: _EVERYTHING,
    PersonRole.GRID_WORKER: _DOER | {Action.REPORT},
    PersonRole.DEPARTMENT: _DOER,
    PersonRole.TESTER: frozenset({Action.READ, Action.COMMENT, Action.REPORT}),
    CLIENT_ROLE: frozenset({Action.REPORT}),
}
# Roles that see every work order, whatever its area.
SEES_ALL = frozenset({PersonRole.OPERATOR, PersonRole.ADMIN, PersonRole.TESTER})
# Roles that run the system: anyone's notification channels, anyone's API tokens.
ADMINISTERS = frozenset({PersonRole.OPERATOR, PersonRole.ADMIN})


@dataclass(frozen=True)
class User:
    """The caller: a person (from a token or a session) or an application key."""

    person_id: str | None
    name: str
    role: str
    area_id: str | None = None  # grid of a worker, community of a manager
    token_id: int | None = None  # the API token or key used, if any

    @property
    def label(self) -> str:
        """How the caller appears in the audit trail (work_order_events.actor)."""
        return self.person_id or f"app-key:{self.token_id}"


@dataclass(frozen=True)
class OrderScope:
    """Where a work order sits and who has it: all the rules need to know."""

    grid_id: str
    community_id: str | None
    assignee_id: str | None


def may_see(user: User, order: OrderScope) -> bool:
    """Whether the order is within the user's area (or assigned to them)."""
    if user.person_id is not None and order.assignee_id == user.person_id:
        return True
    if user.role in SEES_ALL:
        return True
    if user.role == PersonRole.PROPERTY_MANAGER:
        return user.area_id is not None and order.community_id == user.area_id
    if user.role == PersonRole.GRID_WORKER:
        return user.area_id is not None and order.grid_id == user.area_id
    return False


def refusal(user: User, action: Action, order: OrderScope) -> str | None:
    """Why the user may not do `action` on a visible order, or None when they may."""
    if action not in ROLE_ACTIONS.get(user.role, frozenset()):
        allowed = sorted(ROLE_ACTIONS.get(user.role, frozenset()))
        return f"a {user.role} may not {action} work orders (allowed: {', '.join(allowed)})"
    return None


def administration_refusal(user: User, what: str) -> str | None:
    """Why the user may not manage `what` (channels, other people's tokens), or None."""
    if user.role in ADMINISTERS:
        return None
    return f"only an operator or admin may manage {what}; you are a {user.role}"


def readable_recipients(user: User) -> list[str] | None:
    """Whose messages of the delivery log the user may read; None for everyone's.

    Operators and admins read all; a person reads their own, and a property manager also
    those sent to their community's channels. An application key reads none.
    """
    if user.role in ADMINISTERS:
        return None
    if user.person_id is None:
        return []
    own = [user.person_id]
    if user.role == PersonRole.PROPERTY_MANAGER and user.area_id is not None:
        own.append(f"community:{user.area_id}")
    return own


def assignee_refusal(person_id: str, role: str) -> str | None:
    """Why a person may not be given a work order (their role cannot take it on), or None."""
    if {Action.ACCEPT, Action.START, Action.RESOLVE} <= ROLE_ACTIONS.get(role, frozenset()):
        return None
    return (
        f"{person_id} is a {role} and may not accept, start or resolve work orders;"
        " hand it to a grid worker, a department contact, a property manager or an operator"
    )


def may_assign(user: User, assignee_area_id: str | None, assignee_community_id: str | None) -> bool:
    """Whether the user may hand an order to a person in that area (a manager: own community)."""
    if user.role in (PersonRole.OPERATOR, PersonRole.ADMIN):
        return True
    if user.role == PersonRole.PROPERTY_MANAGER:
        return user.area_id is not None and user.area_id in (
            assignee_area_id,
            assignee_community_id,
        )
    return False


def hash_password(password: str, salt: bytes | None = None) -> str:
    """A salted scrypt hash in the form scrypt$n$r$p$salt_hex$hash_hex."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, maxmem=64 * 2**20
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether the password matches a hash made by hash_password (constant-time compare)."""
    try:
        scheme, n, r, p, salt_hex, hash_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            password.encode(),
            salt=bytes.fromhex(salt_hex),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=64 * 2**20,
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), hash_hex)


def new_token() -> str:
    """A fresh random API token or session id (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the database keeps of a token or session id."""
    return hashlib.sha256(token.encode()).hexdigest()


# ---- Flask glue -------------------------------------------------------------------------


class Authenticator(Protocol):
    """Finds the user behind a token or a session id (dispatch.api.accounts implements it)."""

    def user_for_token(self, token: str) -> User | None: ...

    def user_for_session(self, session_id: str) -> User | None: ...


AUTHENTICATOR_KEY = "gridwatch_authenticator"


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer TOKEN` header, if the request has one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_user() -> User | None:
    """The caller of this request (bearer token first, then session cookie), or None."""
    if "gridwatch_user" not in g:
        authenticator = cast(Authenticator, current_app.extensions[AUTHENTICATOR_KEY])
        token = bearer_token()
        session_id = request.cookies.get(SESSION_COOKIE)
        user = None
        if token:
            user = authenticator.user_for_token(token)
        elif session_id:
            user = authenticator.user_for_session(session_id)
        g.gridwatch_user = user
    return cast(User | None, g.gridwatch_user)


F = TypeVar("F", bound=Callable[..., Any])


def login_required(view: F) -> F:
    """Guard a view: 401 JSON for API paths, a redirect to /login for pages."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            if request.path.startswith("/api/"):
                reason = (
                    "the bearer token is unknown or revoked"
                    if bearer_token()
                    else "log in: send Authorization: Bearer TOKEN or the session cookie "
                    "from POST /login"
                )
                response = jsonify({"error": reason})
                response.status_code = 401
                response.headers["WWW-Authenticate"] = 'Bearer realm="gridwatch"'
                return response
            return redirect(f"/login?next={quote(request.full_path.rstrip('?'))}")
        return view(*args, **kwargs)

    return cast(F, guarded)
