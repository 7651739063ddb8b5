-- Each member's record of each walkthrough they played (core::walkthrough::Record, as JSON),
-- merged on every write; curators read them with the members' names.
CREATE TABLE walkthrough_records (
    collection_id TEXT NOT NULL,
    member_id TEXT NOT NULL REFERENCES members (id),
    team_id TEXT NOT NULL REFERENCES teams (id),
    body TEXT NOT NULL,
    PRIMARY KEY (collection_id, member_id)
);
CREATE INDEX walkthrough_records_by_team ON walkthrough_records (team_id, collection_id);
