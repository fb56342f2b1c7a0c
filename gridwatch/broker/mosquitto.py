"""Running deploy/mosquitto.conf somewhere other than its production home.

The deployed configuration names system paths (/etc/mosquitto, /var/lib/mosquitto) and a
public port. `local_config` keeps every other line as it is and points those at a scratch
folder and a loopback port, so tests exercise the very limits and access rules that ship.
"""

from __future__ import annotations

import getpass
import shutil
import subprocess
import time
from pathlib import Path

from gridwatch.broker.accounts import write_broker_files
from gridwatch.services import SYSTEM_MOSQUITTO, LocalBroker, free_port, port_answers
from gridwatch.settings import PROJECT_ROOT
from gridwatch.site import Site

DEPLOYED_CONFIG = PROJECT_ROOT / "deploy" / "mosquitto.conf"
QUEUE_LIMIT_OPTIONS = frozenset(
    {"max_queued_messages", "max_queued_bytes", "max_inflight_messages", "max_inflight_bytes"}
)
_RELOCATED = frozenset(
    {
        "listener",
        "password_file",
        "acl_file",
        "persistence_location",
        "log_dest",
        "pid_file",
        "user",
    }
)


def mosquitto_binary() -> str | None:
    """Path of the mosquitto broker, or None when it is not installed."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return str(SYSTEM_MOSQUITTO) if SYSTEM_MOSQUITTO.exists() else None


def config_options(text: str) -> list[tuple[str, str]]:
    """(option, value) pairs of a mosquitto.conf, in order, comments and blank lines left out."""
    options = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            key, _, value = stripped.partition(" ")
            options.append((key, value.strip()))
    return options


def local_config(
    base: str,
    *,
    port: int,
    data_dir: Path,
    password_file: Path | None = None,
    acl_file: Path | None = None,
    without: frozenset[str] = frozenset(),
) -> str:
    """`base` rewritten to listen on 127.0.0.1:port and keep its files in data_dir.

    Options named in `without` are left out, so Mosquitto's defaults apply to them.
    """
    options = config_options(base)
    listeners = [value for key, value in options if key == "listener"]
    if len(listeners) != 1:
        raise ValueError(
            f"expected one listener in the configuration, found {len(listeners)}: {listeners}"
        )
    lines = [
        f"listener {port} 127.0.0.1",
        # Mosquitto started as root drops to the `mosquitto` user at once, which could not
        # read a scratch folder; running as whoever starts it keeps the folder private.
        f"user {getpass.getuser()}",
        f"persistence_location {data_dir}/",
        f"log_dest file {data_dir / 'mosquitto.log'}",
    ]
    if password_file is not None:
        lines.append(f"password_file {password_file}")
    if acl_file is not None:
        lines.append(f"acl_file {acl_file}")
    lines += [
        f"{key} {value}".rstrip()
        for key, value in options
        if key not in _RELOCATED and key not in without
    ]
    return "\n".join(lines) + "\n"


def start_mosquitto(config_file: Path, port: int, timeout_s: float = 10.0) -> LocalBroker:
    """Start Mosquitto with `config_file` and wait until it listens on 127.0.0.1:port."""
    binary = mosquitto_binary()
    if binary is None:
        raise RuntimeError("mosquitto is not installed (Debian/Ubuntu: apt install mosquitto)")
    stderr_file = config_file.with_suffix(".stderr")
    with stderr_file.open("wb") as stderr:
        process = subprocess.Popen(
            [binary, "-c", str(config_file)], stdout=subprocess.DEVNULL, stderr=stderr
        )
    deadline = time.monotonic() + timeout_s
    while not port_answers("127.0.0.1", port, 0.2):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait(timeout=5)
            said = stderr_file.read_text(encoding="utf-8", errors="replace").strip()
            raise RuntimeError(
                f"mosquitto did not start listening on 127.0.0.1:{port} with {config_file}: "
                + (said or "it printed nothing")
            )
        time.sleep(0.02)
    return LocalBroker("127.0.0.1", port, "mosquitto", process)


def start_site_broker(
    site: Site, secret: bytes, folder: Path, *, integrator: bool = False
) -> LocalBroker:
    """Mosquitto on a free loopback port running deploy/mosquitto.conf with `site`'s
    passwords and ACL, all written under `folder`."""
    files = write_broker_files(site, secret, folder / "auth", integrator=integrator)
    port = free_port()
    config = folder / "mosquitto.conf"
    config.write_text(
        local_config(
            DEPLOYED_CONFIG.read_text(encoding="utf-8"),
            port=port,
            data_dir=folder,
            password_file=files.password_file,
            acl_file=files.acl_file,
        ),
        encoding="utf-8",
    )
    return start_mosquitto(config, port)
