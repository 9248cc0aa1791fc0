-- User pool groups and their members, as migrations/sqlite/0005_groups.sql (see
-- cmfa_core::group for the design).
CREATE TABLE groups (
    pool_id text COLLATE "C" NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    name    text COLLATE "C" NOT NULL,
    data    text NOT NULL,
    PRIMARY KEY (pool_id, name)
);

-- One row per membership, in (group, user key) order for ListUsersInGroup; it goes with its
-- group, its user or its pool.
CREATE TABLE group_members (
    pool_id text COLLATE "C" NOT NULL,
    name    text COLLATE "C" NOT NULL,
    key     text COLLATE "C" NOT NULL,
    PRIMARY KEY (pool_id, name, key),
    FOREIGN KEY (pool_id, name) REFERENCES groups (pool_id, name) ON DELETE CASCADE,
    FOREIGN KEY (pool_id, key) REFERENCES users (pool_id, key) ON DELETE CASCADE
);
CREATE INDEX group_members_by_user ON group_members (pool_id, key);

-- The names of the user's groups (a JSON array, name order), read with the user at sign-in;
-- user writes never touch it.
ALTER TABLE users ADD COLUMN groups text NOT NULL DEFAULT '[]';
