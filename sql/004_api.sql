-- Who may use the HTTP API and the Open311 endpoints, and what residents reported.

-- A person's login: the name they type and a salted scrypt hash of their password
-- ("scrypt$n$r$p$salt_hex$hash_hex"); the password itself is stored nowhere.
CREATE TABLE logins (
    person_id      text PRIMARY KEY REFERENCES people (id),
    login          text NOT NULL UNIQUE,
    password_hash  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- API tokens (Authorization: Bearer, or Open311's api_key). Only the SHA-256 of a token is
-- kept: tokens are long random strings, so a fast hash is enough. A token without a person
-- is an application key (a resident-facing form, an Open311 app): it may file and read
-- resident reports and nothing else. `public_token` keeps a key that is meant to be
-- published (the QR report form embeds it); no person's token is ever kept readable.
CREATE TABLE api_tokens (
    id             bigserial PRIMARY KEY,
    token_sha256   text NOT NULL UNIQUE,
    person_id      text REFERENCES people (id),
    label          text NOT NULL,
    public_token   text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz,
    CHECK (public_token IS NULL OR person_id IS NULL)
);
CREATE UNIQUE INDEX api_tokens_one_public_per_label
    ON api_tokens (label) WHERE public_token IS NOT NULL AND revoked_at IS NULL;

-- Browser sessions after POST /login; the cookie carries a random id, the table its hash.
CREATE TABLE login_sessions (
    id_sha256   text PRIMARY KEY,
    person_id   text NOT NULL REFERENCES people (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX login_sessions_person_idx ON login_sessions (person_id);

-- What a resident (or a grid worker on patrol) reported through Open311: the fields the
-- GeoReport v2 answers carry. The work order is the loop's side of the same report.
CREATE TABLE service_requests (
    work_order_id  bigint PRIMARY KEY REFERENCES work_orders (id),
    service_code   text NOT NULL,
    description    text NOT NULL,
    lat            double precision NOT NULL,
    lon            double precision NOT NULL,
    address        text,
    media_url      text,
    photo_path     text,
    token_id       bigint REFERENCES api_tokens (id),   -- the key it came with
    person_id      text REFERENCES people (id),         -- the logged-in reporter, if any
    requested_at   timestamptz NOT NULL
);
CREATE INDEX service_requests_token_idx ON service_requests (token_id);
