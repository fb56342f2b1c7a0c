-- Escalation (督办) and notifications: what the dispatch sweep records when a work order
-- misses a deadline, and every message it sends (or keeps trying to send) about it.

-- overdue: open and past its latest deadline (the big screen's red flag; cleared when the
-- order is resolved). overdue_since: when it first missed a deadline, kept for the figures.
-- next_deadline_at: the earliest deadline the sweep has not judged yet; NULL = judge now.
ALTER TABLE work_orders
    ADD COLUMN overdue           boolean NOT NULL DEFAULT false,
    ADD COLUMN overdue_since     timestamptz,
    ADD COLUMN escalated_at      timestamptz,
    ADD COLUMN next_deadline_at  timestamptz;
CREATE INDEX work_orders_overdue_idx ON work_orders (overdue) WHERE overdue;
CREATE INDEX work_orders_next_deadline_idx ON work_orders (next_deadline_at)
    WHERE state NOT IN ('resolved', 'verified', 'closed');

-- One row per level climbed: which deadline was missed and which area took the order over.
CREATE TABLE work_order_escalations (
    id             bigserial PRIMARY KEY,
    work_order_id  bigint NOT NULL REFERENCES work_orders (id),
    time           timestamptz NOT NULL,
    from_level     text NOT NULL,
    to_level       text NOT NULL CHECK (to_level IN ('community', 'street', 'district')),
    area_id        text REFERENCES areas (id),
    missed         text NOT NULL CHECK (missed IN ('accept', 'resolve')),
    deadline       timestamptz NOT NULL,
    notified       integer NOT NULL DEFAULT 0     -- messages queued for that level's people
);
CREATE INDEX work_order_escalations_order_idx ON work_order_escalations (work_order_id, time);

-- Notification channels added at run time, as apprise URLs: a person's own (besides the
-- people.channels of the site model) or a community's (a WeCom / DingTalk / Feishu group).
CREATE TABLE notification_channels (
    id            bigserial PRIMARY KEY,
    person_id     text REFERENCES people (id),
    community_id  text REFERENCES areas (id),
    url           text NOT NULL,
    label         text,
    enabled       boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((person_id IS NULL) <> (community_id IS NULL))
);
CREATE UNIQUE INDEX notification_channels_person_url ON notification_channels (person_id, url)
    WHERE person_id IS NOT NULL;
CREATE UNIQUE INDEX notification_channels_community_url
    ON notification_channels (community_id, url) WHERE community_id IS NOT NULL;

-- The outbox: one message for one channel, queued in the same transaction as the step that
-- caused it, so a channel that is down loses nothing: the sweep retries with backoff.
CREATE TABLE notifications (
    id               bigserial PRIMARY KEY,
    work_order_id    bigint NOT NULL REFERENCES work_orders (id),
    reason           text NOT NULL CHECK (reason IN ('dispatched', 'escalated')),
    level            text NOT NULL,
    recipient        text NOT NULL,       -- a person id, 'community:<id>' or 'mqtt'
    channel          text NOT NULL,       -- an apprise URL, or mqtt:<topic>
    channel_label    text NOT NULL,       -- the channel with its secrets masked, for screens
    title            text NOT NULL,
    body             text NOT NULL,
    payload          jsonb NOT NULL DEFAULT '{}'::jsonb,
    status           text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'sent', 'gave_up')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    last_error       text,
    created_at       timestamptz NOT NULL,
    sent_at          timestamptz
);
CREATE INDEX notifications_due_idx ON notifications (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_order_idx ON notifications (work_order_id);

-- The delivery log: every attempt, who, which channel, which work order, how it went.
CREATE TABLE notification_attempts (
    id               bigserial PRIMARY KEY,
    notification_id  bigint NOT NULL REFERENCES notifications (id),
    work_order_id    bigint NOT NULL REFERENCES work_orders (id),
    recipient        text NOT NULL,
    channel_label    text NOT NULL,
    attempt          integer NOT NULL,
    status           text NOT NULL CHECK (status IN ('sent', 'failed', 'gave_up')),
    error            text,
    time             timestamptz NOT NULL
);
CREATE INDEX notification_attempts_time_idx ON notification_attempts (time DESC);
CREATE INDEX notification_attempts_order_idx ON notification_attempts (work_order_id);
