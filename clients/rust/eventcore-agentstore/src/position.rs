//! eventcore's `StreamPosition` is a UUID; agentstore's commit-order cursor
//! is `(transaction_id xid8, position bigint)`.  The UUID holds the
//! transaction id in its first 8 bytes and the position in its last 8, both
//! big-endian, so UUIDs compare exactly as the cursors do.

use eventcore_types::StreamPosition;
use uuid::Uuid;

/// The position of the event at cursor `(transaction_id, position)`.
pub fn position_from_cursor(transaction_id: u64, position: i64) -> StreamPosition {
    StreamPosition::new(Uuid::from_u64_pair(transaction_id, position as u64))
}

/// The `(transaction_id, position)` cursor of a position made by
/// [`position_from_cursor`]; `None` for a position that cannot be one
/// (a position above `i64::MAX`).
pub fn position_to_cursor(position: StreamPosition) -> Option<(u64, i64)> {
    let uuid: Uuid = position.into();
    let (transaction_id, position) = uuid.as_u64_pair();
    i64::try_from(position).ok().map(|p| (transaction_id, p))
}
