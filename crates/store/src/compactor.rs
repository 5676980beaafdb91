//! Periodic compaction for stores shared by several servers (etcd): every
//! interval, history older than the revision seen one interval before is
//! dropped, as upstream's API server does every five minutes.
//!
//! Several servers may run a compactor against one store; a key holding the
//! last compaction target is updated with a conditional write first, so in
//! each interval only the server that wins that write compacts.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::{Revision, Store, StoreError};

/// The key that coordinates compactors.
pub const COMPACTION_KEY: &str = "/keelson/compaction";

/// Upstream's interval.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(300);

/// Runs a compactor until the task is dropped or aborted.
pub fn spawn(store: Arc<dyn Store>, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut compactor = Compactor::default();
        let mut ticks = tokio::time::interval(interval);
        ticks.tick().await;
        loop {
            if let Err(err) = compactor.tick(store.as_ref()).await {
                tracing::warn!(%err, "compaction failed; trying again next interval");
            }
            ticks.tick().await;
        }
    })
}

/// What one compactor remembers between ticks.
#[derive(Debug, Default)]
struct Compactor {
    /// The revision noted at the previous tick: this tick's target.
    target: Option<Revision>,
    /// The coordination key's revision as this compactor last saw it.
    seen: Option<Revision>,
}

impl Compactor {
    async fn tick(&mut self, store: &dyn Store) -> Result<(), StoreError> {
        let current = store.get(COMPACTION_KEY).await?;
        let current_revision = current.as_ref().map(|kv| kv.mod_revision);
        let target = self.target.replace(store.current_revision().await?);
        let Some(target) = target else {
            self.seen = current_revision;
            return Ok(());
        };
        if current_revision != self.seen {
            // Another server compacted in this interval.
            self.seen = current_revision;
            return Ok(());
        }
        let value = Bytes::from(target.to_string());
        let written = match current {
            Some(kv) => store.update(COMPACTION_KEY, value, kv.mod_revision).await,
            None => store.create(COMPACTION_KEY, value).await,
        };
        match written {
            Ok(kv) => {
                self.seen = Some(kv.mod_revision);
                store.compact(target).await
            }
            Err(StoreError::Conflict { current, .. }) => {
                self.seen = current.map(|kv| kv.mod_revision);
                Ok(())
            }
            Err(StoreError::AlreadyExists { .. }) => {
                self.seen = store.get(COMPACTION_KEY).await?.map(|kv| kv.mod_revision);
                Ok(())
            }
            Err(err) => Err(err),
        }
    }
}
