-- History retention: old activation_history rows are deleted in small batches by age (activation_history_time indexes
-- them). maintenance_run holds when each farm-wide background task last started; a node claims a run with one
-- conditional upsert, so across the farm a run starts at most once per interval.
CREATE TABLE maintenance_run (
    task          text        PRIMARY KEY,
    last_started  timestamptz NOT NULL,
    runs          bigint      NOT NULL
);
