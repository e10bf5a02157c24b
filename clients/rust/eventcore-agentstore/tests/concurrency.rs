//! The extension's guarantee seen from eventcore: 8 concurrent writers run
//! multi-stream commands on 5 overlapping streams, each command with a
//! read-only participant whose version is checked but which gets no event.
//! Every stream must end up numbered 1..n without gaps, hold exactly the
//! events whose appends succeeded, and every failed append must be a
//! `VersionConflict` naming a stream of the command, the version the
//! command expected for it and a different actual version.
//! Needs AGENTSTORE_TEST_DSN (see tests/common/mod.rs).

mod common;

use std::collections::HashMap;

use eventcore_types::{
    Event, EventStore, EventStoreError, StreamId, StreamVersion, StreamWrites, collect_events,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Moved {
    stream_id: StreamId,
    writer: usize,
    attempt: usize,
    nth: usize,
}

impl Event for Moved {
    fn stream_id(&self) -> &StreamId {
        &self.stream_id
    }
    fn event_type_name() -> &'static str {
        "Moved"
    }
}

const WRITERS: usize = 8;
const COMMANDS: usize = 25;
const STREAMS: usize = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_overlapping_commands_stay_gap_free() {
    let store = common::make_store();
    let prefix = uuid::Uuid::now_v7().simple().to_string();
    let streams: Vec<StreamId> = (0..STREAMS)
        .map(|i| StreamId::try_new(format!("account-{prefix}-{i}")).unwrap())
        .collect();

    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let store = store.clone();
        let streams = streams.clone();
        tasks.push(tokio::spawn(async move {
            // (successful appends per stream, conflicts seen)
            let mut written: HashMap<StreamId, usize> = HashMap::new();
            let mut conflicts = 0usize;
            let mut attempt = 0usize;
            let mut done = 0usize;
            while done < COMMANDS {
                attempt += 1;
                // Two written streams and one read-only participant, all
                // different, chosen so that writers overlap.
                let a = &streams[(writer + done) % STREAMS];
                let b = &streams[(writer + done + 1) % STREAMS];
                let reader = &streams[(writer + done + 3) % STREAMS];
                let mut expected = HashMap::new();
                let mut writes = StreamWrites::new();
                for s in [a, b, reader] {
                    let events =
                        collect_events::<Moved, _>(store.read_stream(s.clone()).await.unwrap())
                            .await
                            .unwrap();
                    expected.insert(s.clone(), events.len());
                    writes = writes
                        .register_stream(s.clone(), StreamVersion::new(events.len()))
                        .unwrap();
                }
                for (nth, s) in [a, b, a].into_iter().enumerate() {
                    writes = writes
                        .append(Moved {
                            stream_id: s.clone(),
                            writer,
                            attempt,
                            nth,
                        })
                        .unwrap();
                }
                match store.append_events(writes).await {
                    Ok(_) => {
                        *written.entry(a.clone()).or_default() += 2;
                        *written.entry(b.clone()).or_default() += 1;
                        done += 1;
                    }
                    Err(EventStoreError::VersionConflict {
                        stream_id,
                        expected: e,
                        actual,
                    }) => {
                        let want = expected.get(&stream_id).unwrap_or_else(|| {
                            panic!("conflict names {stream_id}, not a stream of the command")
                        });
                        assert_eq!(
                            usize::from(e),
                            *want,
                            "conflict reports another expected version"
                        );
                        assert_ne!(e, actual, "conflict with actual == expected");
                        conflicts += 1;
                    }
                    Err(other) => {
                        panic!("append failed with something else than a conflict: {other:?}")
                    }
                }
            }
            (written, conflicts)
        }));
    }

    let mut expected_counts: HashMap<StreamId, usize> = HashMap::new();
    let mut conflicts = 0;
    for task in tasks {
        let (written, c) = task.await.expect("writer panicked");
        conflicts += c;
        for (s, n) in written {
            *expected_counts.entry(s).or_default() += n;
        }
    }
    eprintln!("{} commands, {conflicts} conflicts", WRITERS * COMMANDS);
    assert!(conflicts > 0, "no conflict: the writers did not overlap");

    let client = store.pool().get().await.unwrap();
    for s in &streams {
        let name: &str = s.as_ref();
        let row = client
            .query_one(
                "SELECT count(*), coalesce(min(version), 0), coalesce(max(version), 0), \
                        count(DISTINCT (data->>'writer', data->>'attempt', data->>'nth')) \
                 FROM agentstore.events WHERE stream = $1",
                &[&name],
            )
            .await
            .unwrap();
        let (count, min, max): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
        let want = *expected_counts.get(s).unwrap_or(&0) as i64;
        assert_eq!(
            count, want,
            "stream {name}: events stored vs appends that succeeded"
        );
        assert_eq!(
            row.get::<_, i64>(3),
            count,
            "stream {name}: an event stored twice"
        );
        if count > 0 {
            assert_eq!((min, max), (1, count), "stream {name} is not 1..n");
        }
        let events = collect_events::<Moved, _>(store.read_stream(s.clone()).await.unwrap())
            .await
            .unwrap();
        assert_eq!(events.len() as i64, count);
    }
}
