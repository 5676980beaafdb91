//! Cluster IPs as `networking.k8s.io/v1` IPAddress objects, named by the
//! address and pointing at their Service, as upstream v1.33's allocator
//! keeps them: creating the object takes the address (the store's
//! create-if-absent makes it safe between API servers), deleting it frees
//! it. Dynamic addresses come from the upper part of the range first,
//! leaving the lower part for addresses clients ask for, as upstream's
//! static subrange does; the network and broadcast addresses are never
//! given out.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use keelson_api::registry::ResourceInfo;
use keelson_api::{ApiError, FieldError, FieldPath, StatusReason};
use serde_json::{Value, json};

use crate::objects::admission::Attributes;
use crate::objects::{DeleteOptions, ListOptions, Objects, WriteOptions};

/// How many random addresses are tried before the taken ones are listed.
const RANDOM_TRIES: usize = 16;
/// The manager recorded on IPAddress objects.
const MANAGER: &str = "ipallocator.k8s.io";

/// The cluster IP allocator of one range.
pub struct ClusterIps {
    cidr: Ipv4Net,
}

impl ClusterIps {
    pub fn new(cidr: Ipv4Net) -> Self {
        ClusterIps { cidr }
    }

    /// The first address given out (the `kubernetes` Service's).
    pub fn first(&self) -> Ipv4Addr {
        self.address(0)
    }

    /// How many addresses the range has.
    fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.cidr.prefix_len()))
    }

    /// Whether the range has network and broadcast addresses to leave out.
    fn has_reserved(&self) -> bool {
        self.size() > 2
    }

    /// How many addresses can be given out.
    fn count(&self) -> u32 {
        let reserved = if self.has_reserved() { 2 } else { 0 };
        u32::try_from(self.size() - reserved).unwrap_or(u32::MAX)
    }

    /// The `index`th address that can be given out.
    fn address(&self, index: u32) -> Ipv4Addr {
        let base = u32::from(self.cidr.network());
        let skip = u32::from(self.has_reserved());
        Ipv4Addr::from(base.wrapping_add(skip).wrapping_add(index))
    }

    /// The index of `ip`, if the range gives it out.
    fn index(&self, ip: Ipv4Addr) -> Option<u32> {
        if !self.cidr.contains(&ip) {
            return None;
        }
        let first = u32::from(self.address(0));
        let index = u32::from(ip).checked_sub(first)?;
        (index < self.count()).then_some(index)
    }

    /// Where dynamic addresses start: the lower band stays for requested
    /// ones (upstream's `calculateRangeOffset`).
    fn dynamic_offset(&self) -> u32 {
        let size = self.size();
        if size <= 16 {
            return 0;
        }
        u32::try_from((size / 16).clamp(16, 256)).unwrap_or(256)
    }

    /// Takes the addresses `service` needs that the stored object (on
    /// update) does not already hold, and writes them into it.
    pub async fn take(
        &self,
        objects: &Objects,
        write: &Attributes<'_>,
        service: &mut Value,
    ) -> Result<(), ApiError> {
        let spec = &service["spec"];
        if spec["type"] == "ExternalName" {
            return Ok(());
        }
        let requested = requested_ip(spec);
        if requested.as_deref() == Some("None") {
            set_ips(service, "None");
            return Ok(());
        }
        if let (Some(ip), Some(old)) = (&requested, write.old)
            && held_ips(old).contains(ip)
        {
            return Ok(());
        }
        let ip = match requested {
            Some(ip) => self.take_requested(objects, write, &ip).await?,
            None => self.take_free(objects, write).await?,
        };
        set_ips(service, &ip.to_string());
        Ok(())
    }

    async fn take_requested(
        &self,
        objects: &Objects,
        write: &Attributes<'_>,
        text: &str,
    ) -> Result<Ipv4Addr, ApiError> {
        let refuse = |why: String| {
            let path = FieldPath::new("spec").child("clusterIPs");
            let cause = FieldError::invalid(
                &path,
                json!([text]),
                format!("failed to allocate IP {text}: {why}"),
            );
            ApiError::invalid("", "Service", write.name, &[cause])
        };
        let ip: Ipv4Addr = text.parse().map_err(|_| {
            refuse(format!(
                "the provided IP ({text}) is not a valid IPv4 address"
            ))
        })?;
        if self.index(ip).is_none() {
            return Err(refuse(format!(
                "the provided IP ({ip}) is not in the valid range. The range of valid IPs is {}",
                self.cidr
            )));
        }
        match self.claim(objects, write, ip).await? {
            true => Ok(ip),
            false => Err(refuse("provided IP is already allocated".into())),
        }
    }

    async fn take_free(
        &self,
        objects: &Objects,
        write: &Attributes<'_>,
    ) -> Result<Ipv4Addr, ApiError> {
        let count = self.count();
        let offset = self.dynamic_offset().min(count);
        let upper = count - offset;
        for _ in 0..RANDOM_TRIES.min(count as usize) {
            let index = match upper {
                0 => random_below(count),
                _ => offset + random_below(upper),
            };
            let ip = self.address(index);
            if self.claim(objects, write, ip).await? {
                return Ok(ip);
            }
        }
        // Crowded: find what is free among the taken ones, upper band first.
        let taken = taken_addresses(objects).await?;
        let order = (offset..count).chain(0..offset);
        for index in order {
            let ip = self.address(index);
            if !taken.contains(&ip) && self.claim(objects, write, ip).await? {
                return Ok(ip);
            }
        }
        Err(ApiError::internal(
            "failed to allocate a serviceIP: range is full",
        ))
    }

    /// Creates the IPAddress of `ip` for the Service; false when another
    /// object holds it. A dry run only looks.
    async fn claim(
        &self,
        objects: &Objects,
        write: &Attributes<'_>,
        ip: Ipv4Addr,
    ) -> Result<bool, ApiError> {
        let resource = ip_addresses()?;
        if write.dry_run {
            return match objects.get(resource, "", &ip.to_string()).await {
                Ok(_) => Ok(false),
                Err(err) if err.reason == StatusReason::NotFound => Ok(true),
                Err(err) => Err(err),
            };
        }
        let object = ip_address_object(ip, write.namespace.unwrap_or(""), write.name);
        let options = WriteOptions {
            dry_run: false,
            field_manager: Some(MANAGER.to_string()),
        };
        match objects.create(resource, None, object, &options).await {
            Ok(_) => Ok(true),
            Err(err) if err.reason == StatusReason::AlreadyExists => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Gives back what this write took: the addresses the stored object
    /// did not hold.
    pub async fn give_back(&self, objects: &Objects, write: &Attributes<'_>, service: &Value) {
        let held = write.old.map(held_ips).unwrap_or_default();
        for ip in held_ips(service) {
            if !held.contains(&ip) {
                release(objects, service, &ip).await;
            }
        }
    }

    /// Frees the addresses `old` held that `new` does not.
    pub async fn release_dropped(&self, objects: &Objects, old: &Value, new: &Value) {
        let kept = held_ips(new);
        for ip in held_ips(old) {
            if !kept.contains(&ip) {
                release(objects, old, &ip).await;
            }
        }
    }

    /// Frees every address of a deleted Service.
    pub async fn release_all(&self, objects: &Objects, service: &Value) {
        for ip in held_ips(service) {
            release(objects, service, &ip).await;
        }
    }
}

/// On update, the addresses the stored Service holds when the client
/// left them out (as upstream's `patchAllocatedValues`), if it still needs
/// them.
pub fn keep_allocated(service: &mut Value, old: &Value) {
    let needs_ip = |s: &Value| s["spec"]["type"] != "ExternalName";
    if !needs_ip(service) || !needs_ip(old) || requested_ip(&service["spec"]).is_some() {
        return;
    }
    let Some(spec) = service.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    for field in ["clusterIP", "clusterIPs", "ipFamilies"] {
        let missing = spec.get(field).is_none_or(is_empty);
        if let (true, Some(value)) = (missing, old["spec"].get(field)) {
            spec.insert(field.to_string(), value.clone());
        }
    }
}

fn ip_addresses() -> Result<&'static ResourceInfo, ApiError> {
    crate::registry::served("networking.k8s.io", "ipaddresses")
}

/// The address a client asked for: `clusterIP`, else the first of
/// `clusterIPs`.
fn requested_ip(spec: &Value) -> Option<String> {
    let single = spec["clusterIP"].as_str().filter(|ip| !ip.is_empty());
    let first = spec["clusterIPs"][0].as_str().filter(|ip| !ip.is_empty());
    single.or(first).map(str::to_string)
}

/// The allocated addresses a Service holds (none for a headless one).
fn held_ips(service: &Value) -> Vec<String> {
    let spec = &service["spec"];
    if spec["type"] == "ExternalName" {
        return Vec::new();
    }
    let mut ips: Vec<String> = spec["clusterIPs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    if let Some(ip) = spec["clusterIP"].as_str()
        && !ips.iter().any(|held| held == ip)
    {
        ips.push(ip.to_string());
    }
    ips.retain(|ip| !ip.is_empty() && ip != "None");
    ips
}

/// `null`, `""` or `[]`: a value the client left for the server.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

fn set_ips(service: &mut Value, ip: &str) {
    let Some(spec) = service.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    spec.insert("clusterIP".into(), json!(ip));
    spec.insert("clusterIPs".into(), json!([ip]));
    if spec.get("ipFamilies").is_none_or(is_empty) {
        spec.insert("ipFamilies".into(), json!(["IPv4"]));
    }
}

fn ip_address_object(ip: Ipv4Addr, namespace: &str, name: &str) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IPAddress",
        "metadata": {
            "name": ip.to_string(),
            "labels": {
                "ipaddress.kubernetes.io/ip-family": "IPv4",
                "ipaddress.kubernetes.io/managed-by": MANAGER,
            },
        },
        "spec": {"parentRef": {"group": "", "resource": "services", "namespace": namespace, "name": name}},
    })
}

/// Deletes the IPAddress of `ip` if it points at `service`.
async fn release(objects: &Objects, service: &Value, ip: &str) {
    let Ok(resource) = ip_addresses() else {
        return;
    };
    let Ok(address) = objects.get(resource, "", ip).await else {
        return;
    };
    let parent = &address["spec"]["parentRef"];
    let owner = |field: &str| service["metadata"][field].as_str().unwrap_or("");
    if parent["name"] != owner("name") || parent["namespace"] != owner("namespace") {
        return;
    }
    if let Err(err) = objects
        .delete(resource, "", ip, &DeleteOptions::default())
        .await
        && err.reason != StatusReason::NotFound
    {
        tracing::warn!(%ip, error = %err, "failed to free a cluster IP");
    }
}

/// The addresses IPAddress objects hold.
async fn taken_addresses(objects: &Objects) -> Result<Vec<Ipv4Addr>, ApiError> {
    let list = objects
        .list(ip_addresses()?, None, &ListOptions::default())
        .await?;
    Ok(list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item["metadata"]["name"].as_str()?.parse().ok())
        .collect())
}

/// A random number below `bound` (which is not 0).
pub(super) fn random_below(bound: u32) -> u32 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let value = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    value % bound.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(cidr: &str) -> ClusterIps {
        ClusterIps::new(cidr.parse().expect("a CIDR"))
    }

    #[test]
    fn ranges_give_out_all_but_network_and_broadcast() {
        let ips = range("10.96.0.0/12");
        assert_eq!(ips.first(), Ipv4Addr::new(10, 96, 0, 1));
        assert_eq!(ips.count(), (1 << 20) - 2);
        assert_eq!(ips.dynamic_offset(), 256);
        assert_eq!(ips.index(Ipv4Addr::new(10, 96, 0, 1)), Some(0));
        assert_eq!(ips.index(Ipv4Addr::new(10, 96, 0, 0)), None);
        assert_eq!(ips.index(Ipv4Addr::new(10, 111, 255, 255)), None);
        assert_eq!(ips.index(Ipv4Addr::new(10, 112, 0, 1)), None);
        let small = range("10.0.0.0/29");
        assert_eq!((small.count(), small.dynamic_offset()), (6, 0));
        assert_eq!(small.address(5), Ipv4Addr::new(10, 0, 0, 6));
        let medium = range("10.0.0.0/24");
        assert_eq!(medium.dynamic_offset(), 16);
    }

    #[test]
    fn held_addresses_leave_out_headless_and_external_names() {
        let spec = |spec: Value| json!({"spec": spec});
        assert_eq!(
            held_ips(&spec(
                json!({"clusterIP": "10.96.0.5", "clusterIPs": ["10.96.0.5"]})
            )),
            ["10.96.0.5"]
        );
        assert!(held_ips(&spec(json!({"clusterIP": "None"}))).is_empty());
        assert!(
            held_ips(&spec(
                json!({"type": "ExternalName", "clusterIP": "10.96.0.5"})
            ))
            .is_empty()
        );
        assert_eq!(
            requested_ip(&json!({"clusterIPs": ["10.96.0.9"]})).as_deref(),
            Some("10.96.0.9")
        );
        assert_eq!(requested_ip(&json!({"clusterIP": ""})), None);
    }
}
