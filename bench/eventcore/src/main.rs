//! eventcore's own Postgres backend (eventcore-postgres, its schema created
//! by its own migrations) against eventcore-agentstore, on the same cluster,
//! each in a database of its own, in alternating rounds.
//!
//! Workloads: commands appending 1, 10 and 100 events to one stream, and
//! commands appending one event to each of two streams; 1 and 4 concurrent
//! clients.  Each client writes streams of its own with the right expected
//! versions (no conflicts), through `EventStore::append_events`, the path
//! every eventcore command takes after it has read its streams.  Reports
//! events/s and the 99th percentile of the command latency, the median of
//! the rounds.
//!
//!     BENCH_PGHOST=/tmp/pg BENCH_PGPORT=5432 BENCH_PGUSER=postgres \
//!         BENCH_SECONDS=3 BENCH_ROUNDS=3 cargo run --release
//!
//! The databases bench_eventcore_pg and bench_agentstore are dropped and
//! created.

use std::time::{Duration, Instant};

use eventcore_agentstore::{AgentstoreEventStore, migrate, pool_from_config};
use eventcore_postgres::{PostgresConfig, PostgresEventStore};
use eventcore_types::{Event, EventStore, StreamId, StreamVersion, StreamWrites};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Happened {
    stream_id: StreamId,
    n: usize,
    note: String,
}

impl Event for Happened {
    fn stream_id(&self) -> &StreamId {
        &self.stream_id
    }
    fn event_type_name() -> &'static str {
        "Happened"
    }
}

#[derive(Clone, Copy)]
struct Workload {
    name: &'static str,
    streams: usize,
    events: usize,
}

const WORKLOADS: [Workload; 4] = [
    Workload {
        name: "1 event, 1 stream",
        streams: 1,
        events: 1,
    },
    Workload {
        name: "10 events, 1 stream",
        streams: 1,
        events: 10,
    },
    Workload {
        name: "100 events, 1 stream",
        streams: 1,
        events: 100,
    },
    Workload {
        name: "2 streams, 1 event each",
        streams: 2,
        events: 1,
    },
];

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// One client: commands for `duration`; returns (events, latencies).
async fn client<S: EventStore>(
    store: &S,
    w: Workload,
    duration: Duration,
) -> (usize, Vec<Duration>) {
    let run = uuid::Uuid::now_v7().simple().to_string();
    let streams: Vec<StreamId> = (0..w.streams)
        .map(|i| StreamId::try_new(format!("bench-{run}-{i}")).unwrap())
        .collect();
    let per_stream = if w.streams == 1 { w.events } else { 1 };
    let mut version = 0usize;
    let mut events = 0;
    let mut latencies = Vec::new();
    let end = Instant::now() + duration;
    while Instant::now() < end {
        let mut writes = StreamWrites::new();
        for s in &streams {
            writes = writes
                .register_stream(s.clone(), StreamVersion::new(version))
                .unwrap();
        }
        for s in &streams {
            for n in 0..per_stream {
                writes = writes
                    .append(Happened {
                        stream_id: s.clone(),
                        n,
                        note: "a benchmark event".into(),
                    })
                    .unwrap();
            }
        }
        let t = Instant::now();
        store.append_events(writes).await.expect("append");
        latencies.push(t.elapsed());
        version += per_stream;
        events += per_stream * streams.len();
    }
    (events, latencies)
}

async fn round<S: EventStore + Clone + Send + Sync + 'static>(
    store: &S,
    w: Workload,
    clients: usize,
    duration: Duration,
) -> (f64, Duration) {
    let start = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..clients {
        let store = store.clone();
        handles.push(tokio::spawn(
            async move { client(&store, w, duration).await },
        ));
    }
    let mut events = 0;
    let mut latencies = Vec::new();
    for h in handles {
        let (e, l) = h.await.unwrap();
        events += e;
        latencies.extend(l);
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort();
    let p99 = latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)];
    (events as f64 / elapsed, p99)
}

fn median<T: Copy + PartialOrd>(mut v: Vec<T>) -> T {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let host = env("BENCH_PGHOST", "/var/run/postgresql");
    let port = env("BENCH_PGPORT", "5432");
    let user = env("BENCH_PGUSER", "postgres");
    let seconds: u64 = env("BENCH_SECONDS", "3").parse().unwrap();
    let rounds: usize = env("BENCH_ROUNDS", "3").parse().unwrap();
    let duration = Duration::from_secs(seconds);

    let admin: tokio_postgres_config::Config =
        format!("host={host} port={port} user={user} dbname=postgres")
            .parse()
            .unwrap();
    let (c, conn) = admin.connect(tokio_postgres_config::NoTls).await.unwrap();
    tokio::spawn(conn);
    for db in ["bench_eventcore_pg", "bench_agentstore"] {
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
            .await
            .unwrap();
        c.batch_execute(&format!("CREATE DATABASE {db}"))
            .await
            .unwrap();
    }

    let url = format!(
        "postgres://{user}@localhost/bench_eventcore_pg?host={}&port={port}",
        host.replace('/', "%2F")
    );
    let theirs = PostgresEventStore::with_config(url, PostgresConfig::default())
        .await
        .expect("connect eventcore-postgres");
    theirs.migrate().await;

    let mut config: tokio_postgres_config::Config = format!("host={host} port={port} user={user}")
        .parse()
        .unwrap();
    config.dbname("bench_agentstore");
    let pool = pool_from_config(config, 10);
    migrate(&pool).await.unwrap();
    let ours = AgentstoreEventStore::new(pool);

    println!(
        "| workload | clients | eventcore-postgres events/s | p99 ms | agentstore events/s | p99 ms | speed-up |"
    );
    println!("|---|---|---|---|---|---|---|");
    for w in WORKLOADS {
        for clients in [1, 4] {
            let (mut t_theirs, mut p_theirs, mut t_ours, mut p_ours) =
                (vec![], vec![], vec![], vec![]);
            for r in 0..rounds {
                // alternate which backend goes first
                let mut order = [0, 1];
                if r % 2 == 1 {
                    order.reverse();
                }
                for which in order {
                    if which == 0 {
                        let (t, p) = round(&theirs, w, clients, duration).await;
                        t_theirs.push(t);
                        p_theirs.push(p);
                    } else {
                        let (t, p) = round(&ours, w, clients, duration).await;
                        t_ours.push(t);
                        p_ours.push(p);
                    }
                }
            }
            let (a, pa, b, pb) = (
                median(t_theirs),
                median(p_theirs),
                median(t_ours),
                median(p_ours),
            );
            println!(
                "| {} | {clients} | {a:.0} | {:.2} | {b:.0} | {:.2} | {:.2}x |",
                w.name,
                pa.as_secs_f64() * 1000.0,
                pb.as_secs_f64() * 1000.0,
                b / a
            );
        }
    }
}
