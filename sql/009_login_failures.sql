-- Failed logins, kept for the login throttle: too many for one login name from one address
-- within the window and POST /login answers 429 until the oldest of them has aged out.
-- Rows older than the window are deleted as new failures of the same name and address come in.
CREATE TABLE login_failures (
    id       bigserial PRIMARY KEY,
    login    text NOT NULL,
    address  text NOT NULL,
    time     timestamptz NOT NULL
);
CREATE INDEX login_failures_key_idx ON login_failures (login, address, time);
