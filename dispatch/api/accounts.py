"""Logins, API tokens and sessions in the database (tables of sql/004_api.sql).

Only hashes are stored: scrypt for passwords, SHA-256 for tokens and session ids (both are
256-bit random strings). The demo site gets known logins so a newcomer can try the API.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import psycopg
from psycopg_pool import ConnectionPool

from dispatch.auth import CLIENT_ROLE, User, hash_password, new_token, token_digest, verify_password

# A shift is at most twelve hours; a session outlives none.
SESSION_LIFETIME = timedelta(hours=12)

# Known credentials of the demo site, documented in docs/API.md: every person logs in with
# their person id and this password, and holds the token "demo-" + their person id.
DEMO_PASSWORD = "gridwatch-demo"
DEMO_TOKEN_PREFIX = "demo-"
REPORT_FORM_KEY_LABEL = "report-form"

_USER_COLUMNS = "p.id, p.name, p.role, p.area_id"


def _user(row: dict, token_id: int | None = None) -> User:
    return User(row["id"], row["name"], row["role"], row["area_id"], token_id)


class Accounts:
    """Finds the user behind a token or a session id; the Flask glue's Authenticator."""

    def __init__(self, pool: ConnectionPool, clock: Callable[[], datetime]) -> None:
        self._pool = pool
        self._clock = clock

    def user_for_token(self, token: str) -> User | None:
        with self._pool.connection() as conn:
            return user_for_token(conn, token)

    def user_for_session(self, session_id: str) -> User | None:
        with self._pool.connection() as conn:
            return user_for_session(conn, session_id, self._clock())


def user_for_token(conn: psycopg.Connection, token: str) -> User | None:
    """The person (or application key) a live token belongs to; None if unknown or revoked."""
    row = conn.execute(
        "SELECT t.id AS token_id, t.label, p.id, p.name, p.role, p.area_id"
        " FROM api_tokens t LEFT JOIN people p ON p.id = t.person_id"
        " WHERE t.token_sha256 = %s AND t.revoked_at IS NULL",
        (token_digest(token),),
    ).fetchone()
    if row is None:
        return None
    if row["id"] is None:
        return User(None, row["label"], CLIENT_ROLE, None, int(row["token_id"]))
    return _user(row, int(row["token_id"]))


def user_for_session(conn: psycopg.Connection, session_id: str, now: datetime) -> User | None:
    row = conn.execute(
        f"SELECT {_USER_COLUMNS} FROM login_sessions s JOIN people p ON p.id = s.person_id"
        " WHERE s.id_sha256 = %s AND s.expires_at > %s",
        (token_digest(session_id), now),
    ).fetchone()
    return _user(row) if row else None


def check_login(conn: psycopg.Connection, login: str, password: str) -> User | None:
    """The person whose login and password these are, or None."""
    row = conn.execute(
        f"SELECT {_USER_COLUMNS}, l.password_hash FROM logins l JOIN people p"
        " ON p.id = l.person_id WHERE l.login = %s",
        (login,),
    ).fetchone()
    if row is None or not verify_password(password, row["password_hash"]):
        return None
    return _user(row)


def start_session(conn: psycopg.Connection, person_id: str, now: datetime) -> str:
    """Open a session for a person who just logged in; returns the cookie's value."""
    session_id = new_token()
    conn.execute(
        "DELETE FROM login_sessions WHERE person_id = %s AND expires_at <= %s", (person_id, now)
    )
    conn.execute(
        "INSERT INTO login_sessions (id_sha256, person_id, created_at, expires_at)"
        " VALUES (%s, %s, %s, %s)",
        (token_digest(session_id), person_id, now, now + SESSION_LIFETIME),
    )
    return session_id


def end_session(conn: psycopg.Connection, session_id: str) -> None:
    conn.execute("DELETE FROM login_sessions WHERE id_sha256 = %s", (token_digest(session_id),))


def _require_person(conn: psycopg.Connection, person_id: str) -> None:
    if conn.execute("SELECT 1 FROM people WHERE id = %s", (person_id,)).fetchone() is None:
        raise LookupError(f"person {person_id!r} does not exist; load the site first")


def set_password(
    conn: psycopg.Connection, person_id: str, password: str, login: str | None = None
) -> None:
    """Give a person a login (their id unless named) with this password."""
    if len(password) < 8:
        raise ValueError("a password needs at least 8 characters")
    _require_person(conn, person_id)
    conn.execute(
        "INSERT INTO logins (person_id, login, password_hash) VALUES (%s, %s, %s)"
        " ON CONFLICT (person_id) DO UPDATE SET login = EXCLUDED.login,"
        " password_hash = EXCLUDED.password_hash",
        (person_id, login or person_id, hash_password(password)),
    )


def issue_token(
    conn: psycopg.Connection, person_id: str | None, label: str, token: str | None = None
) -> str:
    """Store a new API token for a person (or an application key when person_id is None)."""
    if person_id is not None:
        _require_person(conn, person_id)
    token = token or new_token()
    conn.execute(
        "INSERT INTO api_tokens (token_sha256, person_id, label) VALUES (%s, %s, %s)"
        " ON CONFLICT (token_sha256) DO NOTHING",
        (token_digest(token), person_id, label),
    )
    return token


def list_tokens(conn: psycopg.Connection, person_id: str | None) -> list[dict]:
    """A person's tokens (None: every token and key), newest first; never the tokens
    themselves, only what tells them apart."""
    rows = conn.execute(
        "SELECT id, person_id, label, created_at, revoked_at FROM api_tokens"
        " WHERE %(p)s::text IS NULL OR person_id = %(p)s ORDER BY id DESC",
        {"p": person_id},
    ).fetchall()
    return [
        {
            "id": r["id"],
            "person_id": r["person_id"],
            "label": r["label"],
            "created_at": r["created_at"].isoformat(),
            "revoked_at": r["revoked_at"].isoformat() if r["revoked_at"] else None,
        }
        for r in rows
    ]


def token_owner(conn: psycopg.Connection, token_id: int) -> tuple[bool, str | None]:
    """(whether the token exists, the person it belongs to: None for an application key)."""
    row = conn.execute("SELECT person_id FROM api_tokens WHERE id = %s", (token_id,)).fetchone()
    return (row is not None, row["person_id"] if row else None)


def revoke_token(conn: psycopg.Connection, token_id: int, now: datetime) -> datetime:
    """Revoke a token from `now` on (it stops working at once); returns when it was revoked,
    the first time if it already was."""
    row = conn.execute(
        "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, %s) WHERE id = %s"
        " RETURNING revoked_at",
        (now, token_id),
    ).fetchone()
    if row is None:
        raise LookupError(f"there is no token {token_id}")
    return row["revoked_at"]  # type: ignore[no-any-return]


def public_key(conn: psycopg.Connection, label: str = REPORT_FORM_KEY_LABEL) -> str:
    """The published application key under `label` (the QR form's), created on first use."""
    row = conn.execute(
        "SELECT public_token FROM api_tokens WHERE label = %s AND public_token IS NOT NULL"
        " AND revoked_at IS NULL",
        (label,),
    ).fetchone()
    if row:
        return str(row["public_token"])
    token = new_token()
    conn.execute(
        "INSERT INTO api_tokens (token_sha256, label, public_token) VALUES (%s, %s, %s)"
        " ON CONFLICT DO NOTHING",
        (token_digest(token), label, token),
    )
    # Two first uses at once: the unique index keeps one key; read the winner.
    return str(
        conn.execute(
            "SELECT public_token FROM api_tokens WHERE label = %s AND public_token IS NOT NULL"
            " AND revoked_at IS NULL",
            (label,),
        ).fetchone()["public_token"]
    )


def ensure_demo_logins(conn: psycopg.Connection) -> int:
    """Known logins and tokens for every stored person (demo sites only); returns the count.

    One scrypt hash serves everybody: they share the demo password, and hashing it once keeps
    `gridwatch up` fast. Never run this on a real site.
    """
    people = [r["id"] for r in conn.execute("SELECT id FROM people ORDER BY id")]
    password_hash = hash_password(DEMO_PASSWORD)
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO logins (person_id, login, password_hash) VALUES (%s, %s, %s)"
            " ON CONFLICT (person_id) DO UPDATE SET password_hash = EXCLUDED.password_hash",
            [(person, person, password_hash) for person in people],
        )
        cur.executemany(
            "INSERT INTO api_tokens (token_sha256, person_id, label) VALUES (%s, %s, 'demo')"
            " ON CONFLICT (token_sha256) DO NOTHING",
            [(token_digest(DEMO_TOKEN_PREFIX + person), person) for person in people],
        )
    return len(people)
