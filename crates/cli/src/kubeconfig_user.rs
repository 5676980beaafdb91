//! `keelson kubeconfig user`: a kubeconfig for a new identity, its client
//! certificate signed by the cluster's CA, as `kubeadm kubeconfig user`
//! makes one. A node agent's identity is `--client-name system:node:NAME
//! --org system:nodes`: the Node authorizer and NodeRestriction then give
//! it exactly what upstream gives a kubelet.

use std::path::PathBuf;

/// Options of `keelson kubeconfig user`.
#[derive(clap::Args, Debug)]
pub struct UserArgs {
    /// The user: the certificate's common name.
    #[arg(long)]
    client_name: String,
    /// The user's group: the certificate's organization.
    #[arg(long)]
    org: Option<String>,
    /// The data dir of `keelson up`, with its CA and admin kubeconfig.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// How long the certificate is valid, in days.
    #[arg(long, default_value_t = 365)]
    validity_days: i64,
}

/// Prints the kubeconfig on standard output.
pub fn run(args: UserArgs) -> anyhow::Result<()> {
    let data_dir = args.data_dir.unwrap_or_else(crate::up::default_data_dir);
    let (cert, key) = crate::pki::issue_client(
        &data_dir,
        &args.client_name,
        args.org.as_deref(),
        args.validity_days,
    )?;
    let config = crate::up::kubeconfig_for(&data_dir, &args.client_name, (&cert, &key))?;
    print!("{config}");
    Ok(())
}
