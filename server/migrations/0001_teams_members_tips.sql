-- Teams, their members (tokens stored as SHA-256), the team's tips as JSON with the
-- sequence number of their last change, and the mutation ids already applied.
CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    last_seq BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE members (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id),
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    revoked_ms BIGINT
);
CREATE TABLE tips (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id),
    seq BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX tips_by_team_seq ON tips (team_id, seq);
CREATE TABLE applied_mutations (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id)
);
