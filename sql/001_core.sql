-- GridWatch core schema: hierarchy, devices, people, telemetry, detections, alerts,
-- work orders and dead letters. Runs on plain PostgreSQL; TimescaleDB steps live in
-- their own *.timescale.sql files.

-- District -> street -> community -> grid, one table so escalation can climb parent links.
CREATE TABLE areas (
    id          text PRIMARY KEY,
    level       text NOT NULL CHECK (level IN ('district', 'street', 'community', 'grid')),
    parent_id   text REFERENCES areas (id),
    name        text NOT NULL,
    name_en     text,
    geometry    jsonb,            -- GeoJSON geometry (Polygon / MultiPolygon) for grids
    center_lat  double precision,
    center_lon  double precision,
    households  integer
);
CREATE INDEX areas_parent_idx ON areas (parent_id);

CREATE TABLE buildings (
    id       text PRIMARY KEY,
    grid_id  text NOT NULL REFERENCES areas (id),
    name     text NOT NULL,
    floors   integer NOT NULL CHECK (floors > 0),
    lat      double precision,
    lon      double precision
);

CREATE TABLE devices (
    id           text PRIMARY KEY,
    site_id      text NOT NULL,
    grid_id      text NOT NULL REFERENCES areas (id),
    building_id  text REFERENCES buildings (id),
    kind         text NOT NULL,
    name         text NOT NULL,
    lat          double precision,
    lon          double precision,
    config       jsonb NOT NULL DEFAULT '{}'::jsonb   -- zones, floor lines, thresholds, linked alarm
);
CREATE INDEX devices_grid_idx ON devices (grid_id);

CREATE TABLE device_status (
    device_id  text PRIMARY KEY REFERENCES devices (id),
    online     boolean NOT NULL,
    since      timestamptz NOT NULL DEFAULT now(),
    last_seen  timestamptz NOT NULL DEFAULT now(),
    detail     text
);

CREATE TABLE people (
    id           text PRIMARY KEY,
    name         text NOT NULL,
    role         text NOT NULL CHECK (role IN
                  ('grid_worker', 'property_manager', 'operator', 'department', 'tester', 'admin')),
    area_id      text REFERENCES areas (id),   -- grid of a worker, community of a manager
    department   text,                         -- fire_safety, elevator_maintenance, ...
    phone        text,
    channels     jsonb NOT NULL DEFAULT '[]'::jsonb   -- notification URLs (apprise form)
);

-- Who is on duty in which grid and when; weekday 1 = Monday ... 7 = Sunday.
CREATE TABLE duty_roster (
    person_id   text NOT NULL REFERENCES people (id),
    grid_id     text NOT NULL REFERENCES areas (id),
    weekday     smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    starts_at   time NOT NULL,
    ends_at     time NOT NULL,
    PRIMARY KEY (person_id, grid_id, weekday, starts_at)
);
CREATE INDEX duty_roster_grid_idx ON duty_roster (grid_id, weekday);

-- One row per metric reading. (device, metric, time, seq) is the idempotency key:
-- a redelivered message writes nothing new.
CREATE TABLE telemetry (
    time       timestamptz NOT NULL,
    device_id  text NOT NULL,
    metric     text NOT NULL,
    value      double precision,
    seq        bigint NOT NULL DEFAULT 0,
    unit       text,
    PRIMARY KEY (device_id, metric, time, seq)
);
CREATE INDEX telemetry_time_idx ON telemetry (time DESC);

CREATE TABLE detections (
    time        timestamptz NOT NULL,
    device_id   text NOT NULL,
    type        text NOT NULL,
    confidence  real,
    track_id    integer,
    boxes       jsonb NOT NULL DEFAULT '[]'::jsonb,
    cleared     boolean NOT NULL DEFAULT false,
    details     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX detections_device_time_idx ON detections (device_id, time DESC);

CREATE TABLE alerts (
    id               bigserial PRIMARY KEY,
    site_id          text NOT NULL,
    device_id        text NOT NULL REFERENCES devices (id),
    grid_id          text NOT NULL REFERENCES areas (id),
    type             text NOT NULL,
    severity         text NOT NULL CHECK (severity IN ('critical', 'major', 'minor', 'warning')),
    state            text NOT NULL DEFAULT 'active'
                      CHECK (state IN ('active', 'acknowledged', 'cleared')),
    title            text NOT NULL,
    first_seen       timestamptz NOT NULL,
    last_seen        timestamptz NOT NULL,
    cleared_at       timestamptz,
    occurrences      integer NOT NULL DEFAULT 1,
    details          jsonb NOT NULL DEFAULT '{}'::jsonb,
    snapshot_path    text,
    snapshot_sha256  text,
    created_at       timestamptz NOT NULL DEFAULT now()
);
-- One active alert per (device, type): repeats update it.
CREATE UNIQUE INDEX alerts_one_open_per_device_type
    ON alerts (device_id, type) WHERE state <> 'cleared';
CREATE INDEX alerts_recent_idx ON alerts (first_seen DESC);
CREATE INDEX alerts_grid_state_idx ON alerts (grid_id, state);

CREATE TABLE alert_events (
    id         bigserial PRIMARY KEY,
    alert_id   bigint NOT NULL REFERENCES alerts (id),
    time       timestamptz NOT NULL DEFAULT now(),
    kind       text NOT NULL CHECK (kind IN ('raised', 'repeated', 'acknowledged', 'cleared')),
    actor      text NOT NULL DEFAULT 'system',
    note       text
);
CREATE INDEX alert_events_alert_idx ON alert_events (alert_id, time);

CREATE TABLE work_orders (
    id                bigserial PRIMARY KEY,
    alert_id          bigint UNIQUE REFERENCES alerts (id),
    source            text NOT NULL CHECK (source IN ('alert', 'resident', 'patrol')),
    grid_id           text NOT NULL REFERENCES areas (id),
    type              text NOT NULL,
    severity          text NOT NULL,
    title             text NOT NULL,
    state             text NOT NULL DEFAULT 'reported' CHECK (state IN
                       ('reported', 'accepted', 'dispatched', 'in_progress', 'resolved',
                        'verified', 'closed')),
    assignee_id       text REFERENCES people (id),
    escalation_level  text NOT NULL DEFAULT 'grid'
                       CHECK (escalation_level IN ('grid', 'community', 'street', 'district')),
    escalated         boolean NOT NULL DEFAULT false,
    accept_due        timestamptz,
    resolve_due       timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    closed_at         timestamptz
);
CREATE INDEX work_orders_state_idx ON work_orders (state);
CREATE INDEX work_orders_grid_idx ON work_orders (grid_id);

-- The audit trail: every transition of a work order, who, when and why.
CREATE TABLE work_order_events (
    id             bigserial PRIMARY KEY,
    work_order_id  bigint NOT NULL REFERENCES work_orders (id),
    time           timestamptz NOT NULL DEFAULT now(),
    from_state     text,
    to_state       text NOT NULL,
    actor          text NOT NULL,
    note           text,
    photo_path     text
);
CREATE INDEX work_order_events_order_idx ON work_order_events (work_order_id, time);

-- Commands GridWatch sent to devices (alarm on, door hold, power cut) and their answers.
CREATE TABLE device_commands (
    id          bigserial PRIMARY KEY,
    device_id   text NOT NULL REFERENCES devices (id),
    alert_id    bigint REFERENCES alerts (id),
    command     text NOT NULL,
    params      jsonb NOT NULL DEFAULT '{}'::jsonb,
    topic       text NOT NULL,
    sent_at     timestamptz NOT NULL DEFAULT now(),
    acked_at    timestamptz,
    ack         jsonb
);

-- Everything ingest could not accept, with a reason a person can act on.
CREATE TABLE dead_letters (
    id            bigserial PRIMARY KEY,
    received_at   timestamptz NOT NULL DEFAULT now(),
    topic         text NOT NULL,
    reason        text NOT NULL,
    reason_code   text NOT NULL,
    device_id     text,
    payload       bytea,            -- the first bytes only (dead_letter_keep_bytes)
    payload_size  integer NOT NULL
);
CREATE INDEX dead_letters_reason_idx ON dead_letters (reason_code, received_at DESC);
