-- Expired sessions are deleted oldest first (by rowid, which is creation order), so the index on
-- expires_at is not needed; dropping it saves a B-tree write per sign-in step.
DROP INDEX sessions_by_expiry;
