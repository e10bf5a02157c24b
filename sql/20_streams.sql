-- agentstore install script, part 20: event streams.
--
-- One table holds every event: free-standing streams ('order-42'), session
-- streams ('session-<sessions.id>') and track streams
-- ('track-<sessions.id>-<track>').  Distribution key: stream.
--
-- version:        1, 2, 3... per stream, gap-free, assigned under a per-stream
--                 lock held to commit (never from a sequence).
-- position:       global position from a sequence: unique, but it commits
--                 out of order, so it is never read alone.
-- transaction_id: the writing transaction (xid8); commit-ordered readers see
--                 only rows older than the oldest running transaction and
--                 order by (transaction_id, position).

CREATE SEQUENCE agentstore.events_position_seq AS bigint;

CREATE TABLE agentstore.events (
    stream          text COLLATE "C" NOT NULL,
    version         bigint NOT NULL,
    position        bigint NOT NULL DEFAULT nextval('agentstore.events_position_seq'),
    transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id        text,
    type            text NOT NULL DEFAULT '',
    data            jsonb NOT NULL DEFAULT '{}',
    metadata        jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz,
    deleted_at      timestamptz,
    PRIMARY KEY (stream, version),
    CONSTRAINT events_stream_check CHECK (length(stream) > 0 AND length(stream) <= 1024),
    CONSTRAINT events_version_check CHECK (version > 0)
);
ALTER SEQUENCE agentstore.events_position_seq OWNED BY agentstore.events.position;
COMMENT ON TABLE agentstore.events IS 'every event of every stream; versions are gap-free per stream';

-- Idempotent appends: an event id appears at most once per stream.
CREATE UNIQUE INDEX events_stream_event_id
    ON agentstore.events (stream, event_id)
    WHERE event_id IS NOT NULL;
-- Commit-ordered global reads (read_all, read_category).
CREATE INDEX events_commit_order
    ON agentstore.events (transaction_id, position);
CREATE INDEX events_expires_at
    ON agentstore.events (expires_at)
    WHERE expires_at IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX events_deleted_at
    ON agentstore.events (deleted_at)
    WHERE deleted_at IS NOT NULL;

-- The version trigger (src/version_trigger.c): numbers rows that arrive
-- without a version (plain INSERT, INSERT ... SELECT, COPY) under the
-- stream's lock, keeps the version of rows that carry one (pg_dump restore,
-- migrations: "import mode"), and stamps transaction_id with the writing
-- transaction.  Triggers fire in name order: "zz_" makes it the last BEFORE
-- trigger, so that a user trigger that changes the stream or skips the row
-- runs before a version is handed out.
CREATE FUNCTION agentstore.version_trigger()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'agentstore_version_trigger';
COMMENT ON FUNCTION agentstore.version_trigger() IS 'BEFORE INSERT row trigger of agentstore.events: gap-free per-stream versions';

CREATE TRIGGER zz_events_version
    BEFORE INSERT ON agentstore.events
    FOR EACH ROW EXECUTE FUNCTION agentstore.version_trigger();

SELECT pg_catalog.pg_extension_config_dump('agentstore.events', '');
SELECT pg_catalog.pg_extension_config_dump('agentstore.events_position_seq', '');
