//! Validation of the core kinds other than Pod: Service, Namespace,
//! ConfigMap, Secret, PersistentVolume(Claim), Node, and two small ones
//! from other groups (Lease, ControllerRevision).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde_json::Value;

use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{at, bool_of, int_of, is_absent, list_of, str_of, string_map};
use crate::validation::{max_len_error, regex_error};

use super::pod::{NULL, one_of};
use super::{dns_subdomain, immutable, nonnegative, qualified_name};

/// The size limit of a ConfigMap's or Secret's data.
const MAX_DATA_SIZE: usize = 1024 * 1024;

/// Problems with a ConfigMap or Secret key.
pub(crate) fn config_key_problems(key: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if key.len() > 253 {
        problems.push(max_len_error(253));
    }
    let charset = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
    if !charset {
        problems.push(regex_error(
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
            "[-._a-zA-Z0-9]+",
            &["key.name", "KEY_NAME", "key-name"],
        ));
    }
    match key {
        "." => problems.push("must not be '.'".to_string()),
        ".." => problems.push("must not be '..'".to_string()),
        _ if key.starts_with("..") => problems.push("must not start with '..'".to_string()),
        _ => {}
    }
    problems
}

/// The number of bytes a base64 string decodes to.
pub(crate) fn decoded_len(text: &str) -> usize {
    let padding = text.bytes().rev().take_while(|b| *b == b'=').count();
    (text.len() / 4 * 3 + (text.len() % 4) * 3 / 4).saturating_sub(padding)
}

/// Keys of `object[key]` checked as config keys, returning the total size
/// of the values (decoded from base64 when `base64` is set).
fn data_keys(object: &Value, key: &str, base64: bool, errors: &mut Vec<FieldError>) -> usize {
    let path = FieldPath::new(key);
    let mut size = 0;
    if let Some(map) = object.get(key).and_then(Value::as_object) {
        for (name, value) in map {
            for problem in config_key_problems(name) {
                errors.push(FieldError::invalid(&path.key(name), name.as_str(), problem));
            }
            let text = value.as_str().unwrap_or("");
            size += if base64 {
                decoded_len(text)
            } else {
                text.len()
            };
        }
    }
    size
}

/// Namespace.
pub(crate) fn namespace(object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let finalizers = at(object, &["spec"]).map_or(&[][..], |s| list_of(s, "finalizers"));
    let path = FieldPath::new("spec").child("finalizers");
    super::meta::finalizer_names(finalizers, &path, &mut errors);
    errors
}

/// Errors of updating an object with an `immutable` flag.
fn immutable_data(object: &Value, old: &Value, keys: &[&str], errors: &mut Vec<FieldError>) {
    if bool_of(old, "immutable") != Some(true) {
        return;
    }
    let message = "field is immutable when `immutable` is set";
    if bool_of(object, "immutable") != Some(true) {
        errors.push(FieldError::forbidden(&FieldPath::new("immutable"), message));
    }
    for key in keys {
        if !crate::json::semantically_equal(object.get(*key), old.get(*key)) {
            errors.push(FieldError::forbidden(&FieldPath::new(key), message));
        }
    }
}

/// ConfigMap.
pub(crate) fn config_map(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(old) = old {
        immutable_data(object, old, &["data", "binaryData"], &mut errors);
    }
    let mut size = data_keys(object, "data", false, &mut errors);
    let binary = string_map(object, "binaryData");
    for key in string_map(object, "data")
        .keys()
        .filter(|k| binary.contains_key(*k))
    {
        errors.push(FieldError::invalid(
            &FieldPath::new("data").key(key),
            key.as_str(),
            "duplicate of key present in binaryData",
        ));
    }
    size += data_keys(object, "binaryData", true, &mut errors);
    if size > MAX_DATA_SIZE {
        errors.push(FieldError::too_long(
            &FieldPath::root(),
            Some(MAX_DATA_SIZE),
        ));
    }
    errors
}

/// Secret.
pub(crate) fn secret(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(old) = old {
        immutable(
            object.get("type"),
            old.get("type"),
            &FieldPath::new("type"),
            &mut errors,
        );
        immutable_data(object, old, &["data"], &mut errors);
    }
    let data_path = FieldPath::new("data");
    let mut size = data_keys(object, "data", true, &mut errors);
    size += data_keys(object, "stringData", false, &mut errors);
    if size > MAX_DATA_SIZE {
        errors.push(FieldError::too_long(&data_path, Some(MAX_DATA_SIZE)));
    }
    let data = object.get("data").and_then(Value::as_object);
    let has = |key: &str| data.is_some_and(|d| d.contains_key(key));
    let mut require = |key: &str| errors.push(FieldError::required(&data_path.key(key), ""));
    match str_of(object, "type").unwrap_or("") {
        "kubernetes.io/service-account-token" => {
            let name = at(
                object,
                &[
                    "metadata",
                    "annotations",
                    "kubernetes.io/service-account.name",
                ],
            );
            if name.and_then(Value::as_str).unwrap_or("").is_empty() {
                let path = FieldPath::new("metadata")
                    .child("annotations")
                    .key("kubernetes.io/service-account.name");
                errors.push(FieldError::required(&path, ""));
            }
        }
        "kubernetes.io/dockercfg" if !has(".dockercfg") => require(".dockercfg"),
        "kubernetes.io/dockerconfigjson" if !has(".dockerconfigjson") => {
            require(".dockerconfigjson")
        }
        "kubernetes.io/basic-auth" if !has("username") && !has("password") => {
            require("username");
            require("password");
        }
        "kubernetes.io/ssh-auth" => {
            let key = data
                .and_then(|d| d.get("ssh-privatekey"))
                .and_then(Value::as_str);
            if key.unwrap_or("").is_empty() {
                require("ssh-privatekey");
            }
        }
        "kubernetes.io/tls" => {
            for key in ["tls.crt", "tls.key"] {
                if !has(key) {
                    require(key);
                }
            }
        }
        _ => {}
    }
    errors
}

const ACCESS_MODES: &[&str] = &[
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];

fn access_modes(
    spec: &Value,
    path: &FieldPath,
    required_detail: &str,
    errors: &mut Vec<FieldError>,
) {
    let modes: Vec<&str> = list_of(spec, "accessModes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let modes_path = path.child("accessModes");
    if modes.is_empty() {
        errors.push(FieldError::required(&modes_path, required_detail));
    }
    for mode in &modes {
        if !ACCESS_MODES.contains(mode) {
            errors.push(FieldError::not_supported(&modes_path, *mode, ACCESS_MODES));
        }
    }
    let once_pod = modes.contains(&"ReadWriteOncePod");
    let others = modes
        .iter()
        .any(|m| *m != "ReadWriteOncePod" && ACCESS_MODES.contains(m));
    if once_pod && others {
        errors.push(FieldError::forbidden(
            &modes_path,
            "may not use ReadWriteOncePod with other access modes",
        ));
    }
}

fn volume_mode(spec: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if let Some(mode) = str_of(spec, "volumeMode").filter(|m| !["Block", "Filesystem"].contains(m))
    {
        errors.push(FieldError::not_supported(
            &path.child("volumeMode"),
            mode,
            &["Block", "Filesystem"],
        ));
    }
}

/// PersistentVolumeClaim.
pub(crate) fn persistent_volume_claim(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let spec = object.get("spec").unwrap_or(&NULL);
    let path = FieldPath::new("spec");
    let mut errors = Vec::new();
    access_modes(
        spec,
        &path,
        "at least 1 access mode is required",
        &mut errors,
    );
    errors.extend(super::selector::validate(
        spec.get("selector"),
        &path.child("selector"),
    ));
    let storage_path = path.child("resources").key("storage");
    match at(spec, &["resources", "requests", "storage"]).and_then(Value::as_str) {
        None => errors.push(FieldError::required(&storage_path, "")),
        Some(text) => match text.parse::<crate::quantity::Quantity>() {
            Ok(q) if q.signum() > 0 => {}
            Ok(q) => errors.push(FieldError::invalid(
                &storage_path,
                q.canonical(),
                "must be greater than zero",
            )),
            Err(e) => errors.push(FieldError::invalid(&storage_path, text, e.to_string())),
        },
    }
    if let Some(class) = str_of(spec, "storageClassName").filter(|c| !c.is_empty()) {
        dns_subdomain(class, &path.child("storageClassName"), &mut errors);
    }
    volume_mode(spec, &path, &mut errors);
    if let Some(old) = old {
        claim_update(object, old, &mut errors);
    }
    errors
}

/// A claim's spec is fixed once created, except that a volume may be bound
/// once and a bound claim may ask for more storage.
fn claim_update(object: &Value, old: &Value, errors: &mut Vec<FieldError>) {
    let mut new_spec = object.get("spec").cloned().unwrap_or(Value::Null);
    let mut old_spec = old.get("spec").cloned().unwrap_or(Value::Null);
    let phase = at(object, &["status", "phase"]).or_else(|| at(old, &["status", "phase"]));
    let bound = phase.and_then(Value::as_str) == Some("Bound");
    if str_of(&old_spec, "volumeName").unwrap_or("").is_empty()
        && let (Some(map), Some(name)) = (old_spec.as_object_mut(), new_spec.get("volumeName"))
    {
        map.insert("volumeName".to_string(), name.clone());
    }
    if bound {
        for spec in [&mut new_spec, &mut old_spec] {
            if let Some(requests) = spec
                .get_mut("resources")
                .and_then(|r| r.get_mut("requests"))
                && let Some(map) = requests.as_object_mut()
            {
                map.remove("storage");
            }
            if let Some(map) = spec.as_object_mut() {
                map.remove("volumeAttributesClassName");
            }
        }
    }
    if !crate::json::semantically_equal(Some(&new_spec), Some(&old_spec)) {
        errors.push(FieldError::forbidden(
            &FieldPath::new("spec"),
            "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
        ));
    }
    let mode = |o: &Value| at(o, &["spec", "volumeMode"]).cloned();
    immutable(
        mode(object).as_ref(),
        mode(old).as_ref(),
        &FieldPath::new("volumeMode"),
        errors,
    );
}

/// The volume sources a PersistentVolume may have.
const PV_SOURCES: &[&str] = &[
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "glusterfs",
    "nfs",
    "rbd",
    "quobyte",
    "cinder",
    "cephfs",
    "fc",
    "flocker",
    "flexVolume",
    "azureFile",
    "vsphereVolume",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "local",
    "storageos",
    "csi",
    "iscsi",
];

/// PersistentVolume.
pub(crate) fn persistent_volume(object: &Value) -> Vec<FieldError> {
    let spec = object.get("spec").unwrap_or(&NULL);
    let path = FieldPath::new("spec");
    let mut errors = Vec::new();
    access_modes(spec, &path, "", &mut errors);
    let capacity = string_map(spec, "capacity");
    if capacity.is_empty() {
        errors.push(FieldError::required(&path.child("capacity"), ""));
    }
    if !capacity.contains_key("storage") || capacity.len() > 1 {
        let keys: Vec<String> = capacity.keys().cloned().collect();
        errors.push(FieldError::not_supported(
            &path.child("capacity"),
            keys,
            &["storage"],
        ));
    }
    if let Some(policy) = str_of(spec, "persistentVolumeReclaimPolicy") {
        let allowed = ["Delete", "Recycle", "Retain"];
        if !allowed.contains(&policy) {
            errors.push(FieldError::not_supported(
                &path.child("persistentVolumeReclaimPolicy"),
                policy,
                &allowed,
            ));
        }
    }
    let sources = PV_SOURCES
        .iter()
        .filter(|k| !is_absent(spec.get(**k)))
        .count();
    if sources == 0 {
        errors.push(FieldError::required(&path, "must specify a volume type"));
    }
    volume_mode(spec, &path, &mut errors);
    errors
}

/// Node: its taints (upstream reports them under `metadata.taints`).
pub(crate) fn node(object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let path = FieldPath::new("metadata").child("taints");
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let taints = at(object, &["spec"]).map_or(&[][..], |s| list_of(s, "taints"));
    for (i, taint) in taints.iter().enumerate() {
        let item = path.index(i);
        let key = str_of(taint, "key").unwrap_or("");
        qualified_name(key, &item.child("key"), &mut errors);
        let value = str_of(taint, "value").unwrap_or("");
        let problems = crate::validation::is_valid_label_value(value);
        if !problems.is_empty() {
            errors.push(FieldError::invalid(
                &item.child("value"),
                value,
                problems.join(";"),
            ));
        }
        one_of(
            taint,
            "effect",
            &["NoSchedule", "PreferNoSchedule", "NoExecute"],
            &item,
            &mut errors,
        );
        let effect = str_of(taint, "effect").unwrap_or("").to_string();
        if !seen.entry(effect).or_default().insert(key.to_string()) {
            let mut duplicate = FieldError::duplicate(&item, taint.clone());
            duplicate.detail = "taints must be unique by key and effect pair".to_string();
            errors.push(duplicate);
        }
    }
    errors
}

/// Lease.
pub(crate) fn lease(object: &Value) -> Vec<FieldError> {
    let spec = object.get("spec").unwrap_or(&NULL);
    let path = FieldPath::new("spec");
    let mut errors = Vec::new();
    if let Some(duration) = int_of(spec, "leaseDurationSeconds").filter(|d| *d <= 0) {
        errors.push(FieldError::invalid(
            &path.child("leaseDurationSeconds"),
            duration,
            "must be greater than 0",
        ));
    }
    nonnegative(
        int_of(spec, "leaseTransitions"),
        &path.child("leaseTransitions"),
        &mut errors,
    );
    errors
}

/// ControllerRevision: its data is required and fixed.
pub(crate) fn controller_revision(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if is_absent(object.get("data")) {
        errors.push(FieldError::required(
            &FieldPath::new("data"),
            "data is mandatory",
        ));
    }
    nonnegative(
        int_of(object, "revision"),
        &FieldPath::new("revision"),
        &mut errors,
    );
    if let Some(old) = old {
        immutable(
            object.get("data"),
            old.get("data"),
            &FieldPath::new("data"),
            &mut errors,
        );
    }
    errors
}

/// Errors of one IP address at `path`.
pub(crate) fn ip_address(value: &str, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if value.parse::<IpAddr>().is_err() {
        errors.push(FieldError::invalid(
            path,
            value,
            "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
        ));
    }
}
