-- KmsFarm embedded store, schema version 5: history retention.
-- Old history rows are deleted in small batches by age (activation_history_time, created in version 4, makes each batch
-- cheap). maintenance_run holds when each background task last started, so a run is claimed at most once per interval.

CREATE TABLE maintenance_run (
    task                    TEXT    PRIMARY KEY,
    last_started_utc_ticks  INTEGER NOT NULL,
    runs                    INTEGER NOT NULL
) STRICT;
