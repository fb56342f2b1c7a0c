-- Storage lifecycle with TimescaleDB: compression, and a continuous aggregate named and
-- shaped like the plain-PostgreSQL view telemetry_1m (006_rollup.sql), which it replaces.
-- Compression, retention and refresh policies take their intervals from the settings and
-- are (re)applied by `gridwatch maintain` (ingest/retention.py).
DROP VIEW telemetry_1m;
DROP TABLE telemetry_1m_pending;
DROP TABLE telemetry_1m_rollup;
DROP FUNCTION telemetry_1m_mark_pending();

CREATE MATERIALIZED VIEW telemetry_1m WITH (timescaledb.continuous) AS
SELECT device_id, metric, time_bucket(INTERVAL '1 minute', time) AS bucket,
       min(value) AS min, max(value) AS max, avg(value) AS avg, count(*) AS count,
       last(value, time) AS last
FROM telemetry
GROUP BY device_id, metric, time_bucket(INTERVAL '1 minute', time)
WITH NO DATA;
-- Real-time aggregation: minutes not materialised yet are computed from the raw rows.
ALTER MATERIALIZED VIEW telemetry_1m SET (timescaledb.materialized_only = false);

ALTER TABLE telemetry SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'device_id, metric',
    timescaledb.compress_orderby = 'time DESC, seq'
);
ALTER TABLE detections SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'device_id',
    timescaledb.compress_orderby = 'time DESC'
);
