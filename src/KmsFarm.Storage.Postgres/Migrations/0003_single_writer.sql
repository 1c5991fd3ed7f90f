-- KmsFarm farm store, schema version 3: one writer per product group, fenced by the group's version.
-- Each product group's cache now has a single writer (the product-group grain), which loads the cache once, keeps it in
-- memory and commits every batch naming the version it loaded. ledger_advance() is the fence: the first statement of every
-- ledger transaction, it moves the group to the next version only if it is still at the expected one, and otherwise raises
-- SQLSTATE KF001, which aborts the transaction before anything else is written. Orleans can briefly run two activations of
-- one grain during a membership change; the second one's commit fails here and it reloads.
-- The row lock design's catch-up columns (last_seq, entry_count, fingerprint) and the home-made node registry go: the
-- writer never re-reads a cache it holds, and farm membership comes from the Orleans membership table.
ALTER TABLE ledger_group
    DROP COLUMN last_seq,
    DROP COLUMN entry_count,
    DROP COLUMN fingerprint;

DROP TABLE node;

CREATE FUNCTION ledger_advance(p_group smallint, p_expected bigint, p_capacity integer) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ledger_group SET version = version + 1, capacity = p_capacity
    WHERE group_id = p_group AND version = p_expected;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the ledger of product group % is not at version %', p_group, p_expected USING ERRCODE = 'KF001';
    END IF;
    RETURN p_expected + 1;
END
$$;
