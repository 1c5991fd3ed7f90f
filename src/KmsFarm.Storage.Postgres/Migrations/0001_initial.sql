-- KmsFarm farm store, schema version 1.
-- Product groups are the ProductGroup enum values (0 Windows, 1 Office 2010, 2 Office 2013+).
-- Unsigned 32-bit protocol values (HRESULTs, license status) are stored as bigint.

-- The farm identity: one row, plus one row per CSVLK. Written once by the first node to start.
CREATE TABLE farm_identity (
    id          smallint    PRIMARY KEY CHECK (id = 1),
    host_build  integer     NOT NULL,
    lcid        integer     NOT NULL,
    created     timestamptz NOT NULL
);

CREATE TABLE farm_csvlk (
    csvlk_id     text     PRIMARY KEY,
    identity_id  smallint NOT NULL DEFAULT 1 REFERENCES farm_identity (id),
    position     integer  NOT NULL,
    epid         text     NOT NULL,
    hwid         bigint   NOT NULL  -- HardwareId.Value (the 8 wire bytes read little-endian) as a signed 64-bit value
);

-- One CMID cache per product group. Its row is the group's lock: every batch takes it FOR UPDATE, so changes to a
-- group's cache are serialized across the farm. version grows by one per committed batch; a node may keep the cache in
-- memory between batches only while the row still shows the version it wrote. last_seq is the largest seq handed out.
CREATE TABLE ledger_group (
    group_id  smallint PRIMARY KEY,
    capacity  integer  NOT NULL DEFAULT 0 CHECK (capacity BETWEEN 0 AND 2000),
    version   bigint   NOT NULL DEFAULT 0,
    last_seq  bigint   NOT NULL DEFAULT 0
);

INSERT INTO ledger_group (group_id) VALUES (0), (1), (2);

-- seq orders the cache oldest-first: a renewal moves a CMID to the back, so it gets a new, larger seq.
-- last_seen alone cannot order it (one batch shares one time; node clocks differ).
CREATE TABLE ledger_entry (
    group_id   smallint    NOT NULL REFERENCES ledger_group (group_id),
    cmid       uuid        NOT NULL,
    last_seen  timestamptz NOT NULL,
    seq        bigint      NOT NULL,
    PRIMARY KEY (group_id, cmid)
);

CREATE INDEX ledger_entry_last_seen ON ledger_entry (group_id, last_seen);
CREATE UNIQUE INDEX ledger_entry_order ON ledger_entry (group_id, seq);

-- What the farm knows about each client machine per product group (counted activations only).
CREATE TABLE client (
    group_id          smallint    NOT NULL,
    cmid              uuid        NOT NULL,
    machine_name      text        NOT NULL,
    application_id    uuid        NOT NULL,
    sku_id            uuid        NOT NULL,
    kms_counted_id    uuid        NOT NULL,
    license_status    bigint      NOT NULL,
    is_client_vm      boolean     NOT NULL,
    protocol_version  integer     NOT NULL,
    first_seen        timestamptz NOT NULL,
    last_seen         timestamptz NOT NULL,
    last_address      text        NOT NULL,
    last_node         text        NOT NULL,
    activation_count  bigint      NOT NULL,
    PRIMARY KEY (group_id, cmid)
);

CREATE INDEX client_last_seen ON client (group_id, last_seen);

-- Append-only: one row per request answered, activated (result 0) or refused (result = HRESULT sent).
CREATE TABLE activation_history (
    id                     bigserial   PRIMARY KEY,
    time                   timestamptz NOT NULL,
    node                   text        NOT NULL,
    client_address         text        NOT NULL,
    protocol_version       integer     NOT NULL,
    group_id               smallint    NULL,
    application_id         uuid        NOT NULL,
    sku_id                 uuid        NOT NULL,
    kms_counted_id         uuid        NOT NULL,
    cmid                   uuid        NOT NULL,
    machine_name           text        NOT NULL,
    license_status         bigint      NOT NULL,
    is_client_vm           boolean     NOT NULL,
    required_client_count  integer     NOT NULL,
    result                 bigint      NOT NULL,
    current_count          integer     NULL,
    epid                   text        NULL
);

CREATE INDEX activation_history_cmid ON activation_history (cmid);
CREATE INDEX activation_history_time ON activation_history (time);

-- The nodes of the farm, for operators. Heartbeats use the database clock, so "gone" means the same on every node.
CREATE TABLE node (
    name            text        PRIMARY KEY,
    endpoints       text[]      NOT NULL,
    version         text        NOT NULL,
    started         timestamptz NOT NULL,
    last_heartbeat  timestamptz NOT NULL
);
