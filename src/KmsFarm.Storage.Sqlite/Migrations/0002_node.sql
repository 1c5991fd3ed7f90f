-- KmsFarm embedded store, schema version 2: the node registry.
-- The node that owns the file lists itself here (name, where it listens, its build, when it started, its last heartbeat)
-- so the status API reads one registry whatever the store. Purely informational: nothing here is needed to serve.
-- endpoints is a JSON array of strings, e.g. ["tcp://127.0.0.1:1688","http://127.0.0.1:8688"] (json_each in the shell).
CREATE TABLE node (
    name                      TEXT    PRIMARY KEY,
    endpoints                 TEXT    NOT NULL,
    version                   TEXT    NOT NULL,
    started_utc_ticks         INTEGER NOT NULL,
    last_heartbeat_utc_ticks  INTEGER NOT NULL
) STRICT;
