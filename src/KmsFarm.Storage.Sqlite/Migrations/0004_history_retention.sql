-- KmsFarm embedded store, schema version 4: history retention.
-- Old history rows are deleted in small batches by age: an index on the time makes each batch cheap. maintenance_run
-- holds when each background task last started, so a run is claimed at most once per interval.
CREATE INDEX activation_history_time ON activation_history (time_utc_ticks);

CREATE TABLE maintenance_run (
    task                    TEXT    PRIMARY KEY,
    last_started_utc_ticks  INTEGER NOT NULL,
    runs                    INTEGER NOT NULL
) STRICT;
