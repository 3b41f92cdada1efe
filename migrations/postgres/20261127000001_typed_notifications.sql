-- Each insert's notification says what it wrote: `<transaction id> <newest position> <type>,<type>…`.
-- A server then wakes only the projections that read those types, and a projection that has already
-- applied that position (the writing process applied it before answering) is not woken at all:
-- before, every command woke every projection twice, each asking the log "anything new?".
CREATE OR REPLACE FUNCTION notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    summary text;
BEGIN
    SELECT pg_current_xact_id()::text || ' ' || max(position)::text || ' '
               || string_agg(DISTINCT aggregate_type, ',')
      INTO summary
      FROM inserted;
    IF summary IS NOT NULL THEN
        PERFORM pg_notify('konsortium_events', summary);
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER events_notify ON events;

CREATE TRIGGER events_notify AFTER INSERT ON events REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION notify_events();
