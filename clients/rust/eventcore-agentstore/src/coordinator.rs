//! `ProjectorCoordinator`: one leader per subscription name, by a session
//! advisory lock taken on a connection of its own.  The lock lives as long
//! as that connection: the guard releases it on drop, and the server
//! releases it when the connection is lost.
//!
//! Dropping a guard unlocks in a background task.  Until that unlock has
//! completed, a new `try_acquire` of the same name from the same coordinator
//! waits for it instead of failing on the lock the guard still holds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use eventcore_types::ProjectorCoordinator;
use tokio::sync::watch;
use tokio_postgres::{Client, NoTls};

/// Why leadership was not acquired.
#[derive(Debug, thiserror::Error)]
pub enum CoordinatorError {
    #[error("subscription {0:?} already has a leader")]
    AlreadyLeader(String),
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Held,
    Releasing,
    Released,
}

type Local = Arc<Mutex<HashMap<String, (u64, watch::Receiver<State>)>>>;

/// Leader election by advisory locks (`pg_try_advisory_lock` on
/// `hashtextextended(name, 0)` in a dedicated session).
#[derive(Clone)]
pub struct AgentstoreCoordinator {
    config: tokio_postgres::Config,
    local: Local,
    next_id: Arc<std::sync::atomic::AtomicU64>,
}

impl AgentstoreCoordinator {
    /// A coordinator that opens its lock sessions with `config`.
    pub fn new(config: tokio_postgres::Config) -> Self {
        Self {
            config,
            local: Arc::default(),
            next_id: Arc::default(),
        }
    }
}

/// Leadership of one subscription; dropping it gives leadership up.
pub struct LeadershipGuard {
    client: Option<Client>,
    name: String,
    id: u64,
    state: watch::Sender<State>,
    local: Local,
}

impl std::fmt::Debug for LeadershipGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeadershipGuard")
            .field("name", &self.name)
            .finish()
    }
}

fn forget(local: &Local, name: &str, id: u64) {
    let mut map = local.lock().expect("coordinator map poisoned");
    if map.get(name).is_some_and(|(held, _)| *held == id) {
        map.remove(name);
    }
}

impl Drop for LeadershipGuard {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        let _ = self.state.send(State::Releasing);
        let state = self.state.clone();
        let local = self.local.clone();
        let name = std::mem::take(&mut self.name);
        let id = self.id;
        let finish = move || {
            forget(&local, &name, id);
            let _ = state.send(State::Released);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    let _ = client
                        .batch_execute("SELECT pg_advisory_unlock_all()")
                        .await;
                    drop(client);
                    finish();
                });
            }
            Err(_) => {
                // No runtime: closing the session releases the lock.
                drop(client);
                finish();
            }
        }
    }
}

impl ProjectorCoordinator for AgentstoreCoordinator {
    type Error = CoordinatorError;
    type Guard = LeadershipGuard;

    async fn try_acquire(
        &self,
        subscription_name: &str,
    ) -> Result<LeadershipGuard, CoordinatorError> {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (sender, receiver) = watch::channel(State::Held);
        loop {
            let existing = {
                let mut map = self.local.lock().expect("coordinator map poisoned");
                match map.get(subscription_name) {
                    None => {
                        map.insert(subscription_name.to_owned(), (id, receiver.clone()));
                        None
                    }
                    Some((_, other)) => Some(other.clone()),
                }
            };
            match existing {
                None => break,
                Some(mut other) => {
                    if *other.borrow() == State::Held {
                        return Err(CoordinatorError::AlreadyLeader(
                            subscription_name.to_owned(),
                        ));
                    }
                    // A guard is unlocking: wait for it, then look again.
                    let _ = other.wait_for(|s| *s == State::Released).await;
                    let mut map = self.local.lock().expect("coordinator map poisoned");
                    if map
                        .get(subscription_name)
                        .is_some_and(|(_, r)| *r.borrow() == State::Released)
                    {
                        map.remove(subscription_name);
                    }
                }
            }
        }
        let acquired = async {
            let (client, connection) = self.config.connect(NoTls).await?;
            tokio::spawn(connection);
            let row = client
                .query_one(
                    "SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtextextended($1, 0))",
                    &[&subscription_name],
                )
                .await?;
            Ok::<_, CoordinatorError>((client, row.get::<_, bool>(0)))
        }
        .await;
        match acquired {
            Ok((client, true)) => Ok(LeadershipGuard {
                client: Some(client),
                name: subscription_name.to_owned(),
                id,
                state: sender,
                local: self.local.clone(),
            }),
            Ok((_, false)) => {
                forget(&self.local, subscription_name, id);
                Err(CoordinatorError::AlreadyLeader(
                    subscription_name.to_owned(),
                ))
            }
            Err(error) => {
                forget(&self.local, subscription_name, id);
                Err(error)
            }
        }
    }
}
