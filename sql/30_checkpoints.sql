-- agentstore install script, part 30: LangGraph-style checkpoints.
--
-- The three tables of LangGraph's PostgresSaver, plus one row per thread for
-- its TTL.  Distribution key: thread_id.  Identifiers use the "C" collation so
-- that "latest checkpoint" is the greatest checkpoint_id byte-wise, as
-- LangGraph's time-ordered ids require.

CREATE TABLE agentstore.checkpoint_threads (
    thread_id   text COLLATE "C" NOT NULL PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz
);
CREATE INDEX checkpoint_threads_expires_at
    ON agentstore.checkpoint_threads (expires_at)
    WHERE expires_at IS NOT NULL;

CREATE TABLE agentstore.checkpoints (
    thread_id            text COLLATE "C" NOT NULL,
    checkpoint_ns        text COLLATE "C" NOT NULL DEFAULT '',
    checkpoint_id        text COLLATE "C" NOT NULL,
    parent_checkpoint_id text COLLATE "C",
    type                 text,
    checkpoint           jsonb NOT NULL,
    metadata             jsonb NOT NULL DEFAULT '{}',
    created_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
);

CREATE TABLE agentstore.checkpoint_blobs (
    thread_id     text COLLATE "C" NOT NULL,
    checkpoint_ns text COLLATE "C" NOT NULL DEFAULT '',
    channel       text COLLATE "C" NOT NULL,
    version       text COLLATE "C" NOT NULL,
    type          text NOT NULL,
    blob          bytea,
    PRIMARY KEY (thread_id, checkpoint_ns, channel, version)
);

CREATE TABLE agentstore.checkpoint_writes (
    thread_id     text COLLATE "C" NOT NULL,
    checkpoint_ns text COLLATE "C" NOT NULL DEFAULT '',
    checkpoint_id text COLLATE "C" NOT NULL,
    task_id       text COLLATE "C" NOT NULL,
    idx           integer NOT NULL,
    channel       text NOT NULL,
    type          text,
    blob          bytea NOT NULL,
    task_path     text NOT NULL DEFAULT '',
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
);

SELECT pg_catalog.pg_extension_config_dump('agentstore.checkpoint_threads', '');
SELECT pg_catalog.pg_extension_config_dump('agentstore.checkpoints', '');
SELECT pg_catalog.pg_extension_config_dump('agentstore.checkpoint_blobs', '');
SELECT pg_catalog.pg_extension_config_dump('agentstore.checkpoint_writes', '');
