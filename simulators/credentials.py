"""How a simulated device logs in to the broker: as itself, like a real one.

The username is the device id. With a site secret (GRIDWATCH_MQTT_SECRET, the one
`gridwatch site mqtt-acl` hashed into the broker's password file) the password is the
device's derived one, so the simulators pass the site's ACL; without a secret, no password,
for a broker that lets anyone in (the local development broker).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from gridwatch.broker import SECRET_ENV, derive_password, load_secret
from gridwatch.settings import Settings


def device_login(
    settings: Settings, device_id: str, environ: Mapping[str, str] = os.environ
) -> tuple[str, str | None]:
    """(username, password) of a simulated device."""
    if not environ.get(SECRET_ENV, "").strip():
        return device_id, None
    secret = load_secret(None, environ)  # raises, saying how to fix it, when too short
    return device_id, derive_password(secret, settings.site_id, device_id)
