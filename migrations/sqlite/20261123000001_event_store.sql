-- The event store, shared by every aggregate; sqlite-es names its columns on INSERT.
-- SQLite lets one writer in at a time, so insertion order is commit order and the position alone is
-- a safe checkpoint (transaction_id stays 0).
CREATE TABLE events
(
    aggregate_type text                          NOT NULL,
    aggregate_id   text                          NOT NULL,
    sequence       integer CHECK (sequence >= 0) NOT NULL,
    event_type     text                          NOT NULL,
    event_version  text                          NOT NULL,
    payload        text                          NOT NULL,
    metadata       text                          NOT NULL,
    position       integer,
    -- sqlite-es recognises a concurrent write by the primary-key violation (code 1555): keep this key.
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
) STRICT;

CREATE UNIQUE INDEX events_position ON events (position);

-- Stamps the global position; SQLite has no sequence default for a non-key column.
CREATE TRIGGER events_stamp_position AFTER INSERT ON events
BEGIN
    UPDATE events SET position = (SELECT coalesce(max(position), 0) + 1 FROM events) WHERE rowid = NEW.rowid;
END;

-- Events are legal records: corrections are new events, never edits. Only the stamp above may write.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events WHEN OLD.position IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'events are never updated or deleted');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are never updated or deleted');
END;

CREATE TABLE snapshots
(
    aggregate_type   text                                  NOT NULL,
    aggregate_id     text                                  NOT NULL,
    last_sequence    integer CHECK (last_sequence >= 0)    NOT NULL,
    current_snapshot integer CHECK (current_snapshot >= 0) NOT NULL,
    payload          text                                  NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
) STRICT;

CREATE TABLE projection_checkpoints
(
    projection     text    NOT NULL PRIMARY KEY,
    transaction_id integer NOT NULL DEFAULT 0,
    position       integer NOT NULL DEFAULT 0
) STRICT;
