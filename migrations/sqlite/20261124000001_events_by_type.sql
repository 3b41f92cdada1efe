-- Projections read only the aggregate types they need, in position order: one index range per type.
CREATE INDEX events_by_type ON events (aggregate_type, position);

-- The version of the view tables each checkpoint belongs to. A server that finds another version
-- than its code's rebuilds that projection on start. Existing rows belong to the first layout (one
-- JSON document per aggregate), version 1.
ALTER TABLE projection_checkpoints ADD COLUMN version integer NOT NULL DEFAULT 1;
