-- Commits are announced by the writer right after they land (backend/src/live.rs, `announce`), in a
-- transaction of their own that does not wait for the disk. A NOTIFY from a trigger ran inside the
-- writing transaction, where Postgres holds its notification lock across the WAL flush: every commit
-- in the cluster queued behind every other (about 1,000 commits/s on the development machine).
DROP TRIGGER events_notify ON events;
DROP FUNCTION notify_event();
