-- agentstore install script, part 20: event streams.
--
-- One table holds every event: free-standing streams ('order-42'), session
-- streams ('session-<sessions.id>') and track streams
-- ('track-<sessions.id>-<track>').  Distribution key: stream.
--
-- version:        1, 2, 3... per stream, gap-free, assigned under a per-stream
--                 lock held to commit (never from a sequence) by the version
--                 trigger or append_events; a row inserted with a version
--                 keeps it ("import mode": pg_dump, migrations).
-- position:       global position from a sequence: unique, but it commits
--                 out of order, so it is never read alone.
-- transaction_id: the writing transaction (xid8), always stamped by the
--                 trigger; commit-ordered readers see only rows older than
--                 the oldest running transaction and order by
--                 (transaction_id, position).
-- The C code is in src/stream_*.c and src/version_trigger.c; docs/streams.md
-- documents the functions.

CREATE SEQUENCE agentstore.events_position_seq AS bigint;

CREATE TABLE agentstore.events (
    stream          text COLLATE "C" NOT NULL,
    version         bigint NOT NULL,
    position        bigint NOT NULL DEFAULT nextval('agentstore.events_position_seq'),
    transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id        text COLLATE "C",
    type            text NOT NULL DEFAULT '',
    data            jsonb NOT NULL DEFAULT '{}',
    metadata        jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz,
    deleted_at      timestamptz,
    PRIMARY KEY (stream, version),
    CONSTRAINT events_stream_check CHECK (length(stream) > 0 AND length(stream) <= 1024),
    CONSTRAINT events_version_check CHECK (version > 0),
    CONSTRAINT events_event_id_check CHECK (length(event_id) > 0 AND length(event_id) <= 255)
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
-- read_category filters the commit-order scan by category.  An index on
-- (split_part(stream, '-', 1), transaction_id, position) makes it fast for
-- rare categories, and its query uses one if it exists, but it is not
-- created here: it costs every insert about 70% more (see docs/streams.md).
-- read_all with a cursor given by its position alone looks the position up.
-- BRIN: position grows with the table, and the insert path stays cheap.
CREATE INDEX events_position
    ON agentstore.events USING brin (position) WITH (pages_per_range = 32);
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

-- The high-water mark of every stream whose events have been deleted (the
-- TTL purge, delete_session, a DELETE of yours): the greatest version ever
-- deleted from it.  The version probe takes the greater of this and the
-- greatest version left in agentstore.events, so that a version, once
-- issued, is never issued again.  Written only by the DELETE trigger below
-- (src/stream_heads.c), as this table's owner: deleting events needs no
-- grant on it.
CREATE TABLE agentstore.stream_heads (
    stream          text COLLATE "C" PRIMARY KEY,
    version         bigint NOT NULL,
    CONSTRAINT stream_heads_version_check CHECK (version > 0)
);
COMMENT ON TABLE agentstore.stream_heads IS 'highest version deleted from each stream: versions are never issued twice';

CREATE FUNCTION agentstore.stream_heads_trigger()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'agentstore_stream_heads_trigger';
COMMENT ON FUNCTION agentstore.stream_heads_trigger() IS 'AFTER DELETE statement trigger of agentstore.events: records the high-water mark of each stream';

CREATE TRIGGER zz_events_stream_heads
    AFTER DELETE ON agentstore.events
    REFERENCING OLD TABLE AS deleted_events
    FOR EACH STATEMENT EXECUTE FUNCTION agentstore.stream_heads_trigger();

SELECT pg_catalog.pg_extension_config_dump('agentstore.events', '');
SELECT pg_catalog.pg_extension_config_dump('agentstore.stream_heads', '');
SELECT pg_catalog.pg_extension_config_dump('agentstore.events_position_seq', '');

-- Expected-version constants of the append functions.  NULL means "any";
-- a version >= 0 is exact (0: the stream has no event yet).
CREATE FUNCTION agentstore.no_stream()
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN -1;
COMMENT ON FUNCTION agentstore.no_stream() IS 'expected version -1: the stream must not exist (have no event)';

CREATE FUNCTION agentstore.stream_exists()
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN -2;
COMMENT ON FUNCTION agentstore.stream_exists() IS 'expected version -2: the stream must have at least one event';

-- Append an array of events to one stream (src/stream_append.c).
CREATE FUNCTION agentstore.append_events(
    stream text,
    events jsonb,
    expected_version bigint DEFAULT NULL,
    OUT first_version bigint,
    OUT last_version bigint,
    OUT first_position bigint,
    OUT last_position bigint)
RETURNS record
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_append_events';
COMMENT ON FUNCTION agentstore.append_events(text, jsonb, bigint) IS 'append events to a stream, with an optional expected version; idempotent by event_id';

-- The same with the events as JSON text, converted to jsonb event by event
-- (about twice as fast for large arrays).  An untyped literal or parameter
-- resolves to this form: text is the preferred type of its category.
CREATE FUNCTION agentstore.append_events(
    stream text,
    events text,
    expected_version bigint DEFAULT NULL,
    OUT first_version bigint,
    OUT last_version bigint,
    OUT first_position bigint,
    OUT last_position bigint)
RETURNS record
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'agentstore_append_events_text';
COMMENT ON FUNCTION agentstore.append_events(text, text, bigint) IS 'append events given as JSON text to a stream (see the jsonb form)';

-- Append to several streams, each with its own expectation: all or nothing.
CREATE FUNCTION agentstore.append_streams(
    appends jsonb,
    OUT stream text,
    OUT first_version bigint,
    OUT last_version bigint,
    OUT first_position bigint,
    OUT last_position bigint)
RETURNS SETOF record
LANGUAGE c VOLATILE
ROWS 10
AS 'MODULE_PATHNAME', 'agentstore_append_streams';
COMMENT ON FUNCTION agentstore.append_streams(jsonb) IS 'append to several streams atomically, each with its own expected version';

-- Reads (src/stream_read.c).  They return rows of this type: the columns of
-- agentstore.events that a reader needs.
CREATE TYPE agentstore.event AS (
    stream          text COLLATE "C",
    version         bigint,
    "position"      bigint,
    transaction_id  xid8,
    event_id        text COLLATE "C",
    type            text,
    data            jsonb,
    metadata        jsonb,
    created_at      timestamptz,
    expires_at      timestamptz
);
COMMENT ON TYPE agentstore.event IS 'an event as the read functions return it';

-- One stream from a version on, in version order.
CREATE FUNCTION agentstore.read_stream(
    stream text,
    from_version bigint DEFAULT 1,
    max_count integer DEFAULT 1000)
RETURNS SETOF agentstore.event
LANGUAGE c STABLE
ROWS 100
AS 'MODULE_PATHNAME', 'agentstore_read_stream';
COMMENT ON FUNCTION agentstore.read_stream(text, bigint, integer) IS 'events of one stream from a version on, in version order';

-- Every stream, in commit order; the cursor is (transaction_id, position)
-- of the last event read.
CREATE FUNCTION agentstore.read_all(
    after_position bigint DEFAULT 0,
    max_count integer DEFAULT 1000,
    after_transaction_id xid8 DEFAULT NULL)
RETURNS SETOF agentstore.event
LANGUAGE c STABLE
ROWS 100
AS 'MODULE_PATHNAME', 'agentstore_read_all';
COMMENT ON FUNCTION agentstore.read_all(bigint, integer, xid8) IS 'events of all streams in commit order, never skipping a late commit';

-- The streams of one category, in commit order, optionally partitioned by
-- stream among the members of a consumer group.
CREATE FUNCTION agentstore.read_category(
    category text,
    after_position bigint DEFAULT 0,
    max_count integer DEFAULT 1000,
    member integer DEFAULT NULL,
    group_size integer DEFAULT NULL,
    after_transaction_id xid8 DEFAULT NULL)
RETURNS SETOF agentstore.event
LANGUAGE c STABLE
ROWS 100
AS 'MODULE_PATHNAME', 'agentstore_read_category';
COMMENT ON FUNCTION agentstore.read_category(text, bigint, integer, integer, integer, xid8) IS 'events of one category in commit order, with consumer groups';

-- The current version of a stream as the caller's snapshot sees it (0: none).
CREATE FUNCTION agentstore.stream_version(stream text)
RETURNS bigint
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'agentstore_stream_version';
COMMENT ON FUNCTION agentstore.stream_version(text) IS 'highest version a stream has had, deleted events included, 0 if none: the next append''s expectation';

-- The last expected-version conflict (SV001) this session raised for the
-- current role, with the full stream name (the DETAIL quotes a bounded
-- prefix): for clients that map conflicts to their own error type
-- (src/stream_conflict.c).
CREATE FUNCTION agentstore.last_version_conflict(
    OUT stream text,
    OUT expected_version bigint,
    OUT actual_version bigint)
RETURNS SETOF record
LANGUAGE c VOLATILE
ROWS 1
AS 'MODULE_PATHNAME', 'agentstore_last_version_conflict';
COMMENT ON FUNCTION agentstore.last_version_conflict() IS 'stream, expected and actual version of the last SV001 of this session';
