//! A complete eventcore application on agentstore: accounts, a deposit
//! (one stream) and a transfer (two streams, written atomically, both
//! version-checked), then a projection read through the EventReader.
//!
//!     DATABASE_URL='host=/var/run/postgresql dbname=app user=app' \
//!         cargo run --example transfer

use eventcore::{
    CommandError, CommandLogic, CommandStreams, Event, NewEvents, RetryPolicy, StreamDeclarations,
    StreamId, execute,
};
use eventcore_agentstore::{AgentstoreEventStore, migrate, pool_from_config};
use eventcore_types::{BatchSize, EventFilter, EventPage, EventReader, StreamPrefix};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
enum AccountEvent {
    Deposited { account: StreamId, cents: u64 },
    Withdrawn { account: StreamId, cents: u64 },
}

impl Event for AccountEvent {
    fn stream_id(&self) -> &StreamId {
        match self {
            AccountEvent::Deposited { account, .. } | AccountEvent::Withdrawn { account, .. } => {
                account
            }
        }
    }
    fn event_type_name() -> &'static str {
        "AccountEvent"
    }
}

struct Deposit {
    account: StreamId,
    cents: u64,
}

impl CommandStreams for Deposit {
    fn stream_declarations(&self) -> StreamDeclarations {
        StreamDeclarations::try_from_streams(vec![self.account.clone()]).expect("one stream")
    }
}

impl CommandLogic for Deposit {
    type Event = AccountEvent;
    type State = ();

    fn apply(&self, state: (), _event: &AccountEvent) {
        state
    }

    fn handle(&self, _state: ()) -> Result<NewEvents<AccountEvent>, CommandError> {
        Ok(vec![AccountEvent::Deposited {
            account: self.account.clone(),
            cents: self.cents,
        }]
        .into())
    }
}

/// Moves money between two accounts: both streams are read, both are
/// version-checked, and both events are written in one transaction.
struct Transfer {
    from: StreamId,
    to: StreamId,
    cents: u64,
}

impl CommandStreams for Transfer {
    fn stream_declarations(&self) -> StreamDeclarations {
        StreamDeclarations::try_from_streams(vec![self.from.clone(), self.to.clone()])
            .expect("two distinct streams")
    }
}

impl CommandLogic for Transfer {
    type Event = AccountEvent;
    /// Balance of the source account.
    type State = u64;

    fn apply(&self, balance: u64, event: &AccountEvent) -> u64 {
        match event {
            AccountEvent::Deposited { account, cents } if *account == self.from => balance + cents,
            AccountEvent::Withdrawn { account, cents } if *account == self.from => balance - cents,
            _ => balance,
        }
    }

    fn handle(&self, balance: u64) -> Result<NewEvents<AccountEvent>, CommandError> {
        if balance < self.cents {
            return Err(format!("insufficient funds: {balance} < {}", self.cents).into());
        }
        Ok(vec![
            AccountEvent::Withdrawn {
                account: self.from.clone(),
                cents: self.cents,
            },
            AccountEvent::Deposited {
                account: self.to.clone(),
                cents: self.cents,
            },
        ]
        .into())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dsn = std::env::var("DATABASE_URL")?;
    let pool = pool_from_config(dsn.parse()?, 8);
    migrate(&pool).await?; // CREATE EXTENSION IF NOT EXISTS agentstore, and the crate's tables
    let store = AgentstoreEventStore::new(pool);

    let run = uuid::Uuid::now_v7().simple().to_string();
    let alice = StreamId::try_new(format!("account-{run}-alice"))?;
    let bob = StreamId::try_new(format!("account-{run}-bob"))?;

    execute(
        &store,
        Deposit {
            account: alice.clone(),
            cents: 500,
        },
        RetryPolicy::new(),
    )
    .await?;
    execute(
        &store,
        Transfer {
            from: alice.clone(),
            to: bob.clone(),
            cents: 200,
        },
        RetryPolicy::new(),
    )
    .await?;
    let refused = execute(
        &store,
        Transfer {
            from: alice.clone(),
            to: bob.clone(),
            cents: 1_000,
        },
        RetryPolicy::new(),
    )
    .await;
    println!("overdraft refused: {}", refused.is_err());

    // Every event of this run, in commit order (a projector would keep the
    // last position in an AgentstoreCheckpointStore).
    let prefix = StreamPrefix::try_new(format!("account-{run}-"))?;
    let events = store
        .read_events::<AccountEvent>(
            EventFilter::prefix(prefix),
            EventPage::first(BatchSize::new(100)),
        )
        .await?;
    for (event, position) in &events {
        println!("{position} {event:?}");
    }
    Ok(())
}
