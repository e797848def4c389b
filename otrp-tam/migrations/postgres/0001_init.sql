-- otrp-tam schema v1 (PostgreSQL). The SQLite file of the same number is
-- the same schema with SQLite's types (BLOB for BYTEA).

-- Service Providers: the certificate (DER) that signs their TA images, the
-- spcert of CreateSD; pinned at the SP's first catalog upload.
CREATE TABLE sp (
    spid     TEXT PRIMARY KEY,
    cert     BYTEA NOT NULL,
    added_at BIGINT NOT NULL
);

-- Trusted SP roots (DER): catalog uploads must chain to one of them.
CREATE TABLE sp_anchor (
    sha256   TEXT PRIMARY KEY,
    cert     BYTEA NOT NULL,
    added_at BIGINT NOT NULL
);

-- The TA catalog: SP-signed images, verified at upload.
CREATE TABLE ta_image (
    taid     TEXT NOT NULL,
    version  BIGINT NOT NULL,
    spid     TEXT NOT NULL REFERENCES sp (spid),
    taname   TEXT,
    sha256   TEXT NOT NULL,
    image    BYTEA NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (taid, version)
);

-- The desired state: one entry per TA. version NULL = latest in the
-- catalog; devices = 'all' or a JSON array of dids.
CREATE TABLE policy (
    taid       TEXT PRIMARY KEY,
    spid       TEXT NOT NULL,
    sdname     TEXT NOT NULL,
    version    BIGINT,
    devices    TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The device registry: one row per TEE (did = base64url SHA-256 of its
-- certificate). state is the TamSession DeviceState blob; inventory the
-- JSON of its SDs and TAs; revision grows with every step, and every step
-- is saved conditionally on it. claim is the command a session is sending
-- (JSON), held by claim_session until claim_until (ms).
CREATE TABLE device (
    did           TEXT PRIMARY KEY,
    tee           TEXT NOT NULL,
    revision      BIGINT NOT NULL,
    state         BYTEA NOT NULL,
    inventory     TEXT NOT NULL,
    first_contact BIGINT NOT NULL,
    last_contact  BIGINT NOT NULL,
    last_error    TEXT,
    claim         TEXT,
    claim_session TEXT,
    claim_until   BIGINT
);

-- Anti-rollback: the highest version of each TA each device has had.
CREATE TABLE high_water (
    did     TEXT NOT NULL REFERENCES device (did),
    taid    TEXT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (did, taid)
);

-- The audit log: hash-chained, append-only.
CREATE TABLE audit (
    seq    BIGINT PRIMARY KEY,
    at     BIGINT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev   TEXT NOT NULL,
    hash   TEXT NOT NULL
);

-- The audit log's head (one row), moved in the transaction of each append.
CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
