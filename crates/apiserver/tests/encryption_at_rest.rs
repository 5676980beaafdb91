//! Encryption at rest: Secrets written through the API are ciphertext in
//! the store (redb's file, etcd) and plain through the API (get, list,
//! watch); an identity-first configuration stores plain values and still
//! reads encrypted ones; a value no key opens is a clear 500; keys rotate
//! by rewriting every Secret.

use base64::Engine;
use keelson_apiserver::Config;
use keelson_apiserver::encryption::EncryptionConfig;
use keelson_apiserver::testing::{self, Backend, Server};
use serde_json::{Value, json};

const MARKER: &str = "hunter2-plaintext-marker";
const SECRETS: &str = "/api/v1/namespaces/default/secrets";

fn key(byte: u8) -> String {
    base64::engine::general_purpose::STANDARD.encode([byte; 32])
}

/// A configuration for Secrets with `providers` (YAML list items).
fn config(providers: &str) -> Config {
    let text = format!(
        "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n\
         resources:\n- resources: [secrets]\n  providers:\n{providers}"
    );
    Config {
        encryption: Some(EncryptionConfig::parse(&text).expect("a valid configuration")),
        ..Config::default()
    }
}

fn aescbc(names: &[(&str, u8)]) -> String {
    let keys: String = names
        .iter()
        .map(|(name, byte)| format!("      - name: {name}\n        secret: {}\n", key(*byte)))
        .collect();
    format!("  - aescbc:\n      keys:\n{keys}")
}

const IDENTITY: &str = "  - identity: {}\n";

fn encoded(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

async fn create_secret(server: &Server, name: &str) {
    let secret = json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name},
        "data": {"password": encoded(MARKER)},
    });
    let answer = server.json("POST", SECRETS, &secret).await;
    assert_eq!(answer.code, 201, "{}", answer.body);
}

async fn stored(server: &Server, name: &str) -> Vec<u8> {
    let key = format!("/registry/core/secrets/default/{name}");
    let kv = server
        .store
        .get(&key)
        .await
        .expect("a read")
        .expect("stored");
    kv.value.to_vec()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn password(object: &Value) -> &Value {
    &object["data"]["password"]
}

async fn secrets_are_ciphertext_in_the_store_and_plain_through_the_api(backend: Backend) {
    let server = testing::server_with(backend, config(&(aescbc(&[("key1", 1)]) + IDENTITY))).await;
    let mut events = testing::watch(&server, &format!("{SECRETS}?watch=true")).await;
    create_secret(&server, "db").await;

    let value = stored(&server, "db").await;
    assert!(value.starts_with(b"k8s:enc:aescbc:v1:key1:"));
    assert!(!contains(&value, MARKER) && !contains(&value, &encoded(MARKER)));
    if backend == Backend::Embedded {
        let file = std::fs::read(server.dir().join("store.redb")).expect("the database file");
        assert!(contains(&file, "k8s:enc:aescbc:v1:key1:"));
        assert!(!contains(&file, &encoded(MARKER)), "plaintext in the file");
    }

    let got = server.get(&format!("{SECRETS}/db")).await;
    assert_eq!(password(&got.body), &json!(encoded(MARKER)));
    let list = server.get(SECRETS).await;
    assert_eq!(password(&list.body["items"][0]), &json!(encoded(MARKER)));
    let event = testing::next_event(&mut events).await;
    assert_eq!(testing::seen(&event), ("ADDED".into(), "db".into()));
    assert_eq!(password(&event["object"]), &json!(encoded(MARKER)));
    // The watch cache has it now, plain.
    let cached = server.get(&format!("{SECRETS}?resourceVersion=0")).await;
    assert_eq!(password(&cached.body["items"][0]), &json!(encoded(MARKER)));

    // Resources the configuration does not name stay as they are.
    let map = json!({"metadata": {"name": "plain"}, "data": {"k": MARKER}});
    let answer = server
        .json("POST", "/api/v1/namespaces/default/configmaps", &map)
        .await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    let kv = server
        .store
        .get("/registry/core/configmaps/default/plain")
        .await
        .expect("a read")
        .expect("stored");
    assert!(kv.value.starts_with(b"{"));
}

#[tokio::test]
async fn secrets_are_ciphertext_on_the_embedded_store() {
    secrets_are_ciphertext_in_the_store_and_plain_through_the_api(Backend::Embedded).await;
}

#[tokio::test]
async fn secrets_are_ciphertext_on_etcd() {
    secrets_are_ciphertext_in_the_store_and_plain_through_the_api(Backend::Etcd).await;
}

#[tokio::test]
async fn identity_first_stores_plain_values_and_still_reads_encrypted_ones() {
    let first = testing::server_with(Backend::Embedded, config(&aescbc(&[("key1", 1)]))).await;
    create_secret(&first, "old").await;
    let second = first
        .beside(config(&(IDENTITY.to_string() + &aescbc(&[("key1", 1)]))))
        .await;

    let old = second.get(&format!("{SECRETS}/old")).await;
    assert_eq!(password(&old.body), &json!(encoded(MARKER)), "{}", old.body);
    create_secret(&second, "new").await;
    assert!(stored(&second, "new").await.starts_with(b"{"));

    // Rewriting the old one unchanged stores it with the first provider.
    let answer = second
        .json("PUT", &format!("{SECRETS}/old"), &old.body)
        .await;
    assert_eq!(answer.code, 200, "{}", answer.body);
    assert!(stored(&second, "old").await.starts_with(b"{"));
}

#[tokio::test]
async fn a_value_no_key_opens_is_a_clear_internal_error() {
    let secretbox = |byte: u8| {
        format!(
            "  - secretbox:\n      keys:\n      - name: key1\n        secret: {}\n",
            key(byte)
        )
    };
    let first = testing::server_with(Backend::Embedded, config(&secretbox(1))).await;
    create_secret(&first, "db").await;

    let wrong_key = first.beside(config(&secretbox(2))).await;
    let answer = wrong_key.get(&format!("{SECRETS}/db")).await;
    let status = testing::failure(&answer, 500);
    let message = status["message"].as_str().unwrap_or_default();
    assert!(message.contains("failed to decrypt"), "{message}");
    assert!(
        message.contains("/registry/core/secrets/default/db"),
        "{message}"
    );
    assert_eq!(status["reason"], "InternalError");
    // As upstream, the list holding it fails too.
    testing::failure(&wrong_key.get(SECRETS).await, 500);

    let no_key = first.beside(config(IDENTITY)).await;
    let answer = no_key.get(&format!("{SECRETS}/db")).await;
    let message = testing::failure(&answer, 500)["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(message.contains("k8s:enc:secretbox:v1:key1:"), "{message}");
}

#[tokio::test]
async fn keys_rotate_by_rewriting_every_secret_on_the_embedded_store() {
    keys_rotate_by_rewriting_every_secret(Backend::Embedded).await;
}

#[tokio::test]
async fn keys_rotate_by_rewriting_every_secret_on_etcd() {
    keys_rotate_by_rewriting_every_secret(Backend::Etcd).await;
}

async fn keys_rotate_by_rewriting_every_secret(backend: Backend) {
    let first = testing::server_with(backend, config(&aescbc(&[("key1", 1)]))).await;
    for name in ["a", "b", "c"] {
        create_secret(&first, name).await;
    }

    // The new key first, the old one still there to read.
    let rotating = first
        .beside(config(&aescbc(&[("key2", 2), ("key1", 1)])))
        .await;
    let list = rotating.get(SECRETS).await;
    assert_eq!(list.code, 200, "{}", list.body);
    for item in list.body["items"].as_array().expect("items") {
        let name = item["metadata"]["name"].as_str().expect("a name");
        let answer = rotating
            .json("PUT", &format!("{SECRETS}/{name}"), item)
            .await;
        assert_eq!(answer.code, 200, "{}", answer.body);
        assert!(
            stored(&rotating, name)
                .await
                .starts_with(b"k8s:enc:aescbc:v1:key2:")
        );
    }
    // A second rewrite changes nothing: the values are current.
    let before = rotating.get(&format!("{SECRETS}/a")).await;
    let again = rotating
        .json("PUT", &format!("{SECRETS}/a"), &before.body)
        .await;
    assert_eq!(
        again.body["metadata"]["resourceVersion"],
        before.body["metadata"]["resourceVersion"]
    );

    // The old key can go.
    let rotated = first.beside(config(&aescbc(&[("key2", 2)]))).await;
    let list = rotated.get(SECRETS).await;
    assert_eq!(list.code, 200, "{}", list.body);
    let items = list.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|i| password(i) == &json!(encoded(MARKER))));
}
