//! Lists in every form a client asks for (the objects, a Table with each
//! `includeObject`, a `PartialObjectMetadataList`), from the store and
//! from the watch cache (`resourceVersion=0`), agree with each other and
//! apply selectors, also when they are larger than one chunk of the
//! response.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use support::{Server, embedded};

const CONFIG_MAPS: &str = "/api/v1/namespaces/default/configmaps";
const TABLE: &str = "application/json;as=Table;g=meta.k8s.io;v=v1";
const METADATA_LIST: &str = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
/// Enough objects of enough bytes that a list takes several chunks.
const OBJECTS: usize = 200;

async fn fill(server: &Server) {
    for i in 0..OBJECTS {
        let tier = if i % 2 == 0 { "even" } else { "odd" };
        let object = json!({
            "metadata": {"name": format!("cm-{i:03}"), "labels": {"tier": tier}},
            "data": {"payload": "y".repeat(1024)},
        });
        let answer = server.json("POST", CONFIG_MAPS, &object).await;
        assert_eq!(answer.code, 201, "{}", answer.body);
    }
}

async fn get(server: &Server, query: &str, accept: &str) -> Value {
    let answer = server
        .raw_accept("GET", &format!("{CONFIG_MAPS}{query}"), accept, Vec::new())
        .await;
    assert_eq!(answer.code, 200, "{query}: {}", answer.body);
    answer.body
}

/// The names of a list's items or a table's rows.
fn names(list: &Value) -> Vec<String> {
    let entries = list["items"]
        .as_array()
        .or(list["rows"].as_array())
        .unwrap();
    entries
        .iter()
        .map(|entry| {
            let object = entry.get("object").filter(|_| list["kind"] == "Table");
            let object = object.unwrap_or(entry);
            object["metadata"]["name"].as_str().unwrap().to_string()
        })
        .collect()
}

fn all_names() -> Vec<String> {
    (0..OBJECTS).map(|i| format!("cm-{i:03}")).collect()
}

#[tokio::test]
async fn lists_from_the_cache_match_the_store_in_every_form() {
    let server = embedded().await;
    fill(&server).await;
    for query in ["", "?resourceVersion=0"] {
        let list = get(&server, query, "application/json").await;
        assert_eq!(list["kind"], "ConfigMapList", "{query}");
        assert_eq!(names(&list), all_names(), "{query}");
        assert!(list["metadata"]["resourceVersion"].is_string());
        assert_eq!(list["items"][3]["data"]["payload"], "y".repeat(1024));

        let table = get(&server, query, TABLE).await;
        assert_eq!(table["kind"], "Table", "{query}");
        assert_eq!(names(&table), all_names(), "{query}");
        assert_eq!(table["columnDefinitions"][0]["name"], "Name");
        assert_eq!(table["rows"][0]["cells"][0], "cm-000");
        let row_object = &table["rows"][0]["object"];
        assert_eq!(row_object["kind"], "PartialObjectMetadata", "{query}");
        assert!(table["metadata"]["resourceVersion"].is_string());

        let whole = get(&server, &join(query, "includeObject=Object"), TABLE).await;
        assert_eq!(
            whole["rows"][5]["object"]["data"]["payload"],
            "y".repeat(1024)
        );
        let bare = get(&server, &join(query, "includeObject=None"), TABLE).await;
        assert!(bare["rows"][5]["object"].is_null(), "{query}");

        let partial = get(&server, query, METADATA_LIST).await;
        assert_eq!(partial["kind"], "PartialObjectMetadataList", "{query}");
        assert_eq!(partial["items"][0]["kind"], "PartialObjectMetadata");
        assert!(partial["items"][0].get("data").is_none());
        assert_eq!(names(&partial), all_names(), "{query}");
    }
}

/// `query` with one more parameter.
fn join(query: &str, param: &str) -> String {
    match query {
        "" => format!("?{param}"),
        query => format!("{query}&{param}"),
    }
}

#[tokio::test]
async fn lists_from_the_cache_apply_selectors() {
    let server = embedded().await;
    fill(&server).await;
    let odd: Vec<String> = all_names().into_iter().skip(1).step_by(2).collect();
    for accept in ["application/json", TABLE, METADATA_LIST] {
        for query in [
            "?labelSelector=tier%3Dodd",
            "?resourceVersion=0&labelSelector=tier%3Dodd",
        ] {
            let list = get(&server, query, accept).await;
            assert_eq!(names(&list), odd, "{query} as {accept}");
        }
    }
    let one = get(
        &server,
        "?resourceVersion=0&fieldSelector=metadata.name%3Dcm-007",
        TABLE,
    )
    .await;
    assert_eq!(names(&one), ["cm-007"]);
    let none = get(
        &server,
        "?resourceVersion=0&labelSelector=tier%3Dnone",
        "application/json",
    )
    .await;
    assert_eq!(none["items"], json!([]));
}

#[tokio::test]
async fn a_bad_include_object_is_a_400_on_every_path() {
    let server = embedded().await;
    for query in ["?includeObject=All", "?resourceVersion=0&includeObject=All"] {
        let answer = server
            .raw_accept("GET", &format!("{CONFIG_MAPS}{query}"), TABLE, Vec::new())
            .await;
        support::failure(&answer, 400);
    }
}
