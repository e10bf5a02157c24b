//! Leadership is a session advisory lock on a connection of its own: a
//! second coordinator (another process, say) is refused while the leader's
//! session lives, and gets leadership once that session is lost.
//! Needs AGENTSTORE_TEST_DSN (see tests/common/mod.rs).

mod common;

use std::time::Duration;

use eventcore_agentstore::AgentstoreCoordinator;
use eventcore_types::ProjectorCoordinator;

#[tokio::test(flavor = "multi_thread")]
async fn leadership_moves_when_the_leaders_connection_is_lost() {
    let config = common::fresh_database();
    let first = AgentstoreCoordinator::new(config.clone());
    let second = AgentstoreCoordinator::new(config.clone());
    let name = format!("projector-{}", uuid::Uuid::now_v7());

    let guard = first.try_acquire(&name).await.expect("first leader");
    assert!(second.try_acquire(&name).await.is_err(), "two leaders");

    // Lose the leader's session: terminate every other backend holding an
    // advisory lock in this database.
    let (client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let killed: i64 = client
        .query_one(
            "SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l \
             WHERE l.locktype = 'advisory' AND l.database = \
                   (SELECT oid FROM pg_database WHERE datname = current_database()) \
               AND l.pid <> pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(killed, 1);

    let mut acquired = None;
    for _ in 0..100 {
        if let Ok(g) = second.try_acquire(&name).await {
            acquired = Some(g);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        acquired.is_some(),
        "leadership not released with the lost session"
    );
    drop(guard); // unlocking on a dead connection fails quietly
}
