-- The team's identifying fields (a JSON array of `kind: selector` rules, see
-- inflow_core::fields), shipped to members by /v1/me.
ALTER TABLE teams ADD COLUMN identifying_fields TEXT NOT NULL DEFAULT '[]';
