//! An [eventcore](https://crates.io/crates/eventcore) 2.x backend on the
//! agentstore PostgreSQL extension.
//!
//! * [`AgentstoreEventStore`] implements `EventStore` (streams read with
//!   `agentstore.read_stream`, commands written atomically with
//!   `agentstore.append_streams`, every stream of the command version-checked,
//!   read-only participants included) and `EventReader` (all streams in
//!   commit order through `agentstore.read_all`'s `(transaction_id, position)`
//!   cursor).
//! * [`AgentstoreCheckpointStore`] implements `CheckpointStore`.
//! * [`AgentstoreCoordinator`] implements `ProjectorCoordinator` with session
//!   advisory locks held on a dedicated connection.
//!
//! Call [`migrate`] once per database: it creates the extension (if missing)
//! and the two small tables of this crate (`eventcore_agentstore.checkpoints`,
//! `eventcore_agentstore.command_state_snapshots`).

mod coordinator;
mod position;
mod reader;

use std::collections::HashMap;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use eventcore_types::{
    CheckpointStore, CommandStateSnapshot, CommandStateSnapshotId, Event, EventStore,
    EventStoreError, EventStream, EventStreamSlice, Operation, StreamId, StreamPosition,
    StreamVersion, StreamWrites,
};
use serde::Serialize;
use serde_json::value::RawValue;
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;

pub use coordinator::{AgentstoreCoordinator, CoordinatorError, LeadershipGuard};
pub use position::{position_from_cursor, position_to_cursor};

/// SQLSTATE of agentstore's expected-version conflict.
pub const WRONG_EXPECTED_VERSION: &str = "SV001";

/// How many rows one `read_stream` / `read_all` call fetches.
const PAGE: i32 = 1000;

/// Errors of the reader, the checkpoint store and [`migrate`].
#[derive(Debug, thiserror::Error)]
pub enum AgentstoreError {
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("connection pool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("event of stream {stream} (position {position}) does not decode: {detail}")]
    Decode {
        stream: String,
        position: i64,
        detail: String,
    },
    #[error("stream position {0} is not an agentstore cursor")]
    BadPosition(StreamPosition),
}

/// Build a connection pool for a libpq-style connection string
/// (`host=/run/postgresql dbname=app user=app`) or URL.
pub fn pool_from_config(config: tokio_postgres::Config, max_size: usize) -> Pool {
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(max_size)
        .build()
        .expect("a pool without timeouts needs no runtime")
}

/// The crate's schema: the extension (created if missing) and the tables for
/// checkpoints and command-state snapshots.  Idempotent.
pub const MIGRATION: &str = r#"
CREATE EXTENSION IF NOT EXISTS agentstore;
CREATE SCHEMA IF NOT EXISTS eventcore_agentstore;
CREATE TABLE IF NOT EXISTS eventcore_agentstore.checkpoints (
    name        text COLLATE "C" PRIMARY KEY,
    position    uuid NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS eventcore_agentstore.command_state_snapshots (
    id          text COLLATE "C" PRIMARY KEY,
    snapshot    jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
"#;

/// Create what this crate needs in the pool's database (see [`MIGRATION`]).
pub async fn migrate(pool: &Pool) -> Result<(), AgentstoreError> {
    let client = pool.get().await?;
    client.batch_execute(MIGRATION).await?;
    Ok(())
}

/// eventcore's `EventStore` and `EventReader` on agentstore's streams.
#[derive(Clone)]
pub struct AgentstoreEventStore {
    pool: Pool,
    /// Highest transaction id this store (and its clones) committed an
    /// append in: `read_events` waits until it is visible to commit-ordered
    /// readers (read-your-writes).
    last_xid: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl AgentstoreEventStore {
    /// A store on `pool`.  Creating it opens no connection.
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            last_xid: Default::default(),
        }
    }

    /// The pool the store uses.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Read a stream from `from_version` (1-based) on, page by page.
    async fn read_from<E: Event>(
        &self,
        stream_id: StreamId,
        from_version: i64,
    ) -> Result<EventStream<E>, EventStoreError> {
        let failure = |_| EventStoreError::StoreFailure {
            operation: Operation::ReadStream,
        };
        let client = self
            .pool
            .get()
            .await
            .map_err(|_| EventStoreError::StoreFailure {
                operation: Operation::ReadStream,
            })?;
        let statement = client
            .prepare_cached("SELECT version, data FROM agentstore.read_stream($1, $2, $3)")
            .await
            .map_err(failure)?;
        let name: &str = stream_id.as_ref();
        let mut next = from_version;
        let mut events = Vec::new();
        loop {
            let rows = client
                .query(&statement, &[&name, &next, &PAGE])
                .await
                .map_err(failure)?;
            let n = rows.len();
            for row in rows {
                let version: i64 = row.get(0);
                let data: serde_json::Value = row.get(1);
                next = version + 1;
                events.push(serde_json::from_value::<E>(data).map_err(|error| {
                    EventStoreError::DeserializationFailed {
                        stream_id: stream_id.clone(),
                        detail: format!("version {version}: {error}"),
                    }
                }));
            }
            if n < PAGE as usize {
                break;
            }
        }
        Ok(EventStream::new(futures::stream::iter(events)))
    }

    /// After `SV001`: the conflict as the extension recorded it
    /// (`agentstore.last_version_conflict()`, asked on the session that got
    /// the error), else (an extension without that function) the first
    /// stream of the command whose committed version differs from the
    /// expected one.
    async fn explain_conflict(
        &self,
        client: &deadpool_postgres::Client,
        expected: &[(StreamId, usize)],
    ) -> EventStoreError {
        if let Ok(Some(row)) = client
            .query_opt(
                "SELECT stream, expected_version, actual_version \
                 FROM agentstore.last_version_conflict()",
                &[],
            )
            .await
        {
            let stream: &str = row.get(0);
            let want: i64 = row.get(1);
            let actual: i64 = row.get(2);
            let known = expected.iter().find(|(s, _)| s.as_ref() as &str == stream);
            if let Some((stream_id, _)) = known
                && want >= 0
                && actual >= 0
            {
                return EventStoreError::VersionConflict {
                    stream_id: stream_id.clone(),
                    expected: StreamVersion::new(want as usize),
                    actual: StreamVersion::new(actual as usize),
                };
            }
        }
        let names: Vec<&str> = expected.iter().map(|(s, _)| s.as_ref()).collect();
        if let Ok(rows) = client
            .query(
                "SELECT s.ord::int, agentstore.stream_version(s.name) \
                 FROM unnest($1::text[]) WITH ORDINALITY AS s(name, ord)",
                &[&names],
            )
            .await
        {
            for row in rows {
                let ord: i32 = row.get(0);
                let actual: i64 = row.get(1);
                let (stream_id, want) = &expected[(ord - 1) as usize];
                if actual as usize != *want {
                    return EventStoreError::VersionConflict {
                        stream_id: stream_id.clone(),
                        expected: StreamVersion::new(*want),
                        actual: StreamVersion::new(actual as usize),
                    };
                }
            }
        }
        // The stream caught up with the expectation in the meantime; the
        // first stream stands for the conflict.
        EventStoreError::VersionConflict {
            stream_id: expected[0].0.clone(),
            expected: StreamVersion::new(expected[0].1),
            actual: StreamVersion::new(expected[0].1),
        }
    }
}

#[derive(Serialize)]
struct AppendEvent<'a> {
    #[serde(rename = "type")]
    event_type: &'a str,
    data: &'a RawValue,
}

#[derive(Serialize)]
struct StreamAppend<'a> {
    stream: &'a str,
    expected_version: i64,
    events: Vec<AppendEvent<'a>>,
}

impl EventStore for AgentstoreEventStore {
    async fn read_stream<E: Event>(
        &self,
        stream_id: StreamId,
    ) -> Result<EventStream<E>, EventStoreError> {
        self.read_from(stream_id, 1).await
    }

    async fn read_stream_after<E: Event>(
        &self,
        stream_id: StreamId,
        exclusive_version: StreamVersion,
    ) -> Result<EventStream<E>, EventStoreError> {
        let after: usize = exclusive_version.into();
        self.read_from(stream_id, after as i64 + 1).await
    }

    /// One `append_streams` call: every registered stream with its exact
    /// expected version (an empty event list for a read-only participant),
    /// in stream-name order.
    async fn append_events(
        &self,
        writes: StreamWrites,
    ) -> Result<EventStreamSlice, EventStoreError> {
        let failure = |_| EventStoreError::StoreFailure {
            operation: Operation::AppendEvents,
        };
        let mut expected: Vec<(StreamId, usize)> = writes
            .expected_versions()
            .iter()
            .map(|(s, v)| (s.clone(), (*v).into()))
            .collect();
        expected.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
        if expected.is_empty() {
            // A command that declared no stream writes nothing.
            return Ok(EventStreamSlice);
        }
        let entries = writes.into_entries();
        let mut by_stream: HashMap<&str, Vec<AppendEvent<'_>>> = HashMap::new();
        for entry in &entries {
            by_stream
                .entry(entry.stream_id.as_ref())
                .or_default()
                .push(AppendEvent {
                    event_type: entry.event_type,
                    data: &entry.event_data,
                });
        }
        let appends: Vec<StreamAppend<'_>> = expected
            .iter()
            .map(|(stream, version)| StreamAppend {
                stream: stream.as_ref(),
                expected_version: *version as i64,
                events: by_stream.remove(stream.as_ref()).unwrap_or_default(),
            })
            .collect();
        let body = serde_json::to_string(&appends).map_err(|error| {
            EventStoreError::SerializationFailed {
                stream_id: expected[0].0.clone(),
                detail: error.to_string(),
            }
        })?;
        let client = self
            .pool
            .get()
            .await
            .map_err(|_| EventStoreError::StoreFailure {
                operation: Operation::AppendEvents,
            })?;
        let statement = client
            .prepare_cached(
                "SELECT pg_catalog.pg_current_xact_id()::text, count(*) \
                 FROM agentstore.append_streams($1::text::jsonb)",
            )
            .await
            .map_err(failure)?;
        match client.query_one(&statement, &[&body]).await {
            Ok(row) => {
                let xid: &str = row.get(0);
                if let Ok(xid) = xid.parse::<u64>() {
                    self.last_xid
                        .fetch_max(xid, std::sync::atomic::Ordering::AcqRel);
                }
                Ok(EventStreamSlice)
            }
            Err(error) => match error.as_db_error() {
                Some(db) if db.code() == &SqlState::from_code(WRONG_EXPECTED_VERSION) => {
                    Err(self.explain_conflict(&client, &expected).await)
                }
                _ => Err(failure(error)),
            },
        }
    }

    async fn load_command_state_snapshot(
        &self,
        snapshot_id: CommandStateSnapshotId,
    ) -> Result<Option<CommandStateSnapshot>, EventStoreError> {
        let failure = |_| EventStoreError::StoreFailure {
            operation: Operation::ReadStream,
        };
        let client = self
            .pool
            .get()
            .await
            .map_err(|_| EventStoreError::StoreFailure {
                operation: Operation::ReadStream,
            })?;
        let id: &str = snapshot_id.as_ref();
        let row = client
            .query_opt(
                "SELECT snapshot FROM eventcore_agentstore.command_state_snapshots WHERE id = $1",
                &[&id],
            )
            .await
            .map_err(failure)?;
        match row {
            None => Ok(None),
            Some(row) => {
                let value: serde_json::Value = row.get(0);
                serde_json::from_value(value)
                    .map(Some)
                    .map_err(|_| EventStoreError::StoreFailure {
                        operation: Operation::ReadStream,
                    })
            }
        }
    }

    /// Replace the stored snapshot only if the new one covers every stream
    /// version of the stored one (decided in the statement, so concurrent
    /// savers cannot regress it).
    async fn save_command_state_snapshot(
        &self,
        snapshot_id: CommandStateSnapshotId,
        snapshot: CommandStateSnapshot,
    ) -> Result<(), EventStoreError> {
        let failure = |_| EventStoreError::StoreFailure {
            operation: Operation::AppendEvents,
        };
        let value = serde_json::to_value(&snapshot).map_err(|_| EventStoreError::StoreFailure {
            operation: Operation::AppendEvents,
        })?;
        let client = self
            .pool
            .get()
            .await
            .map_err(|_| EventStoreError::StoreFailure {
                operation: Operation::AppendEvents,
            })?;
        let id: &str = snapshot_id.as_ref();
        client
            .execute(
                "INSERT INTO eventcore_agentstore.command_state_snapshots AS s (id, snapshot) \
                 VALUES ($1, $2) \
                 ON CONFLICT (id) DO UPDATE SET snapshot = EXCLUDED.snapshot, updated_at = now() \
                 WHERE NOT EXISTS ( \
                     SELECT FROM jsonb_each_text(s.snapshot -> 'stream_versions') AS old(stream, version) \
                     WHERE COALESCE((EXCLUDED.snapshot -> 'stream_versions' ->> old.stream)::numeric, -1) \
                           < old.version::numeric)",
                &[&id, &value],
            )
            .await
            .map_err(failure)?;
        Ok(())
    }
}

/// eventcore's `CheckpointStore`: one row per projector name.
#[derive(Clone)]
pub struct AgentstoreCheckpointStore {
    pool: Pool,
}

impl AgentstoreCheckpointStore {
    /// A checkpoint store on `pool` (after [`migrate`]).
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

impl CheckpointStore for AgentstoreCheckpointStore {
    type Error = AgentstoreError;

    async fn load(&self, name: &str) -> Result<Option<StreamPosition>, AgentstoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT position FROM eventcore_agentstore.checkpoints WHERE name = $1",
                &[&name],
            )
            .await?;
        Ok(row.map(|row| StreamPosition::new(row.get::<_, uuid::Uuid>(0))))
    }

    async fn save(&self, name: &str, position: StreamPosition) -> Result<(), AgentstoreError> {
        let client = self.pool.get().await?;
        let position: uuid::Uuid = position.into();
        client
            .execute(
                "INSERT INTO eventcore_agentstore.checkpoints (name, position) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now()",
                &[&name, &position],
            )
            .await?;
        Ok(())
    }
}
