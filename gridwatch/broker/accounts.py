"""Broker accounts for a site, and the Mosquitto password and ACL files that grant them.

Three kinds of account:
- one per device, username = device id: publishes only on its own telemetry, frame, status,
  event and cmd/ack topics, and reads only its own cmd topic;
- `gridwatch`, GridWatch's own processes: reads the whole site, publishes commands and alerts;
- `integrator` (optional): reads the alerts and nothing else.

A Mosquitto `pattern` line can name the client (%u) but cannot know which grid a device is
installed in, so each device gets explicit topic lines; a device cannot then publish under
another grid even with its own id.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from gridwatch.broker.credentials import derive_password, derive_salt, mosquitto_hash
from gridwatch.site import Site
from gridwatch.topics import PREFIX, MessageKind, device_topic

SERVICE_USER = "gridwatch"
INTEGRATOR_USER = "integrator"
PASSWORD_FILE = "passwd"
ACL_FILE = "acl"

DEVICE_PUBLISHES = (
    MessageKind.TELEMETRY,
    MessageKind.FRAME,
    MessageKind.STATUS,
    MessageKind.EVENT,
    MessageKind.CMD_ACK,
)


class Role(StrEnum):
    DEVICE = "device"
    SERVICE = "service"
    INTEGRATOR = "integrator"


@dataclass(frozen=True)
class Account:
    """One broker user and what it may do: (access, topic filter) pairs in ACL terms."""

    username: str
    role: Role
    rules: tuple[tuple[str, str], ...]
    note: str = ""


class AccountError(ValueError):
    """The site model cannot be turned into broker accounts (the message says why)."""


def site_accounts(site: Site, *, integrator: bool = False) -> list[Account]:
    """Every account of `site`: the service user, the integrator if asked for, each device."""
    site_root = f"{PREFIX}/{site.id}"
    alerts = f"{site_root}/alerts/#"
    accounts = [
        Account(
            SERVICE_USER,
            Role.SERVICE,
            (
                ("read", f"{site_root}/#"),
                ("write", f"{site_root}/+/+/{MessageKind.CMD.value}"),
                ("write", alerts),
            ),
            "GridWatch's own processes: ingest reads the site, commands and alerts go out",
        )
    ]
    if integrator:
        accounts.append(
            Account(INTEGRATOR_USER, Role.INTEGRATOR, (("read", alerts),), "reads alerts only")
        )
    reserved = {account.username for account in accounts}
    for device in site.devices:
        if device.id in reserved:
            raise AccountError(
                f"device id {device.id!r} is also a broker service account; rename the device"
            )
        topic = {
            kind: device_topic(site.id, device.grid_id, device.id, kind) for kind in MessageKind
        }
        rules = [("write", topic[kind]) for kind in DEVICE_PUBLISHES]
        rules.append(("read", topic[MessageKind.CMD]))
        accounts.append(
            Account(device.id, Role.DEVICE, tuple(rules), f"{device.kind} in grid {device.grid_id}")
        )
    return accounts


def acl_text(site_id: str, accounts: list[Account]) -> str:
    """The Mosquitto acl_file granting each account its rules and nothing more."""
    lines = [
        f"# Mosquitto ACL for site {site_id}: written by `gridwatch site mqtt-acl` from the",
        "# site model. Regenerate it after adding or moving a device rather than editing it.",
        "# No line comes before the first `user`, so anonymous clients get no access at all.",
    ]
    for account in accounts:
        lines += ["", f"# {account.note}" if account.note else "#", f"user {account.username}"]
        lines += [f"topic {access} {topic}" for access, topic in account.rules]
    return "\n".join(lines) + "\n"


def password_file_text(site_id: str, accounts: list[Account], secret: bytes) -> str:
    """The Mosquitto password_file: `user:$7$…` lines, one per account."""
    return "".join(
        f"{account.username}:"
        + mosquitto_hash(
            derive_password(secret, site_id, account.username),
            derive_salt(secret, site_id, account.username),
        )
        + "\n"
        for account in accounts
    )


@dataclass(frozen=True)
class BrokerFiles:
    password_file: Path
    acl_file: Path
    accounts: list[Account]


def write_broker_files(
    site: Site, secret: bytes, out_dir: Path, *, integrator: bool = False
) -> BrokerFiles:
    """Write `passwd` (owner-only) and `acl` for `site` into out_dir."""
    accounts = site_accounts(site, integrator=integrator)
    out_dir.mkdir(parents=True, exist_ok=True)
    password_file = out_dir / PASSWORD_FILE
    # Created owner-only from the start: the hashes never sit world-readable, even briefly.
    fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(password_file_text(site.id, accounts, secret))
    os.chmod(password_file, 0o600)
    acl_file = out_dir / ACL_FILE
    acl_file.write_text(acl_text(site.id, accounts), encoding="utf-8")
    return BrokerFiles(password_file, acl_file, accounts)
