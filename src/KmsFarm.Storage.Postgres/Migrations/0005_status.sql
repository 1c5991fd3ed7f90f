-- KmsFarm farm store, schema version 5: what the status API reads (GET /api/status).
-- request_totals holds the farm's cumulative request counters, as a KMS host shows them in `slmgr /dlv` (requests
-- received, failed, by the client's license status), per product group (-1: an application id of no product group).
-- A statement trigger on the history keeps it: one upsert per (group, license status, failed) in each history insert, so
-- a status call reads a few rows instead of counting the history, and rows that history retention deletes later stay
-- counted. failed: false activated (result 0), true refused (result = the HRESULT sent). Contention: activated rows of a
-- group are written by the group's single writer only; refused rows by any node, and refusals are rare.
CREATE TABLE request_totals (
    group_id        smallint NOT NULL,
    license_status  bigint   NOT NULL,
    failed          boolean  NOT NULL,
    requests        bigint   NOT NULL,
    PRIMARY KEY (group_id, license_status, failed)
);

CREATE FUNCTION request_totals_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO request_totals (group_id, license_status, failed, requests)
    SELECT coalesce(group_id, -1), license_status, result <> 0, count(*)
    FROM new_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (group_id, license_status, failed) DO UPDATE SET requests = request_totals.requests + excluded.requests;
    RETURN NULL;
END
$$;

-- The trigger first: creating it locks the history against inserts until this migration commits, so the count below
-- misses no row a running node writes meanwhile, and counts none twice.
CREATE TRIGGER activation_history_totals AFTER INSERT ON activation_history
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION request_totals_add();

INSERT INTO request_totals (group_id, license_status, failed, requests)
SELECT coalesce(group_id, -1), license_status, result <> 0, count(*) FROM activation_history GROUP BY 1, 2, 3;
