//! The `keelson` binary: parses the command line and hands each subcommand
//! to its module.

/// mimalloc rather than glibc's malloc: measured faster for the API
/// server's and the scheduler's many small JSON allocations.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod api_bench;
mod api_sockets;
mod at_rest;
mod audit_files;
mod bench_client;
mod controller_manager;
mod hostile_bench;
mod kubeconfig_user;
mod leader_flags;
mod open_files;
mod pki;
mod scheduler;
mod store_bench;
mod up;
mod verbs;
mod watch_bench;

use clap::{Parser, Subcommand};

/// keelson: a Kubernetes-compatible control plane in one binary.
#[derive(Parser)]
#[command(name = "keelson", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    client: verbs::ClientArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the control plane: the API server on the embedded store (or etcd).
    Up(up::UpArgs),
    /// Run the API server alone.
    Apiserver(up::UpArgs),
    /// Run the controllers as a process of their own, elected on a Lease.
    ControllerManager(controller_manager::ControllerManagerArgs),
    /// Run the scheduler as a process of its own, elected on a Lease.
    Scheduler(scheduler::SchedulerArgs),
    /// Create or update objects from manifest files.
    Apply(verbs::apply::ApplyArgs),
    /// Show objects: the server's tables, or YAML, JSON or names.
    Get(verbs::get::GetArgs),
    /// Delete objects by type and name, label selector or manifest file.
    Delete(verbs::delete::DeleteArgs),
    /// Patch one object (strategic merge, JSON merge or JSON patch).
    Patch(verbs::patch::PatchArgs),
    /// Measure the API server.
    Api {
        #[command(subcommand)]
        command: ApiCommand,
    },
    /// Make kubeconfigs for new identities.
    Kubeconfig {
        #[command(subcommand)]
        command: KubeconfigCommand,
    },
    /// Work with the storage layer directly.
    Store {
        #[command(subcommand)]
        command: StoreCommand,
    },
}

#[derive(Subcommand)]
enum ApiCommand {
    /// Benchmark the API server on each store against the raw store.
    Bench(api_bench::ApiBenchArgs),
    /// Measure what a few hostile requests cost a running server.
    Hostile(hostile_bench::HostileBenchArgs),
    /// Open many sockets that send nothing or half a request against
    /// `keelson up`, and see whether it still answers.
    Sockets(api_sockets::ApiSocketsArgs),
    /// Measure the API server's memory under watchers that never read and
    /// under large lists.
    WatchBench(watch_bench::WatchBenchArgs),
}

#[derive(Subcommand)]
enum KubeconfigCommand {
    /// Print a kubeconfig for a user (or a node: `--client-name
    /// system:node:NAME --org system:nodes`) with a client certificate
    /// from the cluster's CA.
    User(kubeconfig_user::UserArgs),
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Benchmark the embedded store against a real etcd, side by side.
    Bench(store_bench::BenchArgs),
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,kube_client=off")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new()?;
    match cli.command {
        Command::Up(args) | Command::Apiserver(args) => runtime.block_on(up::run(args)),
        Command::ControllerManager(args) => {
            runtime.block_on(controller_manager::run(&cli.client, args))
        }
        Command::Scheduler(args) => runtime.block_on(scheduler::run(&cli.client, args)),
        Command::Store {
            command: StoreCommand::Bench(args),
        } => runtime.block_on(store_bench::run(args)),
        Command::Api {
            command: ApiCommand::Bench(args),
        } => runtime.block_on(api_bench::run(args)),
        Command::Api {
            command: ApiCommand::Hostile(args),
        } => runtime.block_on(hostile_bench::run(args)),
        Command::Api {
            command: ApiCommand::Sockets(args),
        } => runtime.block_on(api_sockets::run(args)),
        Command::Api {
            command: ApiCommand::WatchBench(args),
        } => runtime.block_on(watch_bench::run(args)),
        Command::Kubeconfig {
            command: KubeconfigCommand::User(args),
        } => kubeconfig_user::run(args),
        Command::Apply(args) => verbs::exit(runtime.block_on(verbs::apply::run(&cli.client, args))),
        Command::Get(args) => verbs::exit(runtime.block_on(verbs::get::run(&cli.client, args))),
        Command::Delete(args) => {
            verbs::exit(runtime.block_on(verbs::delete::run(&cli.client, args)))
        }
        Command::Patch(args) => verbs::exit(runtime.block_on(verbs::patch::run(&cli.client, args))),
    }
}
