-- Storage lifecycle on plain PostgreSQL: a one-minute rollup of telemetry that the app keeps.
--
-- Readers (the dashboard's sensor curves) query the view telemetry_1m: one row per device,
-- metric and minute with min, max, avg, count and last. With TimescaleDB,
-- 006_rollup.timescale.sql replaces these objects with a continuous aggregate of the same
-- name and columns, so readers do not know which path they are on.

-- What the maintenance job (`gridwatch maintain`, gridwatch/telemetry_rollup.py) has computed.
-- Kept longer than raw telemetry (rollup_retention_days against telemetry_retention_days).
CREATE TABLE telemetry_1m_rollup (
    device_id  text NOT NULL,
    metric     text NOT NULL,
    bucket     timestamptz NOT NULL,
    min        double precision,
    max        double precision,
    avg        double precision,
    count      bigint NOT NULL,
    last       double precision,   -- the value of the minute's latest reading
    PRIMARY KEY (device_id, metric, bucket)
);
CREATE INDEX telemetry_1m_rollup_bucket_idx ON telemetry_1m_rollup (bucket);

-- Minutes whose readings changed since the job last computed them: the job's watermark.
-- A row is marked in the same transaction that stores the readings, so a late reading
-- (a device backfilling after an outage) marks its old minute again and nothing is missed.
CREATE TABLE telemetry_1m_pending (
    device_id  text NOT NULL,
    metric     text NOT NULL,
    bucket     timestamptz NOT NULL,
    PRIMARY KEY (device_id, metric, bucket)
);

CREATE FUNCTION telemetry_1m_mark_pending() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    -- DO UPDATE ... WHERE false updates nothing but locks the marked row until this
    -- transaction commits, so the job (which skips locked rows) cannot take the mark away
    -- before these readings are visible to it. Sorted, so concurrent writers lock in one
    -- order and never deadlock.
    INSERT INTO telemetry_1m_pending AS p (device_id, metric, bucket)
    SELECT DISTINCT device_id, metric, date_bin('1 minute', time, timestamptz '2000-01-01Z')
    FROM new_rows
    ORDER BY 1, 2, 3
    ON CONFLICT (device_id, metric, bucket) DO UPDATE SET bucket = EXCLUDED.bucket WHERE false;
    RETURN NULL;
END
$fn$;

-- A hypertable refuses triggers with transition tables; there the continuous aggregate
-- does this work instead.
DO $do$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        CREATE TRIGGER telemetry_1m_mark AFTER INSERT ON telemetry
            REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION telemetry_1m_mark_pending();
    END IF;
END
$do$;

-- Computed minutes, and minutes not computed yet aggregated on the fly from the raw
-- readings: up to date whenever it is read, as TimescaleDB's real-time aggregates are.
CREATE VIEW telemetry_1m AS
SELECT r.device_id, r.metric, r.bucket, r.min, r.max, r.avg, r.count, r.last
FROM telemetry_1m_rollup r
WHERE NOT EXISTS (
    SELECT 1 FROM telemetry_1m_pending p
    WHERE p.device_id = r.device_id AND p.metric = r.metric AND p.bucket = r.bucket
)
UNION ALL
SELECT p.device_id, p.metric, p.bucket, min(t.value), max(t.value), avg(t.value), count(*),
       (array_agg(t.value ORDER BY t.time DESC, t.seq DESC))[1]
FROM telemetry_1m_pending p
JOIN telemetry t ON t.device_id = p.device_id AND t.metric = p.metric
     AND t.time >= p.bucket AND t.time < p.bucket + interval '1 minute'
GROUP BY p.device_id, p.metric, p.bucket;
