-- Evidence files of alerts: snapshots and clips, each with its SHA-256, so anyone holding a
-- file can show it is the one GridWatch recorded. Paths are relative to the evidence root.
CREATE TABLE evidence (
    id              bigserial PRIMARY KEY,
    alert_id        bigint NOT NULL REFERENCES alerts (id),
    kind            text NOT NULL CHECK (kind IN ('snapshot', 'clip')),
    path            text NOT NULL,
    sha256          text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    media_type      text NOT NULL,
    size_bytes      bigint NOT NULL CHECK (size_bytes >= 0),
    frame_ts_first  double precision,  -- frame time (s) of the first and last frame in it
    frame_ts_last   double precision,
    frames          integer NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (alert_id, path)
);
CREATE INDEX evidence_alert_idx ON evidence (alert_id);
