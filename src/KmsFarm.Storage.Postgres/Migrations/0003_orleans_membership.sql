-- KmsFarm farm store, schema version 3: cluster membership for the Orleans silos (one silo per node).
-- Silos find each other through Microsoft.Orleans.Clustering.AdoNet with invariant "Npgsql". That provider keeps no SQL of
-- its own: at start it runs SELECT QueryKey, QueryText FROM OrleansQuery, refuses to start unless every key it knows is
-- there, and later runs each text with named parameters (@DeploymentId, @Address, …). This script creates that table, the
-- two membership tables and the nine membership queries. Membership only: no grain state, reminders or streams.
--
-- What the provider binds (all input parameters): DeploymentId (text: Orleans' ClusterId), Address (text: the silo's IP),
-- Port, Generation, Status, ProxyPort, Version (int4), SiloName, HostName, SuspectTimes (text, may be null), StartTime,
-- IAmAliveTime (UTC timestamps). What it reads back, by column name: Address, Port, Generation, SiloName, HostName, Status,
-- ProxyPort, SuspectTimes, StartTime, IAmAliveTime and Version; the insert and update queries return one row with one
-- boolean column, true when the write happened. Status is Orleans' SiloStatus: 1 Created, 2 Joining, 3 Active,
-- 4 ShuttingDown, 5 Stopping, 6 Dead.

-- The provider's name, unquoted in its start-up query, so PostgreSQL reads it as orleansquery (querykey, querytext). Other
-- Orleans providers (reminders, grain state) add their own keys to this table if the farm ever uses them.
CREATE TABLE OrleansQuery (
    QueryKey   text PRIMARY KEY,
    QueryText  text NOT NULL
);

-- One row per Orleans cluster. version is the membership table's etag: every change to a silo row (a silo joins, changes
-- status, or is voted dead) must name the version it was decided on and adds one to it, in the same statement, so two
-- silos can never both write from the same view of the cluster. I-am-alive heartbeats do not change it.
CREATE TABLE orleans_membership_version (
    cluster_id  text        PRIMARY KEY,
    version     integer     NOT NULL DEFAULT 0,
    changed     timestamptz NOT NULL DEFAULT now()
);

-- One row per silo incarnation: a restarted silo on the same address and port comes back with a new generation (and a
-- new row); the old row stays until Orleans cleans up defunct entries. proxy_port is the silo's gateway port, 0 when
-- it runs without a gateway. suspect_times holds the death votes as 'address:port@generation,yyyy-MM-dd HH:mm:ss.fff GMT'
-- items joined by '|' (Orleans writes and parses it; this schema only reads the times when it cleans up).
CREATE TABLE orleans_membership (
    cluster_id       text        NOT NULL REFERENCES orleans_membership_version (cluster_id) ON DELETE CASCADE,
    address          text        NOT NULL,
    port             integer     NOT NULL,
    generation       integer     NOT NULL,
    silo_name        text        NOT NULL,
    host_name        text        NOT NULL,
    status           integer     NOT NULL,
    proxy_port       integer     NOT NULL DEFAULT 0,
    suspect_times    text        NULL,
    start_time       timestamptz NOT NULL,
    i_am_alive_time  timestamptz NOT NULL,
    PRIMARY KEY (cluster_id, address, port, generation)
);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

-- Creates the cluster's version row unless it exists. Every silo runs it at start; true only for the first.
('InsertMembershipVersionKey', $q$
WITH created AS (
    INSERT INTO orleans_membership_version (cluster_id) VALUES (@DeploymentId)
    ON CONFLICT (cluster_id) DO NOTHING
    RETURNING 1)
SELECT EXISTS (SELECT 1 FROM created)
$q$),

-- Every silo of the cluster, with the version read in the same snapshot. The left join keeps one row (members' columns
-- null) for a cluster without silos, because the provider takes the version from the first row.
('MembershipReadAllKey', $q$
SELECT v.version AS "Version", m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
       m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
       m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime"
FROM orleans_membership_version v
LEFT JOIN orleans_membership m ON m.cluster_id = v.cluster_id
WHERE v.cluster_id = @DeploymentId
$q$),

-- One silo and the version, as above: one row with null member columns when the silo has no row.
('MembershipReadRowKey', $q$
SELECT v.version AS "Version", m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
       m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
       m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime"
FROM orleans_membership_version v
LEFT JOIN orleans_membership m
       ON m.cluster_id = v.cluster_id AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
WHERE v.cluster_id = @DeploymentId
$q$),

-- A silo adds its own row, only if the version is still the one it read and the row is new; both or neither.
-- The version row is updated first: its row lock makes a concurrent writer with the same expected version wait and then
-- find the version moved on (no row updated, so nothing inserted, answer false).
('InsertMembershipKey', $q$
WITH bumped AS (
    UPDATE orleans_membership_version
    SET version = version + 1, changed = now()
    WHERE cluster_id = @DeploymentId AND version = @Version
      AND NOT EXISTS (SELECT 1 FROM orleans_membership
                      WHERE cluster_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation)
    RETURNING cluster_id),
inserted AS (
    INSERT INTO orleans_membership (cluster_id, address, port, generation, silo_name, host_name, status, proxy_port,
                                    start_time, i_am_alive_time)
    SELECT cluster_id, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort, @StartTime, @IAmAliveTime
    FROM bumped
    RETURNING 1)
SELECT EXISTS (SELECT 1 FROM inserted)
$q$),

-- Status changes and death votes: the same version check and bump as above, for an existing row.
('UpdateMembershipKey', $q$
WITH bumped AS (
    UPDATE orleans_membership_version
    SET version = version + 1, changed = now()
    WHERE cluster_id = @DeploymentId AND version = @Version
      AND EXISTS (SELECT 1 FROM orleans_membership
                  WHERE cluster_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation)
    RETURNING cluster_id),
updated AS (
    UPDATE orleans_membership m
    SET status = @Status, suspect_times = @SuspectTimes, i_am_alive_time = @IAmAliveTime
    FROM bumped b
    WHERE m.cluster_id = b.cluster_id AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
    RETURNING 1)
SELECT EXISTS (SELECT 1 FROM updated)
$q$),

-- The heartbeat: diagnostic, and how others tell a stale row. Not a membership change, so no version check or bump.
('UpdateIAmAlivetimeKey', $q$
UPDATE orleans_membership
SET i_am_alive_time = @IAmAliveTime
WHERE cluster_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
$q$),

-- Silos with a gateway, for Orleans clients (@Status is Active). Nodes run without gateways, so this is empty for them.
('GatewaysQueryKey', $q$
SELECT address AS "Address", proxy_port AS "ProxyPort", generation AS "Generation"
FROM orleans_membership
WHERE cluster_id = @DeploymentId AND status = @Status AND proxy_port > 0
$q$),

-- Removes rows of silos that are not Active and whose last sign of life is older than @IAmAliveTime. The last sign is the
-- latest of start, heartbeat and death votes (a silo declared dead a minute ago is recent even if its heartbeat is old);
-- a vote whose time does not look like Orleans' format is ignored rather than failing the cleanup.
('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM orleans_membership m
WHERE m.cluster_id = @DeploymentId AND m.status <> 3
  AND greatest(m.start_time, m.i_am_alive_time,
               (SELECT max(substr(vote, strpos(vote, ',') + 1)::timestamptz)
                FROM unnest(string_to_array(m.suspect_times, '|')) AS vote
                WHERE vote ~ ',[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)? GMT$')) < @IAmAliveTime
$q$),

-- Forgets a whole cluster (the version row; its silo rows go with it through the cascade).
('DeleteMembershipTableEntriesKey', $q$
DELETE FROM orleans_membership_version
WHERE cluster_id = @DeploymentId
$q$);
