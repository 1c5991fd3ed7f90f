-- KmsFarm embedded store, schema version 1.
-- Times are UTC ticks (100 ns since 0001-01-01), exact for DateTimeOffset and for the 30-day expiry comparison.
--   For a readable time in the sqlite3 shell: datetime((t - 621355968000000000) / 10000000, 'unixepoch').
-- GUIDs are lower-case text in the 8-4-4-4-12 form; product groups are the ProductGroup enum values
--   (0 Windows, 1 Office 2010, 2 Office 2013+).

-- The farm identity: one row, plus one row per CSVLK.
CREATE TABLE farm_identity (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    host_build         INTEGER NOT NULL,
    lcid               INTEGER NOT NULL,
    created_utc_ticks  INTEGER NOT NULL
) STRICT;

CREATE TABLE farm_csvlk (
    csvlk_id     TEXT    PRIMARY KEY,
    identity_id  INTEGER NOT NULL DEFAULT 1 REFERENCES farm_identity (id),
    position     INTEGER NOT NULL,
    epid         TEXT    NOT NULL,
    hwid         TEXT    NOT NULL  -- 16 hex digits in wire order, as vlmcs prints it
) STRICT;

-- One CMID cache per product group. capacity = 2 x the largest N_Policy seen, never shrinks.
CREATE TABLE ledger (
    group_id  INTEGER PRIMARY KEY,
    capacity  INTEGER NOT NULL CHECK (capacity BETWEEN 0 AND 2000)
) STRICT;

-- seq orders the cache oldest-first: a renewal moves a CMID to the back, so it gets a new, larger seq.
-- last_seen alone cannot order it (one batch shares one time; clocks can step back).
CREATE TABLE ledger_entry (
    group_id             INTEGER NOT NULL REFERENCES ledger (group_id),
    cmid                 TEXT    NOT NULL,
    last_seen_utc_ticks  INTEGER NOT NULL,
    seq                  INTEGER NOT NULL,
    PRIMARY KEY (group_id, cmid)
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX ledger_entry_order ON ledger_entry (group_id, seq);

-- What the farm knows about each client machine per product group (counted activations only).
CREATE TABLE client (
    group_id              INTEGER NOT NULL,
    cmid                  TEXT    NOT NULL,
    machine_name          TEXT    NOT NULL,
    sku_id                TEXT    NOT NULL,
    kms_counted_id        TEXT    NOT NULL,
    license_status        INTEGER NOT NULL,
    is_client_vm          INTEGER NOT NULL,
    first_seen_utc_ticks  INTEGER NOT NULL,
    last_seen_utc_ticks   INTEGER NOT NULL,
    last_address          TEXT    NOT NULL,
    activation_count      INTEGER NOT NULL,
    PRIMARY KEY (cmid, group_id)
) STRICT;

CREATE INDEX client_last_seen ON client (group_id, last_seen_utc_ticks);

-- Append-only: one row per request answered, activated (result 0) or refused (result = HRESULT sent).
CREATE TABLE activation_history (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    time_utc_ticks         INTEGER NOT NULL,
    node                   TEXT    NOT NULL,
    client_address         TEXT    NOT NULL,
    protocol_version       INTEGER NOT NULL,
    group_id               INTEGER NULL,
    application_id         TEXT    NOT NULL,
    sku_id                 TEXT    NOT NULL,
    kms_counted_id         TEXT    NOT NULL,
    cmid                   TEXT    NOT NULL,
    machine_name           TEXT    NOT NULL,
    license_status         INTEGER NOT NULL,
    is_client_vm           INTEGER NOT NULL,
    required_client_count  INTEGER NOT NULL,
    result                 INTEGER NOT NULL,
    current_count          INTEGER NULL,
    epid                   TEXT    NULL
) STRICT;

CREATE INDEX activation_history_cmid ON activation_history (cmid);
