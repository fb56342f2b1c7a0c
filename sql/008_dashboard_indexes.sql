-- The big screen on a large site (500 grids, 5,000 devices, 100,000 alerts of history).

-- The camera wall reads the newest alerts that have a snapshot. Without this index the
-- planner walks alerts_recent_idx through the whole history when few alerts have one
-- (EXPLAIN ANALYZE on the large site: 100,250 rows removed by the filter, 83 ms; with it
-- an index scan of the rows it returns).
CREATE INDEX alerts_snapshot_recent_idx ON alerts (first_seen DESC)
    WHERE snapshot_path IS NOT NULL;

-- The map's polygons and device positions are read once and kept by the dashboard; this
-- counter tells it when they changed. Any statement that adds, removes or moves a grid or a
-- device bumps it (status and last_seen writes do not touch these columns, so they don't).
CREATE TABLE map_layout_version (
    one      boolean PRIMARY KEY DEFAULT true CHECK (one),
    version  bigint NOT NULL
);
INSERT INTO map_layout_version (one, version) VALUES (true, 1);

CREATE FUNCTION bump_map_layout_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE map_layout_version SET version = version + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER areas_map_layout_changed
    AFTER INSERT OR DELETE OR TRUNCATE
       OR UPDATE OF parent_id, level, name, geometry, center_lat, center_lon
    ON areas FOR EACH STATEMENT EXECUTE FUNCTION bump_map_layout_version();

CREATE TRIGGER devices_map_layout_changed
    AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF grid_id, kind, name, lat, lon
    ON devices FOR EACH STATEMENT EXECUTE FUNCTION bump_map_layout_version();
