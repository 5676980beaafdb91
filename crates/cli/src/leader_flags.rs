//! The leader-election flags `keelson controller-manager` and `keelson
//! scheduler` share, named as upstream's components name them.

use std::time::Duration;

use keelson_client::leader::{self, LeaderConfig};

/// `--leader-elect` and the Lease's durations and name.
#[derive(clap::Args, Debug, Clone)]
pub struct LeaderFlags {
    /// Elect a leader on a Lease before working.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set,
          num_args = 0..=1, default_missing_value = "true")]
    pub leader_elect: bool,
    /// How long a Lease not renewed stays its holder's.
    #[arg(long, default_value = "15s", value_parser = crate::up::duration)]
    pub leader_elect_lease_duration: Duration,
    /// How long the leader keeps leading without renewing the Lease.
    #[arg(long, default_value = "10s", value_parser = crate::up::duration)]
    pub leader_elect_renew_deadline: Duration,
    /// How often candidates try to acquire and the leader renews.
    #[arg(long, default_value = "2s", value_parser = crate::up::duration)]
    pub leader_elect_retry_period: Duration,
    /// The namespace of the Lease.
    #[arg(long, default_value = "kube-system")]
    pub leader_elect_resource_namespace: String,
    /// The name of the Lease (default: the component's,
    /// `kube-controller-manager` or `kube-scheduler`).
    #[arg(long)]
    pub leader_elect_resource_name: Option<String>,
}

impl LeaderFlags {
    /// The election these flags ask for, on the Lease `name` when no flag
    /// names one, with a new candidate identity.
    pub fn config(&self, name: &str) -> LeaderConfig {
        LeaderConfig {
            namespace: self.leader_elect_resource_namespace.clone(),
            name: self
                .leader_elect_resource_name
                .clone()
                .unwrap_or_else(|| name.to_string()),
            lease_duration: self.leader_elect_lease_duration,
            renew_deadline: self.leader_elect_renew_deadline,
            retry_period: self.leader_elect_retry_period,
            ..LeaderConfig::new(leader::default_identity())
        }
    }
}
