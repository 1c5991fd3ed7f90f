-- KmsFarm farm store, schema version 2: a fingerprint of each group's cache on its row.
-- entry_count and fingerprint describe the set of CMIDs in ledger_entry for the group: the number of entries and the XOR of
-- a 64-bit hash of each CMID (the first 8 bytes of SHA-256 over the 16 RFC 4122 bytes of the uuid, read big-endian as a
-- signed bigint). Every batch writes both in the statement that bumps version. A node that finds its copy stale reads only
-- the entries written since its copy (seq > its last_seq), trims what others removed and uses the copy only if its count
-- and fingerprint equal these; otherwise it reloads the whole cache.
ALTER TABLE ledger_group
    ADD COLUMN entry_count  integer NOT NULL DEFAULT 0,
    ADD COLUMN fingerprint  bigint  NOT NULL DEFAULT 0;

UPDATE ledger_group g
SET entry_count = s.entry_count, fingerprint = s.fingerprint
FROM (SELECT group_id, count(*)::integer AS entry_count,
             bit_xor(('x' || encode(substr(sha256(uuid_send(cmid)), 1, 8), 'hex'))::bit(64)::bigint) AS fingerprint
      FROM ledger_entry GROUP BY group_id) AS s
WHERE g.group_id = s.group_id;
