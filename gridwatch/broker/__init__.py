"""The MQTT broker's side of security and capacity: accounts, passwords, ACLs, configuration.

`gridwatch site mqtt-acl` writes Mosquitto's password and ACL files from the site model;
`deploy/mosquitto.conf` is the production configuration that names them.
"""

from gridwatch.broker.accounts import (
    ACL_FILE,
    INTEGRATOR_USER,
    PASSWORD_FILE,
    SERVICE_USER,
    Account,
    AccountError,
    BrokerFiles,
    Role,
    acl_text,
    password_file_text,
    site_accounts,
    write_broker_files,
)
from gridwatch.broker.credentials import (
    SECRET_ENV,
    SecretError,
    derive_password,
    load_secret,
    mosquitto_hash,
)

__all__ = [
    "ACL_FILE",
    "INTEGRATOR_USER",
    "PASSWORD_FILE",
    "SECRET_ENV",
    "SERVICE_USER",
    "Account",
    "AccountError",
    "BrokerFiles",
    "Role",
    "SecretError",
    "acl_text",
    "derive_password",
    "load_secret",
    "mosquitto_hash",
    "password_file_text",
    "site_accounts",
    "write_broker_files",
]
