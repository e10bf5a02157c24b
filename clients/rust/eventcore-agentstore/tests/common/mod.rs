//! Test support: every store gets a database of its own, cloned from a
//! template that has the extension and the crate's tables, because some
//! contract tests read *all* events and count them.
//!
//! AGENTSTORE_TEST_DSN names the server and a database to connect to for
//! `CREATE DATABASE` (libpq key=value or URL), e.g.
//! `host=/tmp/pg port=5432 user=postgres dbname=postgres`.

#![allow(dead_code)]

use std::sync::OnceLock;

use eventcore_agentstore::{
    AgentstoreCheckpointStore, AgentstoreCoordinator, AgentstoreEventStore, pool_from_config,
};

const TEMPLATE: &str = "eventcore_agentstore_template";

pub fn admin_config() -> tokio_postgres::Config {
    let dsn = std::env::var("AGENTSTORE_TEST_DSN")
        .expect("set AGENTSTORE_TEST_DSN to a libpq connection string of the test server");
    dsn.parse().expect("AGENTSTORE_TEST_DSN does not parse")
}

/// Run `f` on a runtime of its own in a thread of its own, so that the
/// synchronous `make_store` closures of eventcore-testing can set up a
/// database from inside their tests' runtimes.
fn block_on_side<F, T>(f: F) -> T
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(f)
    })
    .join()
    .expect("setup thread panicked")
}

async fn admin_execute(sql: String) {
    let (client, connection) = admin_config()
        .connect(tokio_postgres::NoTls)
        .await
        .expect("connect to AGENTSTORE_TEST_DSN");
    let task = tokio::spawn(connection);
    client
        .batch_execute(&sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    drop(client);
    let _ = task.await;
}

/// (Re)create the template database once per test process.
fn template() -> &'static str {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        block_on_side(async {
            admin_execute(format!("DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")).await;
            admin_execute(format!("CREATE DATABASE {TEMPLATE}")).await;
            let mut config = admin_config();
            config.dbname(TEMPLATE);
            let pool = pool_from_config(config, 1);
            eventcore_agentstore::migrate(&pool)
                .await
                .expect("migrate the template");
            pool.close();
        })
    });
    TEMPLATE
}

/// A new database, cloned from the template, and its connection config.
pub fn fresh_database() -> tokio_postgres::Config {
    let template = template();
    let name = format!("ec_{}", uuid::Uuid::new_v4().simple());
    let sql = format!("CREATE DATABASE {name} TEMPLATE {template}");
    block_on_side(admin_execute(sql));
    let mut config = admin_config();
    config.dbname(&name);
    config
}

pub fn make_store() -> AgentstoreEventStore {
    AgentstoreEventStore::new(pool_from_config(fresh_database(), 4))
}

pub fn make_checkpoint_store() -> AgentstoreCheckpointStore {
    AgentstoreCheckpointStore::new(pool_from_config(fresh_database(), 2))
}

pub fn make_coordinator() -> AgentstoreCoordinator {
    AgentstoreCoordinator::new(fresh_database())
}
