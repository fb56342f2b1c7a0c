-- TimescaleDB only: telemetry and detections become hypertables partitioned by time.
CREATE EXTENSION IF NOT EXISTS timescaledb;
SELECT create_hypertable('telemetry', 'time', migrate_data => true, if_not_exists => true);
SELECT create_hypertable('detections', 'time', migrate_data => true, if_not_exists => true);
