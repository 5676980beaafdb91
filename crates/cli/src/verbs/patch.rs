//! `keelson patch TYPE NAME -p PATCH [--type strategic|merge|json]`: one
//! patch of one object, printed as kubectl prints it (`KIND/NAME patched`,
//! or `patched (no change)`). Also the raw `PATCH` request that
//! server-side apply shares.

use http::HeaderValue;
use http::header::CONTENT_TYPE;
use kube::Client;
use kube::api::{DynamicObject, Patch, PatchParams};
use kube::core::{Request, Resource as _};
use serde_json::Value;

use super::Error;
use super::catalog::Resource;
use super::output::qualified_name;
use super::rest::Endpoint;
use super::session::{ClientArgs, Session};

/// The field manager of `keelson patch`.
const FIELD_MANAGER: &str = "keelson-patch";

/// Which patch format `--type` names.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// Strategic merge patch (lists merged by their merge keys).
    Strategic,
    /// JSON merge patch (RFC 7386).
    Merge,
    /// JSON patch (RFC 6902).
    Json,
}

/// Options of `keelson patch`.
#[derive(clap::Args, Debug)]
pub struct PatchArgs {
    /// `TYPE NAME` or `TYPE/NAME`.
    #[arg(required = true, num_args = 1..=2)]
    arguments: Vec<String>,
    /// The patch, as JSON or YAML.
    #[arg(short = 'p', long = "patch", required = true)]
    patch: String,
    /// The patch format.
    #[arg(long = "type", value_enum, default_value = "strategic")]
    patch_type: PatchType,
    /// The manager recorded in managedFields.
    #[arg(long = "field-manager", default_value = FIELD_MANAGER)]
    field_manager: String,
    /// `server`: let the server check the patch without storing it.
    #[arg(long = "dry-run", value_parser = ["none", "server"], default_value = "none")]
    dry_run: String,
}

/// Runs `keelson patch`.
pub async fn run(client_args: &ClientArgs, args: PatchArgs) -> Result<(), Error> {
    let patch: Value = serde_yaml::from_str(&args.patch)
        .map_err(|err| Error::usage(format!("unable to parse {:?}: {err}", args.patch)))?;
    let session = Session::connect(client_args).await?;
    let catalog = session.discover().await?;
    let targets = catalog.targets(&args.arguments)?;
    let (resource, name) = match targets.as_slice() {
        [target] if target.names.len() == 1 => (target.resource, target.names[0].clone()),
        _ => {
            return Err(Error::usage(
                "patch needs exactly one object: TYPE NAME or TYPE/NAME",
            ));
        }
    };
    let namespace = resource.namespaced.then_some(session.namespace.as_str());
    let before = Endpoint::new(&session.client, resource, namespace)
        .get(&name)
        .await?;
    let content_type = match args.patch_type {
        PatchType::Strategic => "application/strategic-merge-patch+json",
        PatchType::Merge => "application/merge-patch+json",
        PatchType::Json => "application/json-patch+json",
    };
    let params = PatchParams {
        field_manager: Some(args.field_manager.clone()),
        dry_run: args.dry_run == "server",
        ..PatchParams::default()
    };
    let request = Patching {
        client: &session.client,
        resource,
        namespace,
    };
    let after = request
        .send(&name, &params, content_type, &Patch::Merge(&patch))
        .await?;
    let unchanged = before["metadata"]["resourceVersion"] == after["metadata"]["resourceVersion"];
    let mut line = format!("{} patched", qualified_name(resource, &after));
    if unchanged {
        line.push_str(" (no change)");
    }
    if params.dry_run {
        line.push_str(" (server dry run)");
    }
    println!("{line}");
    Ok(())
}

/// `PATCH` requests on one resource in one namespace.
pub struct Patching<'a> {
    pub client: &'a Client,
    pub resource: &'a Resource,
    pub namespace: Option<&'a str>,
}

impl Patching<'_> {
    /// Sends `patch` (serialized as its JSON) as `content_type`; the
    /// object the server answers.
    pub async fn send(
        &self,
        name: &str,
        params: &PatchParams,
        content_type: &'static str,
        patch: &Patch<&Value>,
    ) -> Result<Value, Error> {
        let path = DynamicObject::url_path(&self.resource.api, self.namespace);
        let mut request = Request::new(path)
            .patch(name, params, patch)
            .map_err(|err| Error::Client(format!("cannot build the request: {err}")))?;
        request
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        Ok(self.client.request(request).await?)
    }
}
