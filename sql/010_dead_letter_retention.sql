-- The retention job deletes dead letters by age (ingest/retention.py).
CREATE INDEX dead_letters_received_idx ON dead_letters (received_at);
