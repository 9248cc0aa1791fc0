-- User pools. `data` is the domain's UserPool as JSON; `version` guards concurrent writes.
CREATE TABLE pools (
    id      TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL,
    data    TEXT NOT NULL
) STRICT;
