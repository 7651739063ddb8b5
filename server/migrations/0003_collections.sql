-- Curators' ordered collections of tips, one JSON body each.
CREATE TABLE collections (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id),
    body TEXT NOT NULL
);
CREATE INDEX collections_by_team ON collections (team_id);
