//! Objects from `-f` arguments: a file (YAML with `---` separated
//! documents, or JSON), every `.yaml`/`.yml`/`.json` file of a directory
//! in name order, or `-` for stdin. Empty documents are skipped and a
//! `kind: List` gives its items.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::Error;

/// One object and where it came from (a path, or `STDIN`).
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub source: String,
    pub object: Value,
}

/// The objects of every `-f` argument, in order.
pub fn read_all(arguments: &[String]) -> Result<Vec<Manifest>, Error> {
    if arguments.is_empty() {
        return Err(Error::usage("must specify one of -f and -k"));
    }
    let mut manifests = Vec::new();
    for argument in arguments {
        for (source, text) in sources(argument)? {
            for object in parse(&text)
                .map_err(|err| Error::usage(format!("error parsing {source}: {err}")))?
            {
                manifests.push(Manifest {
                    source: source.clone(),
                    object,
                });
            }
        }
    }
    Ok(manifests)
}

/// The texts one `-f` argument names, each with its name.
fn sources(argument: &str) -> Result<Vec<(String, String)>, Error> {
    if argument == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|err| Error::usage(format!("cannot read stdin: {err}")))?;
        return Ok(vec![("STDIN".to_string(), text)]);
    }
    let path = Path::new(argument);
    if !path.exists() {
        return Err(Error::usage(format!(
            "the path \"{argument}\" does not exist"
        )));
    }
    let files = if path.is_dir() {
        manifest_files(path)?
    } else {
        vec![path.to_path_buf()]
    };
    files
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file)
                .map_err(|err| Error::usage(format!("cannot read {}: {err}", file.display())))?;
            Ok((file.display().to_string(), text))
        })
        .collect()
}

/// The manifest files directly in `dir`, sorted by name.
fn manifest_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let entries = std::fs::read_dir(dir)
        .map_err(|err| Error::usage(format!("cannot read {}: {err}", dir.display())))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file())
        .filter(|path| {
            path.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// The objects of one text: JSON values one after another, or YAML
/// documents.
pub fn parse(text: &str) -> Result<Vec<Value>, String> {
    let documents = if text.trim_start().starts_with('{') {
        serde_json::Deserializer::from_str(text)
            .into_iter::<Value>()
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| err.to_string())?
    } else {
        serde_yaml::Deserializer::from_str(text)
            .map(Value::deserialize)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| err.to_string())?
    };
    let mut objects = Vec::new();
    for document in documents {
        match document {
            Value::Null => {}
            Value::Object(_) if is_list(&document) => {
                let items = document["items"].as_array().cloned().unwrap_or_default();
                objects.extend(items.into_iter().filter(|item| !item.is_null()));
            }
            Value::Object(_) => objects.push(document),
            other => return Err(format!("a document is not an object: {other}")),
        }
    }
    Ok(objects)
}

fn is_list(document: &Value) -> bool {
    document["kind"]
        .as_str()
        .is_some_and(|k| k.ends_with("List"))
        && document["items"].is_array()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_split_and_empty_ones_are_skipped() {
        let text = "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\n\n---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  n: \"1\"\n";
        let objects = parse(text).expect("valid YAML");
        let kinds: Vec<&str> = objects.iter().filter_map(|o| o["kind"].as_str()).collect();
        assert_eq!(kinds, ["Namespace", "ConfigMap"]);
        assert_eq!(objects[1]["data"]["n"], "1");
    }

    #[test]
    fn json_streams_and_lists_give_their_objects() {
        let text = r#"{"apiVersion":"v1","kind":"List","items":[{"kind":"A"},{"kind":"B"}]}
            {"kind":"C"}"#;
        let kinds: Vec<String> = parse(text)
            .expect("valid JSON")
            .iter()
            .map(|o| o["kind"].as_str().unwrap_or_default().to_string())
            .collect();
        assert_eq!(kinds, ["A", "B", "C"]);
    }

    #[test]
    fn a_directory_gives_its_manifest_files_in_name_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("b.yml"), "kind: B\n").expect("write");
        std::fs::write(dir.path().join("a.yaml"), "kind: A\n").expect("write");
        std::fs::write(dir.path().join("c.json"), r#"{"kind":"C"}"#).expect("write");
        std::fs::write(dir.path().join("notes.txt"), "kind: X\n").expect("write");
        let argument = dir.path().display().to_string();
        let kinds: Vec<String> = read_all(&[argument])
            .expect("readable")
            .iter()
            .map(|m| m.object["kind"].as_str().unwrap_or_default().to_string())
            .collect();
        assert_eq!(kinds, ["A", "B", "C"]);
        let missing = read_all(&["/no/such/file.yaml".to_string()]).expect_err("missing");
        assert_eq!(
            missing.to_string(),
            "error: the path \"/no/such/file.yaml\" does not exist"
        );
    }
}
