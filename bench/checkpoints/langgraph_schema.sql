-- LangGraph's own PostgresSaver schema (@langchain/langgraph-checkpoint-postgres
-- 1.0.5, src/migrations.ts: the tables as its migrations leave them), in
-- schema bench, for the baselines.  Default collation, as LangGraph creates it.
DROP TABLE IF EXISTS bench.checkpoints, bench.checkpoint_blobs, bench.checkpoint_writes,
    bench.checkpoint_migrations;
CREATE TABLE bench.checkpoint_migrations (v INTEGER PRIMARY KEY);
INSERT INTO bench.checkpoint_migrations SELECT generate_series(0, 4);
CREATE TABLE bench.checkpoints (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    checkpoint_id TEXT NOT NULL,
    parent_checkpoint_id TEXT,
    type TEXT,
    checkpoint JSONB NOT NULL,
    metadata JSONB NOT NULL DEFAULT '{}',
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
);
CREATE TABLE bench.checkpoint_blobs (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL,
    version TEXT NOT NULL,
    type TEXT NOT NULL,
    blob BYTEA,
    PRIMARY KEY (thread_id, checkpoint_ns, channel, version)
);
CREATE TABLE bench.checkpoint_writes (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    checkpoint_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    channel TEXT NOT NULL,
    type TEXT,
    blob BYTEA NOT NULL,
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
);
