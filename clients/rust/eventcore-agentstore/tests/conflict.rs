//! `VersionConflict` names the stream that failed, with the version the
//! command expected and the stream's actual one, also when the streams of a
//! command share a long name prefix (the SV001 DETAIL quotes only 64 bytes)
//! and when the failing stream is a read-only participant.
//! Needs AGENTSTORE_TEST_DSN (see tests/common/mod.rs).

mod common;

use eventcore_types::{Event, EventStore, EventStoreError, StreamId, StreamVersion, StreamWrites};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Noted {
    stream_id: StreamId,
}

impl Event for Noted {
    fn stream_id(&self) -> &StreamId {
        &self.stream_id
    }
    fn event_type_name() -> &'static str {
        "Noted"
    }
}

fn id(s: String) -> StreamId {
    StreamId::try_new(s).unwrap()
}

#[tokio::test]
async fn conflict_names_stream_expected_and_actual() {
    let store = common::make_store();
    let prefix = "x".repeat(100);
    let one = id(format!("{prefix}-one"));
    let two = id(format!("{prefix}-two"));

    // one: 2 events
    let writes = StreamWrites::new()
        .register_stream(one.clone(), StreamVersion::new(0))
        .unwrap()
        .append(Noted {
            stream_id: one.clone(),
        })
        .unwrap()
        .append(Noted {
            stream_id: one.clone(),
        })
        .unwrap();
    store.append_events(writes).await.unwrap();

    // two is stale (expects 1, has 0); one is current
    let writes = StreamWrites::new()
        .register_stream(one.clone(), StreamVersion::new(2))
        .unwrap()
        .register_stream(two.clone(), StreamVersion::new(1))
        .unwrap()
        .append(Noted {
            stream_id: two.clone(),
        })
        .unwrap();
    assert_eq!(
        store.append_events(writes).await.err(),
        Some(EventStoreError::VersionConflict {
            stream_id: two.clone(),
            expected: StreamVersion::new(1),
            actual: StreamVersion::new(0),
        })
    );

    // one is a stale read-only participant (expects 1, has 2)
    let writes = StreamWrites::new()
        .register_stream(one.clone(), StreamVersion::new(1))
        .unwrap()
        .register_stream(two.clone(), StreamVersion::new(0))
        .unwrap()
        .append(Noted {
            stream_id: two.clone(),
        })
        .unwrap();
    assert_eq!(
        store.append_events(writes).await.err(),
        Some(EventStoreError::VersionConflict {
            stream_id: one.clone(),
            expected: StreamVersion::new(1),
            actual: StreamVersion::new(2),
        })
    );
}
