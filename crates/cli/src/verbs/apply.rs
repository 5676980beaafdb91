//! `keelson apply -f FILE|DIR|-`: client-side apply by default. Each
//! object is created when absent, else patched with a three-way JSON merge
//! patch (see [`super::merge`]); prints kubectl's `KIND/NAME created`,
//! `configured` or `unchanged`, and goes on after a failed object.
//! `--server-side` sends each object as a server-side apply patch instead
//! (`KIND/NAME serverside-applied`), with `--force-conflicts`,
//! `--field-manager` and `--dry-run=server` as in kubectl.

use kube::api::{Patch, PatchParams};
use serde_json::Value;

use super::Error;
use super::catalog::{Catalog, Resource};
use super::manifest::{self, Manifest};
use super::merge;
use super::output::qualified_name;
use super::patch::Patching;
use super::rest::Endpoint;
use super::session::{ClientArgs, Session};

/// The field manager of keelson's apply (both kinds).
const FIELD_MANAGER: &str = "keelson";

/// Options of `keelson apply`.
#[derive(clap::Args, Debug)]
pub struct ApplyArgs {
    /// A manifest file, a directory of them, or `-` for stdin (repeatable).
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    filenames: Vec<String>,
    /// Let the server merge and track field ownership (server-side apply).
    #[arg(long = "server-side")]
    server_side: bool,
    /// With --server-side: take fields other managers own instead of failing.
    #[arg(long = "force-conflicts", requires = "server_side")]
    force_conflicts: bool,
    /// The manager recorded in managedFields.
    #[arg(long = "field-manager", default_value = FIELD_MANAGER)]
    field_manager: String,
    /// `server` (with --server-side): let the server compute the result
    /// without storing it.
    #[arg(long = "dry-run", value_parser = ["none", "server"], default_value = "none")]
    dry_run: String,
}

/// What an apply did to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Created,
    Configured,
    Unchanged,
}

impl Outcome {
    fn word(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Configured => "configured",
            Self::Unchanged => "unchanged",
        }
    }
}

/// Runs `keelson apply`.
pub async fn run(client_args: &ClientArgs, args: ApplyArgs) -> Result<(), Error> {
    if args.dry_run == "server" && !args.server_side {
        return Err(Error::usage(
            "--dry-run=server is only supported with --server-side in keelson",
        ));
    }
    let manifests = manifest::read_all(&args.filenames)?;
    let session = Session::connect(client_args).await?;
    let catalog = session.discover().await?;
    let mut failed = false;
    for manifest in manifests {
        let applied = if args.server_side {
            apply_server_side(&session, &catalog, manifest, &args).await
        } else {
            apply_one(&session, &catalog, manifest, &args.field_manager).await
        };
        match applied {
            Ok(line) => println!("{line}"),
            Err(err) => {
                eprintln!("{err}");
                failed = true;
            }
        }
    }
    if failed { Err(Error::Reported) } else { Ok(()) }
}

/// Applies one object; the line to print.
async fn apply_one(
    session: &Session,
    catalog: &Catalog,
    manifest: Manifest,
    field_manager: &str,
) -> Result<String, Error> {
    let Manifest { source, mut object } = manifest;
    let resource = resolve(catalog, &object, &source)?;
    let name = object_name(resource, &object, &source)?;
    let namespace = place(session, resource, &mut object)?;
    merge::annotate_last_applied(&mut object);
    let endpoint = Endpoint::new(&session.client, resource, namespace.as_deref());
    let outcome = match endpoint.get(&name).await {
        Ok(live) => {
            let patch = merge::three_way(merge::last_applied(&live).as_ref(), &object, &live);
            if patch.as_object().is_some_and(|p| p.is_empty()) {
                Outcome::Unchanged
            } else {
                endpoint
                    .merge_patch(&name, &patch, field_manager)
                    .await
                    .map_err(|err| err.context(format!("error when patching \"{source}\"")))?;
                Outcome::Configured
            }
        }
        Err(err) if err.is_not_found() => {
            endpoint
                .create(&object, field_manager)
                .await
                .map_err(|err| err.context(format!("error when creating \"{source}\"")))?;
            Outcome::Created
        }
        Err(err) => return Err(err),
    };
    Ok(format!(
        "{} {}",
        qualified_name(resource, &object),
        outcome.word()
    ))
}

/// Applies one object server-side; the line to print.
async fn apply_server_side(
    session: &Session,
    catalog: &Catalog,
    manifest: Manifest,
    args: &ApplyArgs,
) -> Result<String, Error> {
    let Manifest { source, mut object } = manifest;
    let resource = resolve(catalog, &object, &source)?;
    let name = object_name(resource, &object, &source)?;
    let namespace = place(session, resource, &mut object)?;
    let params = PatchParams {
        field_manager: Some(args.field_manager.clone()),
        force: args.force_conflicts,
        dry_run: args.dry_run == "server",
        ..PatchParams::default()
    };
    let patching = Patching {
        client: &session.client,
        resource,
        namespace: namespace.as_deref(),
    };
    let applied = patching
        .send(
            &name,
            &params,
            "application/apply-patch+yaml",
            &Patch::Apply(&object),
        )
        .await
        .map_err(|err| err.context(format!("error when applying \"{source}\"")))?;
    let mut line = format!("{} serverside-applied", qualified_name(resource, &applied));
    if params.dry_run {
        line.push_str(" (server dry run)");
    }
    Ok(line)
}

/// The object's name; an object without one cannot be applied.
fn object_name(resource: &Resource, object: &Value, source: &str) -> Result<String, Error> {
    let name = object["metadata"]["name"].as_str().unwrap_or("");
    if name.is_empty() {
        return Err(Error::usage(format!(
            "error when retrieving current configuration of {} from {source}: the object has no metadata.name",
            resource.kind_group()
        )));
    }
    Ok(name.to_string())
}

/// The served resource of an object's `apiVersion` and `kind`.
fn resolve<'a>(catalog: &'a Catalog, object: &Value, source: &str) -> Result<&'a Resource, Error> {
    let api_version = object["apiVersion"].as_str().unwrap_or("");
    let kind = object["kind"].as_str().unwrap_or("");
    let missing: Vec<&str> = [("apiVersion", api_version), ("kind", kind)]
        .iter()
        .filter(|(_, value)| value.is_empty())
        .map(|(field, _)| *field)
        .collect();
    if !missing.is_empty() {
        return Err(Error::usage(format!(
            "error validating \"{source}\": {} not set",
            missing.join(", ")
        )));
    }
    catalog.by_kind(api_version, kind).ok_or_else(|| {
        let name = object["metadata"]["name"].as_str().unwrap_or("");
        let namespace = object["metadata"]["namespace"].as_str().unwrap_or("");
        Error::usage(format!(
            "resource mapping not found for name: \"{name}\" namespace: \"{namespace}\" from \"{source}\": \
             no matches for kind \"{kind}\" in version \"{api_version}\"\nensure CRDs are installed first"
        ))
    })
}

/// Puts a namespaced object in its namespace (the file's, else `-n`, else
/// the context's); `-n` that contradicts the file is an error, as in
/// kubectl. The namespace to use, `None` for cluster-scoped objects.
fn place(
    session: &Session,
    resource: &Resource,
    object: &mut Value,
) -> Result<Option<String>, Error> {
    if !resource.namespaced {
        return Ok(None);
    }
    let own = object["metadata"]["namespace"]
        .as_str()
        .unwrap_or("")
        .to_string();
    if own.is_empty() {
        object["metadata"]["namespace"] = Value::String(session.namespace.clone());
        return Ok(Some(session.namespace.clone()));
    }
    if session.explicit_namespace && own != session.namespace {
        return Err(Error::usage(format!(
            "the namespace from the provided object \"{own}\" does not match the namespace \"{}\". \
             You must pass '--namespace={own}' to perform this operation.",
            session.namespace
        )));
    }
    Ok(Some(own))
}
