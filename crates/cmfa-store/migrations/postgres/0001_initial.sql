-- The PostgreSQL schema: the same tables, keys and JSON `data` columns as the SQLite one
-- (migrations/sqlite/0001..0003), in one step because this backend starts here.
--
-- Keys and searchable values use the "C" collation so that ordering (pagination) and the
-- prefix ranges of ListUsers filters compare bytes, exactly as SQLite does, whatever the
-- database's default collation.

-- User pools. `data` is the domain's UserPool as JSON; `version` guards concurrent writes.
CREATE TABLE pools (
    id      text COLLATE "C" PRIMARY KEY,
    version bigint NOT NULL,
    data    text NOT NULL
);

-- App clients. Client ids are unique across pools, as AWS's are.
CREATE TABLE clients (
    id      text COLLATE "C" PRIMARY KEY,
    pool_id text COLLATE "C" NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    version bigint NOT NULL,
    data    text NOT NULL
);
CREATE INDEX clients_by_pool ON clients (pool_id, id);

CREATE TABLE signing_keys (
    pool_id text COLLATE "C" PRIMARY KEY REFERENCES pools (id) ON DELETE CASCADE,
    data    text NOT NULL
);

CREATE TABLE users (
    pool_id text COLLATE "C" NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    key     text COLLATE "C" NOT NULL,
    version bigint NOT NULL,
    data    text NOT NULL,
    PRIMARY KEY (pool_id, key)
);

-- Email / phone / preferred_username values that sign a user in.
CREATE TABLE user_aliases (
    pool_id text COLLATE "C" NOT NULL,
    kind    text COLLATE "C" NOT NULL,
    value   text COLLATE "C" NOT NULL,
    key     text COLLATE "C" NOT NULL,
    PRIMARY KEY (pool_id, kind, value),
    FOREIGN KEY (pool_id, key) REFERENCES users (pool_id, key) ON DELETE CASCADE
);
CREATE INDEX user_aliases_by_user ON user_aliases (pool_id, key);

-- Searchable attributes for ListUsers filters (one row per attribute).
CREATE TABLE user_attrs (
    pool_id text COLLATE "C" NOT NULL,
    key     text COLLATE "C" NOT NULL,
    name    text COLLATE "C" NOT NULL,
    value   text COLLATE "C" NOT NULL,
    PRIMARY KEY (pool_id, key, name),
    FOREIGN KEY (pool_id, key) REFERENCES users (pool_id, key) ON DELETE CASCADE
);
CREATE INDEX user_attrs_lookup ON user_attrs (pool_id, name, value, key);

-- Sign-in steps; `used` flips once (UPDATE ... WHERE NOT used), whichever process answers.
CREATE TABLE sessions (
    id         text COLLATE "C" PRIMARY KEY,
    pool_id    text COLLATE "C" NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    expires_at double precision NOT NULL,
    used       boolean NOT NULL DEFAULT false,
    data       text NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE refresh_tokens (
    hash       text COLLATE "C" PRIMARY KEY,
    pool_id    text COLLATE "C" NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    user_key   text COLLATE "C" NOT NULL,
    origin_jti text COLLATE "C" NOT NULL,
    expires_at double precision NOT NULL,
    data       text NOT NULL
);
CREATE INDEX refresh_by_origin ON refresh_tokens (origin_jti);
CREATE INDEX refresh_by_user ON refresh_tokens (pool_id, user_key);

CREATE TABLE revoked_origins (
    origin_jti text COLLATE "C" PRIMARY KEY,
    pool_id    text COLLATE "C" NOT NULL,
    revoked_at double precision NOT NULL
);

-- Messages to deliver; workers in any process claim them with FOR UPDATE SKIP LOCKED.
CREATE TABLE outbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pool_id      text COLLATE "C" NOT NULL,
    username     text COLLATE "C" NOT NULL,
    destination  text COLLATE "C" NOT NULL,
    created_at   double precision NOT NULL,
    delivered_at double precision,
    attempts     integer NOT NULL DEFAULT 0,
    next_at      double precision NOT NULL,
    data         text NOT NULL
);
CREATE INDEX outbox_by_user ON outbox (pool_id, username, id);
CREATE INDEX outbox_by_destination ON outbox (destination, id);
CREATE INDEX outbox_due ON outbox (next_at, id) WHERE delivered_at IS NULL;
