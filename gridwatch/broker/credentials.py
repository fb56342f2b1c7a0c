"""MQTT passwords derived from one site secret, hashed the way Mosquitto 2.0 stores them.

Every account's password is HMAC-SHA256(secret, "gridwatch-mqtt/{site}/{username}"),
base64url without padding (43 characters, 256 bits). Whoever holds the secret can work out
any device's password when provisioning it, so there is no password database to keep; the
broker only ever sees the hashes. The site id is part of the message so that one secret used
for two sites gives different passwords.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping
from pathlib import Path

SECRET_ENV = "GRIDWATCH_MQTT_SECRET"
MIN_SECRET_BYTES = 16
# mosquitto_passwd's own default. The passwords are 256-bit random strings, so more rounds
# would add no protection, only CPU on every CONNECT (thousands at once after a restart).
PBKDF2_ITERATIONS = 101
SALT_BYTES = 12  # what mosquitto_passwd uses for $7$ entries

MAKE_SECRET_HINT = (
    'make one with `python -c "import secrets; print(secrets.token_urlsafe(32))" '
    "> mqtt-secret && chmod 600 mqtt-secret`"
)


class SecretError(ValueError):
    """No usable site secret: the message says how to provide one."""


def load_secret(secret_file: Path | None, environ: Mapping[str, str] = os.environ) -> bytes:
    """The site secret from `secret_file` if given, else from GRIDWATCH_MQTT_SECRET."""
    if secret_file is not None:
        try:
            secret = secret_file.read_text(encoding="utf-8").strip()
        except OSError as err:
            raise SecretError(f"cannot read the MQTT secret file {secret_file}: {err}") from None
        where = f"secret file {secret_file}"
    else:
        secret = environ.get(SECRET_ENV, "").strip()
        where = SECRET_ENV
        if not secret:
            raise SecretError(
                f"no MQTT secret: set {SECRET_ENV} or pass --secret-file FILE; " + MAKE_SECRET_HINT
            )
    if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
        raise SecretError(
            f"the MQTT secret in {where} is shorter than {MIN_SECRET_BYTES} bytes; "
            + MAKE_SECRET_HINT
        )
    return secret.encode("utf-8")


def _hmac(secret: bytes, message: str) -> bytes:
    return hmac.new(secret, message.encode("utf-8"), hashlib.sha256).digest()


def derive_password(secret: bytes, site_id: str, username: str) -> str:
    """The MQTT password of `username` at `site_id` (the same every time for one secret)."""
    digest = _hmac(secret, f"gridwatch-mqtt/{site_id}/{username}")
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def derive_salt(secret: bytes, site_id: str, username: str) -> bytes:
    """A per-account salt that is secret too, so regenerating the files changes no byte."""
    return _hmac(secret, f"gridwatch-mqtt-salt/{site_id}/{username}")[:SALT_BYTES]


def mosquitto_hash(password: str, salt: bytes, iterations: int = PBKDF2_ITERATIONS) -> str:
    """A Mosquitto 2.0 password-file hash: `$7$ROUNDS$base64(salt)$base64(PBKDF2-SHA512)`."""
    key = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)
    return "$7${}${}${}".format(
        iterations, base64.b64encode(salt).decode("ascii"), base64.b64encode(key).decode("ascii")
    )
