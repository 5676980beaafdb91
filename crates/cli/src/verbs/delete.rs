//! `keelson delete TYPE NAME... | TYPE/NAME... | TYPE -l SELECTOR | -f
//! FILE`: deletes in the background (as kubectl does) and prints
//! `deployment.apps "web" deleted`; a missing object is an error unless
//! `--ignore-not-found`, and the others are still deleted.

use kube::api::ListParams;

use super::Error;
use super::catalog::{Catalog, Resource};
use super::manifest;
use super::rest::Endpoint;
use super::session::{ClientArgs, Session};

/// Options of `keelson delete`.
#[derive(clap::Args, Debug)]
pub struct DeleteArgs {
    /// `TYPE NAME...` or `TYPE/NAME...`.
    #[arg(value_name = "TYPE [NAME...]")]
    arguments: Vec<String>,
    /// Delete the objects of these manifests (a file, a directory or `-`).
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    filenames: Vec<String>,
    /// Delete every object of the type that matches this label selector.
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    selector: Option<String>,
    /// Delete every object of the type in the namespace.
    #[arg(long)]
    all: bool,
    /// A missing object is not an error.
    #[arg(long)]
    ignore_not_found: bool,
}

/// One object to delete, and the file it came from.
struct Doomed<'a> {
    resource: &'a Resource,
    namespace: Option<String>,
    name: String,
    source: Option<String>,
}

/// Runs `keelson delete`.
pub async fn run(client_args: &ClientArgs, args: DeleteArgs) -> Result<(), Error> {
    if args.arguments.is_empty() == args.filenames.is_empty() {
        return Err(Error::usage(
            "You must provide one or more resources by argument or filename.",
        ));
    }
    let session = Session::connect(client_args).await?;
    let catalog = session.discover().await?;
    let doomed = if args.filenames.is_empty() {
        by_arguments(&session, &catalog, &args).await?
    } else {
        by_manifests(&session, &catalog, &args.filenames)?
    };
    let mut failed = false;
    for object in doomed {
        let endpoint = Endpoint::new(
            &session.client,
            object.resource,
            object.namespace.as_deref(),
        );
        match endpoint.delete(&object.name).await {
            Ok(()) => println!(
                "{} \"{}\" deleted",
                object.resource.kind_group(),
                object.name
            ),
            Err(err) if err.is_not_found() && args.ignore_not_found => {}
            Err(err) => {
                let err = match &object.source {
                    Some(source) => err.context(format!("error when deleting \"{source}\"")),
                    None => err,
                };
                eprintln!("{err}");
                failed = true;
            }
        }
    }
    if failed { Err(Error::Reported) } else { Ok(()) }
}

/// The objects that `TYPE NAME...`, `TYPE/NAME...`, `TYPE -l` or
/// `TYPE --all` name, in the session's namespace.
async fn by_arguments<'a>(
    session: &Session,
    catalog: &'a Catalog,
    args: &DeleteArgs,
) -> Result<Vec<Doomed<'a>>, Error> {
    let targets = catalog.targets(&args.arguments)?;
    let by_selection = args.selector.is_some() || args.all;
    let named = targets.iter().any(|t| !t.names.is_empty());
    if named == by_selection {
        return Err(Error::usage(
            "resource(s) were provided, but no name was specified: \
             give names, a label selector (-l) or --all",
        ));
    }
    let mut doomed = Vec::new();
    for target in targets {
        let mut names = target.names.clone();
        if by_selection {
            let endpoint =
                Endpoint::new(&session.client, target.resource, Some(&session.namespace));
            let selectors = ListParams {
                label_selector: args.selector.clone(),
                ..ListParams::default()
            };
            let list = endpoint.list(&selectors, false).await?;
            names = list["items"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(|item| item["metadata"]["name"].as_str().map(str::to_string))
                .collect();
        }
        doomed.extend(names.into_iter().map(|name| Doomed {
            resource: target.resource,
            namespace: Some(session.namespace.clone()),
            name,
            source: None,
        }));
    }
    if doomed.is_empty() {
        eprintln!("No resources found");
    }
    Ok(doomed)
}

/// The objects of manifest files, each in its own namespace.
fn by_manifests<'a>(
    session: &Session,
    catalog: &'a Catalog,
    filenames: &[String],
) -> Result<Vec<Doomed<'a>>, Error> {
    let mut doomed = Vec::new();
    for manifest in manifest::read_all(filenames)? {
        let object = &manifest.object;
        let api_version = object["apiVersion"].as_str().unwrap_or("");
        let kind = object["kind"].as_str().unwrap_or("");
        let resource = catalog.by_kind(api_version, kind).ok_or_else(|| {
            Error::usage(format!(
                "resource mapping not found from \"{}\": no matches for kind \"{kind}\" in version \"{api_version}\"",
                manifest.source
            ))
        })?;
        let namespace = object["metadata"]["namespace"]
            .as_str()
            .filter(|ns| !ns.is_empty())
            .unwrap_or(&session.namespace);
        doomed.push(Doomed {
            resource,
            namespace: Some(namespace.to_string()),
            name: object["metadata"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            source: Some(manifest.source.clone()),
        });
    }
    Ok(doomed)
}
