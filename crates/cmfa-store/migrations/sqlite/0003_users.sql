-- Users, their lookup keys, sign-in state, tokens and the outbox.
CREATE TABLE signing_keys (
    pool_id TEXT PRIMARY KEY NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    data    TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    pool_id TEXT NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    key     TEXT NOT NULL,
    version INTEGER NOT NULL,
    data    TEXT NOT NULL,
    PRIMARY KEY (pool_id, key)
) STRICT, WITHOUT ROWID;

-- Email / phone / preferred_username values that sign a user in.
CREATE TABLE user_aliases (
    pool_id TEXT NOT NULL,
    kind    TEXT NOT NULL,
    value   TEXT NOT NULL,
    key     TEXT NOT NULL,
    PRIMARY KEY (pool_id, kind, value),
    FOREIGN KEY (pool_id, key) REFERENCES users (pool_id, key) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX user_aliases_by_user ON user_aliases (pool_id, key);

-- Searchable attributes for ListUsers filters (one row per attribute).
CREATE TABLE user_attrs (
    pool_id TEXT NOT NULL,
    key     TEXT NOT NULL,
    name    TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (pool_id, key, name),
    FOREIGN KEY (pool_id, key) REFERENCES users (pool_id, key) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX user_attrs_lookup ON user_attrs (pool_id, name, value, key);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY NOT NULL,
    pool_id    TEXT NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    expires_at REAL NOT NULL,
    used       INTEGER NOT NULL DEFAULT 0,
    data       TEXT NOT NULL
) STRICT;
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE refresh_tokens (
    hash       TEXT PRIMARY KEY NOT NULL,
    pool_id    TEXT NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    user_key   TEXT NOT NULL,
    origin_jti TEXT NOT NULL,
    expires_at REAL NOT NULL,
    data       TEXT NOT NULL
) STRICT;
CREATE INDEX refresh_by_origin ON refresh_tokens (origin_jti);
CREATE INDEX refresh_by_user ON refresh_tokens (pool_id, user_key);

CREATE TABLE revoked_origins (
    origin_jti TEXT PRIMARY KEY NOT NULL,
    pool_id    TEXT NOT NULL,
    revoked_at REAL NOT NULL
) STRICT;

CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    pool_id      TEXT NOT NULL,
    username     TEXT NOT NULL,
    destination  TEXT NOT NULL,
    created_at   REAL NOT NULL,
    delivered_at REAL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      REAL NOT NULL,
    data         TEXT NOT NULL
) STRICT;
CREATE INDEX outbox_by_user ON outbox (pool_id, username, id);
CREATE INDEX outbox_by_destination ON outbox (destination, id);
CREATE INDEX outbox_due ON outbox (delivered_at, next_at);
