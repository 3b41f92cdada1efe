-- The event store, shared by every aggregate. postgres-es names its columns on INSERT, so the two
-- columns it does not know (position, transaction_id) are filled by their defaults.
CREATE TABLE events
(
    aggregate_type text                         NOT NULL,
    aggregate_id   text                         NOT NULL,
    sequence       bigint CHECK (sequence >= 0) NOT NULL,
    event_type     text                         NOT NULL,
    event_version  text                         NOT NULL,
    payload        json                         NOT NULL,
    metadata       json                         NOT NULL,
    -- Global position: unique and increasing in the order rows were inserted, NOT in commit order.
    position       bigserial                    NOT NULL UNIQUE,
    -- The writing transaction. Projectors read only rows whose transaction is older than every
    -- transaction still in flight, and order by (transaction_id, position): that order never changes
    -- after a row becomes readable, so a checkpoint in it never skips a late commit.
    transaction_id xid8                         NOT NULL DEFAULT pg_current_xact_id(),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

CREATE INDEX events_commit_order ON events (transaction_id, position);

CREATE TABLE snapshots
(
    aggregate_type   text                                 NOT NULL,
    aggregate_id     text                                 NOT NULL,
    last_sequence    bigint CHECK (last_sequence >= 0)    NOT NULL,
    current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
    payload          json                                 NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
);

-- Events are legal records: corrections are new events, never edits.
CREATE FUNCTION events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are never updated or deleted';
END $$;

CREATE TRIGGER events_immutable BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_immutable();

-- Wakes projectors in every server process; delivered at commit, so a listener never sees an
-- uncommitted event. Polling covers lost notifications.
CREATE FUNCTION notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('konsortium_events', '');
    RETURN NULL;
END $$;

CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION notify_events();

-- One row per projection: how far it has applied the log. Written in the same transaction as the
-- projection's rows, so a crash can lose neither without the other.
CREATE TABLE projection_checkpoints
(
    projection     text   NOT NULL PRIMARY KEY,
    transaction_id bigint NOT NULL DEFAULT 0,
    position       bigint NOT NULL DEFAULT 0
);
