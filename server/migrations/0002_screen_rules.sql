-- The team's screen rules (a JSON array of patterns), shipped to members by /v1/me.
ALTER TABLE teams ADD COLUMN screen_rules TEXT NOT NULL DEFAULT '[]';
