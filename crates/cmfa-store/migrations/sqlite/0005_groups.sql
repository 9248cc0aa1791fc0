-- User pool groups and their members (see cmfa_core::group for the design).
CREATE TABLE groups (
    pool_id TEXT NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    name    TEXT NOT NULL,
    data    TEXT NOT NULL,
    PRIMARY KEY (pool_id, name)
) STRICT, WITHOUT ROWID;

-- One row per membership, in (group, user key) order for ListUsersInGroup; it goes with its
-- group, its user or its pool.
CREATE TABLE group_members (
    pool_id TEXT NOT NULL,
    name    TEXT NOT NULL,
    key     TEXT NOT NULL,
    PRIMARY KEY (pool_id, name, key),
    FOREIGN KEY (pool_id, name) REFERENCES groups (pool_id, name) ON DELETE CASCADE,
    FOREIGN KEY (pool_id, key) REFERENCES users (pool_id, key) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
-- The user side of the cascade.
CREATE INDEX group_members_by_user ON group_members (pool_id, key);

-- The names of the user's groups (a JSON array, name order), read with the user at sign-in;
-- user writes never touch it.
ALTER TABLE users ADD COLUMN groups TEXT NOT NULL DEFAULT '[]';
