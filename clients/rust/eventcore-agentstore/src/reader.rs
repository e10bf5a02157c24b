//! `EventReader`: every stream in commit order through `agentstore.read_all`
//! and its `(transaction_id, position)` cursor, which never skips an event
//! that commits late.  Filters are applied to each page as it is read, so a
//! page of `limit` matches may need several `read_all` calls.

use eventcore_types::{Event, EventFilter, EventPage, EventReader, StreamPosition};

use crate::position::{position_from_cursor, position_to_cursor};
use crate::{AgentstoreError, AgentstoreEventStore, PAGE};

/// How long `read_events` waits for older transactions of other sessions to
/// end before it reads without the store's own latest append.
const READ_YOUR_WRITES_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

impl AgentstoreEventStore {
    /// `read_all` returns only events of transactions older than the oldest
    /// transaction still running in the cluster.  Wait (bounded) until the
    /// store's own latest append has passed that horizon, so that a reader
    /// sees what the same store wrote before.
    async fn await_own_writes(
        &self,
        client: &tokio_postgres::Client,
    ) -> Result<(), AgentstoreError> {
        let xid = self.last_xid.load(std::sync::atomic::Ordering::Acquire);
        if xid == 0 {
            return Ok(());
        }
        let xid = xid.to_string();
        let deadline = std::time::Instant::now() + READ_YOUR_WRITES_WAIT;
        loop {
            let row = client
                .query_one(
                    "SELECT pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot()) \
                     OPERATOR(pg_catalog.>) $1::text::xid8",
                    &[&xid],
                )
                .await?;
            if row.get::<_, bool>(0) || std::time::Instant::now() >= deadline {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
}

impl EventReader for AgentstoreEventStore {
    type Error = AgentstoreError;

    async fn read_events<E: Event>(
        &self,
        filter: EventFilter,
        page: EventPage,
    ) -> Result<Vec<(E, StreamPosition)>, AgentstoreError> {
        let limit: usize = page.limit().into();
        let mut cursor: Option<(u64, i64)> = match page.after_position() {
            None => None,
            Some(position) => {
                Some(position_to_cursor(position).ok_or(AgentstoreError::BadPosition(position))?)
            }
        };
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        let client = self.pool().get().await?;
        self.await_own_writes(&client).await?;
        let statement = client
            .prepare_cached(
                "SELECT stream, type, data, transaction_id::text, position \
                 FROM agentstore.read_all($1, $2, $3::text::xid8)",
            )
            .await?;
        // Unfiltered reads fetch just what is asked for.
        let unfiltered = filter.stream_prefix().is_none()
            && filter.stream_pattern().is_none()
            && filter.event_type().is_none();
        let batch = if unfiltered {
            limit.min(PAGE as usize) as i32
        } else {
            PAGE
        };
        loop {
            let (after_position, after_xid) = match cursor {
                None => (0i64, None),
                Some((xid, position)) => (position, Some(xid.to_string())),
            };
            let rows = client
                .query(&statement, &[&after_position, &batch, &after_xid])
                .await?;
            let n = rows.len();
            for row in rows {
                let stream: &str = row.get(0);
                let event_type: &str = row.get(1);
                let xid: &str = row.get(3);
                let position: i64 = row.get(4);
                let xid: u64 = xid.parse().expect("xid8 prints as an unsigned integer");
                cursor = Some((xid, position));
                if out.len() >= limit {
                    break;
                }
                let selected = filter
                    .stream_prefix()
                    .is_none_or(|prefix| stream.starts_with(prefix.as_ref() as &str))
                    && filter.stream_pattern().is_none_or(|p| p.matches(stream))
                    && filter.event_type().is_none_or(|t| t == event_type);
                if !selected {
                    continue;
                }
                let data: serde_json::Value = row.get(2);
                let event =
                    serde_json::from_value::<E>(data).map_err(|error| AgentstoreError::Decode {
                        stream: stream.to_owned(),
                        position,
                        detail: error.to_string(),
                    })?;
                out.push((event, position_from_cursor(xid, position)));
            }
            if out.len() >= limit || n < batch as usize {
                return Ok(out);
            }
        }
    }
}
