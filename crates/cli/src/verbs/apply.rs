//! `keelson apply -f FILE|DIR|-`: client-side apply by default, as kubectl
//! does it. Each object is created when absent, else patched with the
//! three-way strategic merge patch kubectl would send (see
//! [`super::strategic`]; a JSON merge patch for kinds without a schema),
//! the last-applied annotation updated in the same patch; prints kubectl's
//! `KIND/NAME created`, `configured` or `unchanged` (no request when the
//! patch is empty), and goes on after a failed object. `--server-side`
//! sends each object as a server-side apply patch instead
//! (`KIND/NAME serverside-applied`), with `--force-conflicts`. Both take
//! `--field-manager` and `--dry-run=server`.

use kube::api::{Patch, PatchParams, PostParams};
use serde_json::Value;

use super::Error;
use super::catalog::{Catalog, Resource};
use super::manifest::{self, Manifest};
use super::merge::{self, LAST_APPLIED};
use super::output::qualified_name;
use super::patch::Patching;
use super::rest::Endpoint;
use super::session::{ClientArgs, Session};
use super::strategic;

/// The field manager of server-side apply (kubectl's is `kubectl`).
const FIELD_MANAGER: &str = "keelson";
/// The field manager of client-side apply (kubectl's is
/// `kubectl-client-side-apply`).
const CLIENT_SIDE_FIELD_MANAGER: &str = "keelson-client-side-apply";
/// The Content-Type of client-side apply's patch.
const STRATEGIC: &str = "application/strategic-merge-patch+json";

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
    /// The manager recorded in managedFields (default `keelson`, or
    /// `keelson-client-side-apply` without --server-side).
    #[arg(long = "field-manager")]
    field_manager: Option<String>,
    /// `server`: let the server compute the result without storing it.
    #[arg(long = "dry-run", value_parser = ["none", "server"], default_value = "none")]
    dry_run: String,
}

impl ApplyArgs {
    fn field_manager(&self) -> String {
        let default = if self.server_side {
            FIELD_MANAGER
        } else {
            CLIENT_SIDE_FIELD_MANAGER
        };
        self.field_manager.as_deref().unwrap_or(default).to_string()
    }

    fn dry_run(&self) -> bool {
        self.dry_run == "server"
    }
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
    let manifests = manifest::read_all(&args.filenames)?;
    let session = Session::connect(client_args).await?;
    let catalog = session.discover().await?;
    let mut failed = false;
    for manifest in manifests {
        let applied = if args.server_side {
            apply_server_side(&session, &catalog, manifest, &args).await
        } else {
            apply_one(&session, &catalog, manifest, &args).await
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

/// Applies one object client-side; the line to print.
async fn apply_one(
    session: &Session,
    catalog: &Catalog,
    manifest: Manifest,
    args: &ApplyArgs,
) -> Result<String, Error> {
    let Placed {
        source,
        mut object,
        resource,
        name,
        namespace,
    } = placed(session, catalog, manifest)?;
    merge::annotate_last_applied(&mut object);
    let endpoint = Endpoint::new(&session.client, resource, namespace.as_deref());
    let outcome = match endpoint.get(&name).await {
        Ok(live) => {
            let patching = Patching {
                client: &session.client,
                resource,
                namespace: namespace.as_deref(),
            };
            patch_live(&patching, &name, &object, &live, &source, args).await?
        }
        Err(err) if err.is_not_found() => {
            let params = PostParams {
                dry_run: args.dry_run(),
                field_manager: Some(args.field_manager()),
            };
            endpoint
                .create(&object, &params)
                .await
                .map_err(|err| err.context(format!("error when creating \"{source}\"")))?;
            Outcome::Created
        }
        Err(err) => return Err(err),
    };
    Ok(outcome_line(
        resource,
        &object,
        outcome.word(),
        args.dry_run(),
    ))
}

/// Patches the live object towards `object` (the file, annotated); sends
/// nothing when the patch is empty.
async fn patch_live(
    patching: &Patching<'_>,
    name: &str,
    object: &Value,
    live: &Value,
    source: &str,
    args: &ApplyArgs,
) -> Result<Outcome, Error> {
    let resource = patching.resource;
    let original = merge::last_applied(live);
    if live["metadata"]["annotations"][LAST_APPLIED].is_null() {
        eprintln!(
            "Warning: resource {}/{name} is missing the {LAST_APPLIED} annotation which is \
             required by keelson apply. keelson apply should only be used on resources created \
             declaratively by either keelson create --save-config or keelson apply. The missing \
             annotation will be patched automatically.",
            resource.api.plural
        );
    }
    let (patch, content_type) = match shape_of(resource) {
        Some(shape) => {
            let patch =
                strategic::three_way(original.as_ref(), object, live, &shape).map_err(|err| {
                    Error::usage(format!(
                        "error when creating the patch for \"{source}\": {err}"
                    ))
                })?;
            (patch, STRATEGIC)
        }
        None => (
            merge::three_way(original.as_ref(), object, live),
            "application/merge-patch+json",
        ),
    };
    if patch.as_object().is_some_and(|p| p.is_empty()) {
        return Ok(Outcome::Unchanged);
    }
    tracing::debug!(target: "keelson::apply", "PATCH {}/{name} {content_type}: {patch}", resource.api.plural);
    let params = PatchParams {
        field_manager: Some(args.field_manager()),
        dry_run: args.dry_run(),
        ..PatchParams::default()
    };
    patching
        .send(name, &params, content_type, &Patch::Merge(&patch))
        .await
        .map_err(|err| err.context(format!("error when patching \"{source}\"")))?;
    Ok(Outcome::Configured)
}

/// What strategic merge patch knows of the resource's kind; `None` for
/// kinds outside the registry, which get a JSON merge patch (as kubectl
/// does for kinds it has no types for).
fn shape_of(resource: &Resource) -> Option<keelson_api::strategic_merge::Shape> {
    let api = &resource.api;
    let info = keelson_api::registry::by_kind(&api.group, &api.version, &api.kind)?;
    keelson_api::strategic_merge::Shape::of(info.definition)
}

/// Applies one object server-side; the line to print.
async fn apply_server_side(
    session: &Session,
    catalog: &Catalog,
    manifest: Manifest,
    args: &ApplyArgs,
) -> Result<String, Error> {
    let Placed {
        source,
        object,
        resource,
        name,
        namespace,
    } = placed(session, catalog, manifest)?;
    let params = PatchParams {
        field_manager: Some(args.field_manager()),
        force: args.force_conflicts,
        dry_run: args.dry_run(),
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
    Ok(outcome_line(
        resource,
        &applied,
        "serverside-applied",
        params.dry_run,
    ))
}

/// A manifest with its served resource, name and namespace worked out.
struct Placed<'a> {
    source: String,
    object: Value,
    resource: &'a Resource,
    name: String,
    namespace: Option<String>,
}

/// Resolves a manifest's resource and name and sets its namespace.
fn placed<'a>(
    session: &Session,
    catalog: &'a Catalog,
    manifest: Manifest,
) -> Result<Placed<'a>, Error> {
    let Manifest { source, mut object } = manifest;
    let resource = resolve(catalog, &object, &source)?;
    let name = object_name(resource, &object, &source)?;
    let namespace = place(session, resource, &mut object)?;
    Ok(Placed {
        source,
        object,
        resource,
        name,
        namespace,
    })
}

/// kubectl's line for one applied object.
fn outcome_line(resource: &Resource, object: &Value, word: &str, dry_run: bool) -> String {
    let mut line = format!("{} {word}", qualified_name(resource, object));
    if dry_run {
        line.push_str(" (server dry run)");
    }
    line
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
