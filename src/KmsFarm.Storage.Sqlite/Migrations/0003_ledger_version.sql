-- KmsFarm embedded store, schema version 3: one writer per product group, fenced by a version.
-- Each product group's cache now has a single writer (the product-group grain), which loads the cache once and commits
-- every batch naming the version it loaded: the commit advances version by one only if the row is still at that version,
-- so a second writer of the same group (which Orleans can briefly run during a membership change) writes nothing.
-- Farm membership comes from Orleans now, so the node registry of version 2 goes.
ALTER TABLE ledger ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

DROP TABLE node;
