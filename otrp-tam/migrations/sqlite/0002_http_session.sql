-- otrp-tam schema v2: HTTP sessions kept in the database (issue 16), so
-- that any front end continues any session (`otrp tam serve` on a shared
-- database). One row per session, keyed by its cookie value; a step locks
-- the row (locked_until, ms) and saves conditionally on step. An ended
-- session stays as a tombstone (ended = 1, state empty) until expires_at,
-- answering duplicates of its last answer. Expired rows are deleted by the
-- front ends' reapers (the expiry index); the per-client cap counts a
-- peer's rows (the peer index).
CREATE TABLE http_session (
    id           TEXT PRIMARY KEY,
    peer         TEXT NOT NULL,
    step         BIGINT NOT NULL,
    bound        BIGINT NOT NULL,
    ended        BIGINT NOT NULL,
    state        BLOB NOT NULL,
    last_digest  BLOB,
    last_status  BIGINT,
    last_body    BLOB,
    opened_at    BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    locked_until BIGINT NOT NULL
);
CREATE INDEX http_session_expiry ON http_session (expires_at);
CREATE INDEX http_session_peer ON http_session (peer, opened_at);
