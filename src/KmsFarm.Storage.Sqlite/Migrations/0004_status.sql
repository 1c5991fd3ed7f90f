-- KmsFarm embedded store, schema version 4: what the status API reads (GET /api/status, /api/activations).
-- request_totals holds the cumulative request counters a KMS host shows in `slmgr /dlv` (requests received, failed, by the
-- client's license status), per product group (-1: an application id of no product group). A trigger on the history keeps
-- it, so a status call reads a few rows instead of counting the history, and rows that history retention deletes later
-- stay counted. failed: 0 activated (result 0), 1 refused (result = the HRESULT sent). Rows already in the history are
-- counted once here.
CREATE TABLE request_totals (
    group_id        INTEGER NOT NULL,
    license_status  INTEGER NOT NULL,
    failed          INTEGER NOT NULL CHECK (failed IN (0, 1)),
    requests        INTEGER NOT NULL,
    PRIMARY KEY (group_id, license_status, failed)
) STRICT, WITHOUT ROWID;

INSERT INTO request_totals (group_id, license_status, failed, requests)
SELECT coalesce(group_id, -1), license_status, result <> 0, count(*) FROM activation_history GROUP BY 1, 2, 3;

CREATE TRIGGER activation_history_totals AFTER INSERT ON activation_history
BEGIN
    INSERT INTO request_totals (group_id, license_status, failed, requests)
    VALUES (coalesce(NEW.group_id, -1), NEW.license_status, NEW.result <> 0, 1)
    ON CONFLICT (group_id, license_status, failed) DO UPDATE SET requests = requests + 1;
END;

-- /api/activations filters the history by time (newest first); PostgreSQL has had this index since version 1.
CREATE INDEX activation_history_time ON activation_history (time_utc_ticks);
