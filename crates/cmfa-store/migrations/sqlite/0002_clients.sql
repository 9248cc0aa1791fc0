-- App clients. Client ids are unique across pools, as AWS's are.
CREATE TABLE clients (
    id      TEXT PRIMARY KEY NOT NULL,
    pool_id TEXT NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    data    TEXT NOT NULL
) STRICT;
CREATE INDEX clients_by_pool ON clients (pool_id, id);
