//! Reading upstream's `EncryptionConfiguration` (apiserver.config.k8s.io/v1,
//! the file `--encryption-provider-config` names) into [`Rules`].
//!
//! The file lists entries of resources and their providers; a stored key
//! takes the first entry naming its resource. Errors name the field at
//! fault and never quote a secret.

use base64::Engine;
use keelson_api::registry;
use serde::Deserialize;

use super::EncryptionError;
use super::provider::{Cipher, Transformer};

/// The file as written.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct File {
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    resources: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    providers: Vec<ProviderEntry>,
}

/// One element of `providers`: exactly one of its fields is set.
#[derive(Deserialize)]
struct ProviderEntry {
    aesgcm: Option<Keys>,
    aescbc: Option<Keys>,
    secretbox: Option<Keys>,
    identity: Option<serde_json::Value>,
    kms: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Keys {
    #[serde(default)]
    keys: Vec<KeyEntry>,
}

#[derive(Deserialize)]
struct KeyEntry {
    #[serde(default)]
    name: String,
    #[serde(default)]
    secret: String,
}

/// What the file says, ready to use: for each entry, the store key
/// prefixes it covers and its transformers in order (the first one
/// writes, all of them read).
#[derive(Debug)]
pub struct Rules {
    pub(super) rules: Vec<Rule>,
}

/// One entry of the file.
#[derive(Debug)]
pub(super) struct Rule {
    /// Store key prefixes (`/registry/core/secrets/`, or `/registry/` for
    /// `*.*`).
    pub prefixes: Vec<String>,
    pub transformers: Vec<Transformer>,
}

impl Rules {
    /// The transformers for the value at `key`, if an entry covers it.
    pub(super) fn for_key(&self, key: &str) -> Option<&[Transformer]> {
        self.rules
            .iter()
            .find(|rule| rule.prefixes.iter().any(|p| key.starts_with(p.as_str())))
            .map(|rule| rule.transformers.as_slice())
    }

    /// Whether some entry covers a key under `prefix` (a watch or a list).
    pub(super) fn touches(&self, prefix: &str) -> bool {
        self.rules.iter().any(|rule| {
            rule.prefixes
                .iter()
                .any(|p| p.starts_with(prefix) || prefix.starts_with(p.as_str()))
        })
    }
}

/// Parses and checks the text of an EncryptionConfiguration (YAML or JSON).
pub fn parse(text: &str) -> Result<Rules, EncryptionError> {
    let mut options = serde_saphyr::Options::default();
    // A snippet of the file could quote a secret.
    options.with_snippet = false;
    let file: File = serde_saphyr::from_slice_with_options(text.as_bytes(), options)
        .map_err(|err| invalid("", format!("not an EncryptionConfiguration: {err}")))?;
    if file.kind.as_deref() != Some("EncryptionConfiguration") {
        return Err(invalid("kind", "must be EncryptionConfiguration"));
    }
    if file.api_version.as_deref() != Some("apiserver.config.k8s.io/v1") {
        return Err(invalid("apiVersion", "must be apiserver.config.k8s.io/v1"));
    }
    if file.resources.is_empty() {
        return Err(invalid("resources", "must name at least one resource"));
    }
    let rules = file
        .resources
        .iter()
        .enumerate()
        .map(|(i, entry)| rule(&format!("resources[{i}]"), entry))
        .collect::<Result<_, _>>()?;
    Ok(Rules { rules })
}

fn rule(path: &str, entry: &Entry) -> Result<Rule, EncryptionError> {
    if entry.resources.is_empty() {
        return Err(invalid(&format!("{path}.resources"), "must not be empty"));
    }
    if entry.providers.is_empty() {
        return Err(invalid(&format!("{path}.providers"), "must not be empty"));
    }
    let prefixes = entry
        .resources
        .iter()
        .enumerate()
        .map(|(i, name)| store_prefix(&format!("{path}.resources[{i}]"), name))
        .collect::<Result<_, _>>()?;
    let mut transformers = Vec::new();
    for (i, provider) in entry.providers.iter().enumerate() {
        transformers.extend(provider_transformers(
            &format!("{path}.providers[{i}]"),
            provider,
        )?);
    }
    Ok(Rule {
        prefixes,
        transformers,
    })
}

/// The store key prefix of a resource as the file names it: `secrets`
/// (the core group), `deployments.apps`, `*.apps` (a whole group), `*.`
/// (the core group) or `*.*` (everything).
fn store_prefix(path: &str, name: &str) -> Result<String, EncryptionError> {
    let name = name.trim().to_ascii_lowercase();
    if name == "*.*" {
        return Ok("/registry/".to_string());
    }
    let (resource, group) = name.split_once('.').unwrap_or((name.as_str(), ""));
    let group_segment = if group.is_empty() { "core" } else { group };
    if resource == "*" {
        return Ok(format!("/registry/{group_segment}/"));
    }
    if resource.is_empty() || resource.contains(['/', '*']) || group.contains(['/', '*']) {
        return Err(invalid(
            path,
            format!("{name:?} is not a resource such as secrets, deployments.apps, *.apps or *.*"),
        ));
    }
    Ok(match registry::by_resource(group, resource) {
        Some(info) => registry::storage_prefix(info, None),
        None => format!("/registry/{group_segment}/{resource}/"),
    })
}

fn provider_transformers(
    path: &str,
    provider: &ProviderEntry,
) -> Result<Vec<Transformer>, EncryptionError> {
    let set = [
        provider.aesgcm.is_some(),
        provider.aescbc.is_some(),
        provider.secretbox.is_some(),
        provider.identity.is_some(),
        provider.kms.is_some(),
    ];
    match set.iter().filter(|set| **set).count() {
        0 => {
            return Err(invalid(
                path,
                "names no provider: expected one of aesgcm, aescbc, secretbox, identity",
            ));
        }
        1 => {}
        _ => {
            return Err(invalid(
                path,
                "names more than one provider: put each in its own element of the list",
            ));
        }
    }
    if provider.kms.is_some() {
        return Err(invalid(
            &format!("{path}.kms"),
            "the kms provider is not supported: use aescbc, aesgcm or secretbox",
        ));
    }
    if provider.identity.is_some() {
        return Ok(vec![Transformer::identity()]);
    }
    let (kind, keys) = match (&provider.aesgcm, &provider.aescbc, &provider.secretbox) {
        (Some(keys), _, _) => ("aesgcm", keys),
        (_, Some(keys), _) => ("aescbc", keys),
        (_, _, Some(keys)) => ("secretbox", keys),
        _ => unreachable!("exactly one provider is set"),
    };
    let path = format!("{path}.{kind}.keys");
    if keys.keys.is_empty() {
        return Err(invalid(&path, "must hold at least one key"));
    }
    let mut names = std::collections::HashSet::new();
    keys.keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let path = format!("{path}[{i}]");
            if key.name.is_empty() || key.name.contains(':') {
                return Err(invalid(
                    &format!("{path}.name"),
                    "must be a non-empty name without ':'",
                ));
            }
            if !names.insert(key.name.as_str()) {
                return Err(invalid(
                    &format!("{path}.name"),
                    format!("{:?} is used by another key of this provider", key.name),
                ));
            }
            let secret = base64::engine::general_purpose::STANDARD
                .decode(key.secret.trim())
                .map_err(|_| invalid(&format!("{path}.secret"), "is not valid base64"))?;
            let cipher = Cipher::new(kind, &secret)
                .map_err(|reason| invalid(&format!("{path}.secret"), reason))?;
            Ok(Transformer::new(kind, &key.name, cipher))
        })
        .collect()
}

fn invalid(field: &str, reason: impl Into<String>) -> EncryptionError {
    EncryptionError::Invalid {
        field: field.to_string(),
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "c2VjcmV0IGlzIHNlY3VyZSwgb3IgaXMgaXQ/Pz8/Pz8="; // 32 bytes

    fn config(providers: &str) -> String {
        format!(
            "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n\
             resources:\n- resources: [secrets, '*.apps']\n  providers:\n{providers}"
        )
    }

    #[test]
    fn resources_map_to_store_prefixes() {
        let rules = parse(&config("  - identity: {}\n")).expect("valid");
        assert_eq!(
            rules.rules[0].prefixes,
            ["/registry/core/secrets/", "/registry/apps/"]
        );
        assert!(rules.for_key("/registry/core/secrets/ns/a").is_some());
        assert!(rules.for_key("/registry/core/configmaps/ns/a").is_none());
        assert!(rules.touches("/registry/core/secrets/ns/"));
        assert!(rules.touches("/registry/"));
        assert!(!rules.touches("/registry/core/configmaps/"));
    }

    #[test]
    fn mistakes_are_named_without_quoting_secrets() {
        let short = "c2hvcnQ="; // "short"
        let cases = [
            (
                config("  - aescbc:\n      keys: []\n"),
                "resources[0].providers[0].aescbc.keys",
            ),
            (
                config(&format!(
                    "  - aescbc:\n      keys:\n      - name: k\n        secret: {short}\n"
                )),
                "resources[0].providers[0].aescbc.keys[0].secret",
            ),
            (
                config(&format!(
                    "  - secretbox:\n      keys:\n      - name: a\n        secret: {KEY}\n      - name: a\n        secret: {KEY}\n"
                )),
                "resources[0].providers[0].secretbox.keys[1].name",
            ),
            (
                config("  - aesgcm:\n      keys:\n      - name: k\n        secret: '%%%'\n"),
                "resources[0].providers[0].aesgcm.keys[0].secret",
            ),
            (
                config("  - kms: {name: x}\n"),
                "resources[0].providers[0].kms",
            ),
            (config("  - {}\n"), "resources[0].providers[0]"),
            (
                config("  - identity: {}\n    aescbc: {keys: []}\n"),
                "resources[0].providers[0]",
            ),
            ("kind: Policy\n".to_string(), "kind"),
        ];
        for (text, field) in cases {
            let err = parse(&text).expect_err(&text).to_string();
            assert!(err.contains(field), "{err} names {field}");
            assert!(!err.contains(short) && !err.contains(KEY), "{err}");
        }
    }
}
