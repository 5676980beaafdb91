//! The connection every verb starts with: kubectl's global flags
//! (`--kubeconfig`, `KUBECONFIG`, `--context`, `-n`) turned into a kube-rs
//! [`Client`] and the namespace to work in.

use std::path::PathBuf;

use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig};

use super::Error;
use super::catalog::Catalog;
use super::error::error_chain;

/// kubectl's global flags, accepted before or after the verb.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ClientArgs {
    /// Path to the kubeconfig file (else `$KUBECONFIG`, else `~/.kube/config`).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (else its current context).
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The namespace to work in (else the context's, else `default`).
    #[arg(short = 'n', long, global = true, value_name = "NS")]
    pub namespace: Option<String>,
}

/// A client of one API server and the namespace a verb works in.
pub struct Session {
    /// The kube-rs client.
    pub client: Client,
    /// `-n`, else the context's namespace, else `default`.
    pub namespace: String,
    /// Whether the user chose the namespace with `-n`.
    pub explicit_namespace: bool,
    /// `host:port` of the server.
    server: String,
}

impl Session {
    /// Reads the kubeconfig the flags name and connects (lazily: the
    /// first request opens the connection).
    pub async fn connect(args: &ClientArgs) -> Result<Self, Error> {
        let kubeconfig = match &args.kubeconfig {
            Some(path) => Kubeconfig::read_from(path),
            None => Kubeconfig::read(),
        }
        .map_err(|err| {
            Error::Client(format!("cannot load the kubeconfig: {}", error_chain(&err)))
        })?;
        let options = KubeConfigOptions {
            context: args.context.clone(),
            ..KubeConfigOptions::default()
        };
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|err| Error::Client(format!("invalid kubeconfig: {}", error_chain(&err))))?;
        let namespace = args
            .namespace
            .clone()
            .unwrap_or_else(|| config.default_namespace.clone());
        let url = &config.cluster_url;
        let server = url
            .authority()
            .map_or_else(|| url.to_string(), ToString::to_string);
        let client = Client::try_from(config)
            .map_err(|err| Error::Client(format!("cannot make a client: {}", error_chain(&err))))?;
        Ok(Self {
            client,
            namespace,
            explicit_namespace: args.namespace.is_some(),
            server,
        })
    }

    /// What the server serves: the first request of every verb, so a
    /// server that is not there reads as kubectl says it.
    pub async fn discover(&self) -> Result<Catalog, Error> {
        Catalog::discover(&self.client).await.map_err(|err| match err {
            Error::Client(text) if text.contains("Connection refused") => Error::Plain(format!(
                "The connection to the server {} was refused - did you specify the right host or port?",
                self.server
            )),
            other => other,
        })
    }
}
