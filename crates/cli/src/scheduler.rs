//! `keelson scheduler`: the scheduler as a process of its own, an API
//! client of the server its kubeconfig names, as upstream's
//! kube-scheduler runs. `--config` reads a `KubeSchedulerConfiguration`
//! (profiles, plugins, weights, `percentageOfNodesToScore`); a
//! configuration naming an unknown plugin or a bad weight is refused at
//! start, naming it. With `--leader-elect` (the default) it schedules
//! only while it holds the Lease `kube-system/kube-scheduler`.
//!
//! `/healthz` (and `/readyz`) answer `ok` over plain HTTP on
//! `--healthz-bind-address`, loopback by default, as the controller
//! manager's do.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use keelson_client::leader::{self, Ended, LeaderConfig};
use keelson_scheduler::config::SchedulerConfiguration;

use crate::controller_manager::{kubeconfig_path, read_kubeconfig, serve_healthz};
use crate::verbs::ClientArgs;

/// Options of `keelson scheduler`, named as upstream's.
#[derive(clap::Args, Debug)]
pub struct SchedulerArgs {
    /// A `KubeSchedulerConfiguration` (YAML): profiles, plugins, weights.
    #[arg(long)]
    config: Option<PathBuf>,
    #[command(flatten)]
    leader: crate::leader_flags::LeaderFlags,
    /// Where `/healthz` is served (plain HTTP; port 0 picks a free one).
    #[arg(long, visible_alias = "listen", default_value = "127.0.0.1:10259")]
    healthz_bind_address: SocketAddr,
    /// Accepted as every component accepts it; the scheduler keeps
    /// nothing on disk.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// Reads `--config`, or the defaults.
pub fn configuration(path: Option<&PathBuf>) -> anyhow::Result<SchedulerConfiguration> {
    let Some(path) = path else {
        return Ok(SchedulerConfiguration::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the scheduler configuration {}", path.display()))?;
    SchedulerConfiguration::from_yaml(&text).with_context(|| path.display().to_string())
}

/// Runs the scheduler until it is stopped or loses leadership.
pub async fn run(client: &ClientArgs, args: SchedulerArgs) -> anyhow::Result<()> {
    let config = configuration(args.config.as_ref())?;
    let kubeconfig = kubeconfig_path(client, "scheduler")?;
    let (kube_config, _) = read_kubeconfig(&kubeconfig, client.context.as_deref()).await?;
    let api = kube::Client::try_from(kube_config)?;
    // Built before anything starts, so a bad configuration fails at once.
    let scheduler = keelson_scheduler::scheduler::Scheduler::new(
        api.clone(),
        &config,
        &keelson_scheduler::plugins::in_tree(),
    )?;
    let healthz = serve_healthz(args.healthz_bind_address).await?;
    eprintln!("keelson scheduler: healthz on http://{healthz}/healthz");
    let shutdown = crate::up::shutdown_signal();
    let elect = config
        .leader_election
        .as_ref()
        .and_then(|l| l.leader_elect)
        .unwrap_or(args.leader.leader_elect);
    if !elect {
        scheduler.run(shutdown).await?;
        eprintln!("keelson scheduler stopped");
        return Ok(());
    }
    let leader = leader_config(&args, &config);
    eprintln!(
        "keelson scheduler: {} is a candidate for the lease {}/{}",
        leader.identity, leader.namespace, leader.name
    );
    let work = || async move {
        scheduler.run(std::future::pending()).await?;
        Ok::<(), anyhow::Error>(())
    };
    match leader::run_elected(api, leader, shutdown, work).await? {
        Ended::Worked(result) => result,
        Ended::ShutDown => {
            eprintln!("keelson scheduler stopped");
            Ok(())
        }
    }
}

/// The election of the flags, with the configuration's Lease, when it
/// names one, winning.
fn leader_config(args: &SchedulerArgs, config: &SchedulerConfiguration) -> LeaderConfig {
    let election = config.leader_election.clone().unwrap_or_default();
    let mut leader = args.leader.config("kube-scheduler");
    if let Some(namespace) = election.resource_namespace {
        leader.namespace = namespace;
    }
    if let Some(name) = election.resource_name {
        leader.name = name;
    }
    leader
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    struct Command {
        #[command(flatten)]
        args: SchedulerArgs,
    }

    #[test]
    fn the_lease_is_upstreams_unless_the_configuration_names_another() {
        let args = <Command as clap::Parser>::try_parse_from(["scheduler"])
            .expect("no flags")
            .args;
        assert!(args.leader.leader_elect);
        let leader = leader_config(&args, &SchedulerConfiguration::default());
        assert_eq!(
            (leader.namespace.as_str(), leader.name.as_str()),
            ("kube-system", "kube-scheduler")
        );
        let config = SchedulerConfiguration::from_yaml(
            "leaderElection: {leaderElect: true, resourceName: mine, resourceNamespace: ops}",
        )
        .expect("valid");
        let leader = leader_config(&args, &config);
        assert_eq!(
            (leader.namespace.as_str(), leader.name.as_str()),
            ("ops", "mine")
        );
    }
}
