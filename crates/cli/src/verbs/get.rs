//! `keelson get TYPE[,TYPE...] [NAME...] | TYPE/NAME...`: the server's
//! tables (`-o wide` for the wide columns) or the objects (`-o
//! yaml|json|name`), in one namespace, or across all with `-A`, filtered
//! by `-l` and `--field-selector`.

use kube::api::ListParams;
use serde_json::Value;

use super::Error;
use super::catalog::Target;
use super::output::{self, Format};
use super::rest::Endpoint;
use super::session::{ClientArgs, Session};
use super::table::{self, Style};

/// Options of `keelson get`.
#[derive(clap::Args, Debug)]
pub struct GetArgs {
    /// `TYPE[,TYPE...] [NAME...]` or `TYPE/NAME...`.
    #[arg(value_name = "TYPE [NAME...]")]
    arguments: Vec<String>,
    /// List across all namespaces.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
    /// Label selector (`app=web,tier!=db`).
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    selector: Option<String>,
    /// Field selector (`metadata.name=web`).
    #[arg(long, value_name = "SELECTOR")]
    field_selector: Option<String>,
    /// Output format: wide, yaml, json or name.
    #[arg(short = 'o', long, value_name = "FORMAT")]
    output: Option<String>,
    /// Keep `metadata.managedFields` in `-o yaml|json`.
    #[arg(long)]
    show_managed_fields: bool,
}

/// Where to look, and what for.
struct Query<'a> {
    session: &'a Session,
    /// `None` with `-A`.
    namespace: Option<&'a str>,
    selectors: ListParams,
}

impl Query<'_> {
    fn endpoint<'r>(&'r self, target: &Target<'r>) -> Endpoint<'r> {
        Endpoint::new(&self.session.client, target.resource, self.namespace)
    }
}

/// Runs `keelson get`.
pub async fn run(client_args: &ClientArgs, args: GetArgs) -> Result<(), Error> {
    let format = Format::parse(args.output.as_deref())?;
    let session = Session::connect(client_args).await?;
    let catalog = session.discover().await?;
    let targets = catalog.targets(&args.arguments)?;
    let named = targets.iter().any(|t| !t.names.is_empty());
    if named && args.all_namespaces {
        return Err(Error::usage(
            "a resource cannot be retrieved by name across all namespaces",
        ));
    }
    if named && args.selector.is_some() {
        return Err(Error::usage("selectors and names cannot be combined"));
    }
    let selectors = ListParams {
        label_selector: args.selector.clone(),
        field_selector: args.field_selector.clone(),
        ..ListParams::default()
    };
    let query = Query {
        session: &session,
        namespace: (!args.all_namespaces).then_some(session.namespace.as_str()),
        selectors,
    };
    let mut failures = Vec::new();
    let found = match format {
        Format::Table | Format::Wide => {
            print_tables(&query, &targets, format == Format::Wide, &mut failures).await?
        }
        _ => {
            let output = (format, args.show_managed_fields);
            print_objects(&query, &targets, output, &mut failures).await?
        }
    };
    if found == 0 && !named && failures.is_empty() {
        let all_namespaced = targets.iter().all(|t| t.resource.namespaced);
        match query.namespace {
            Some(namespace) if all_namespaced => {
                eprintln!("No resources found in {namespace} namespace.")
            }
            _ => eprintln!("No resources found"),
        }
    }
    for failure in &failures {
        eprintln!("{failure}");
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Error::Reported)
    }
}

/// Prints each target's table; how many rows. Objects that are not found
/// go to `failures`; other errors stop the command.
async fn print_tables(
    query: &Query<'_>,
    targets: &[Target<'_>],
    wide: bool,
    failures: &mut Vec<Error>,
) -> Result<usize, Error> {
    let mut printed = 0;
    for target in targets {
        let Some(table) = fetch_table(query, target, failures).await? else {
            continue;
        };
        let kind = target.resource.kind_group();
        let style = Style {
            wide,
            namespace_column: query.namespace.is_none() && target.resource.namespaced,
            kind_prefix: (targets.len() > 1).then_some(kind.as_str()),
        };
        let (header, rows) = table::cells(&table, style);
        if rows.is_empty() {
            continue;
        }
        if printed > 0 {
            println!();
        }
        printed += rows.len();
        let mut lines = vec![header];
        lines.extend(rows);
        print!("{}", table::align(&lines));
    }
    Ok(printed)
}

/// The table of one target: a list, or the named objects' rows together.
async fn fetch_table(
    query: &Query<'_>,
    target: &Target<'_>,
    failures: &mut Vec<Error>,
) -> Result<Option<Value>, Error> {
    let endpoint = query.endpoint(target);
    if target.names.is_empty() {
        return endpoint.list(&query.selectors, true).await.map(Some);
    }
    let mut whole: Option<Value> = None;
    for name in &target.names {
        let table = match endpoint.get_table(name).await {
            Ok(table) => table,
            Err(err) if err.is_not_found() => {
                failures.push(err);
                continue;
            }
            Err(err) => return Err(err),
        };
        match whole.as_mut() {
            None => whole = Some(table),
            Some(whole) => {
                let rows = table["rows"].as_array().cloned().unwrap_or_default();
                if let Some(all) = whole["rows"].as_array_mut() {
                    all.extend(rows);
                }
            }
        }
    }
    Ok(whole)
}

/// Prints the objects as `-o yaml|json|name`; how many.
async fn print_objects(
    query: &Query<'_>,
    targets: &[Target<'_>],
    (format, show_managed_fields): (Format, bool),
    failures: &mut Vec<Error>,
) -> Result<usize, Error> {
    let mut objects = Vec::new();
    for target in targets {
        let endpoint = query.endpoint(target);
        let mut found = Vec::new();
        if target.names.is_empty() {
            let mut list = endpoint.list(&query.selectors, false).await?;
            if let Some(items) = list["items"].as_array_mut() {
                found.append(items);
            }
        }
        for name in &target.names {
            match endpoint.get(name).await {
                Ok(object) => found.push(object),
                Err(err) if err.is_not_found() => failures.push(err),
                Err(err) => return Err(err),
            }
        }
        if format == Format::Name {
            for object in &found {
                println!("{}", output::qualified_name(target.resource, object));
            }
        }
        objects.extend(found);
    }
    let count = objects.len();
    if !show_managed_fields {
        for object in &mut objects {
            if let Some(metadata) = object["metadata"].as_object_mut() {
                metadata.remove("managedFields");
            }
        }
    }
    if format != Format::Name {
        let single = targets.len() == 1 && targets[0].names.len() == 1;
        if count > 0 || !single {
            let document = output::document(objects, single);
            print!("{}", output::render(&document, format)?);
        }
    }
    Ok(count)
}
