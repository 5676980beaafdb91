//! Service addresses, as upstream v1.33 allocates them: cluster IPs as
//! `networking.k8s.io/v1` IPAddress objects within the ServiceCIDR named
//! `kubernetes` ([`cluster_ip`]), node ports from a bitmap kept in the store
//! ([`node_port`]). Both live in the store, so they survive restarts and
//! several API servers on one etcd never hand out the same address.
//!
//! [`ServiceAddresses`] is the Service's storage hook: on create and update
//! it keeps what a client left out of an update, takes the addresses a
//! Service needs (the requested ones, or free ones), gives them back when
//! the write is not stored, and frees them when the Service is deleted or
//! no longer needs them.

pub mod cluster_ip;
pub mod node_port;

use async_trait::async_trait;
use keelson_api::ApiError;
use keelson_api::registry::ResourceInfo;
use serde_json::Value;

use crate::objects::Objects;
use crate::objects::admission::{Attributes, Operation};
use crate::objects::hooks::StoreHook;

pub use cluster_ip::ClusterIps;
pub use node_port::NodePorts;

/// Where Services get their addresses.
#[derive(Debug, Clone)]
pub struct Ranges {
    /// The cluster IP range (`--service-cluster-ip-range`).
    pub cluster_ips: ipnet::Ipv4Net,
    /// The node port range (`--service-node-port-range`).
    pub node_ports: std::ops::RangeInclusive<u16>,
}

impl Ranges {
    /// The `kubernetes` Service's cluster IP: the range's first address
    /// given out (a serving certificate names it).
    pub fn kubernetes_service_ip(&self) -> std::net::Ipv4Addr {
        cluster_ip::ClusterIps::new(self.cluster_ips).first()
    }
}

impl Default for Ranges {
    /// Upstream's defaults: `10.96.0.0/12` and `30000-32767`.
    fn default() -> Self {
        Ranges {
            cluster_ips: "10.96.0.0/12".parse().expect("a valid CIDR"),
            node_ports: 30000..=32767,
        }
    }
}

/// The storage hook of Services.
pub struct ServiceAddresses {
    ips: ClusterIps,
    ports: NodePorts,
}

impl ServiceAddresses {
    pub fn new(ranges: &Ranges) -> Self {
        ServiceAddresses {
            ips: ClusterIps::new(ranges.cluster_ips),
            ports: NodePorts::new(ranges.node_ports.clone()),
        }
    }
}

/// Creates the ServiceCIDR `kubernetes` of the cluster IP range, Ready, if
/// missing (as upstream's API server does at start).
pub async fn ensure_service_cidr(objects: &Objects, ranges: &Ranges) -> Result<(), ApiError> {
    let cidrs = crate::registry::served("networking.k8s.io", "servicecidrs")?;
    let cidr = serde_json::json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "ServiceCIDR",
        "metadata": {"name": "kubernetes"},
        "spec": {"cidrs": [ranges.cluster_ips.to_string()]},
    });
    let options = crate::objects::WriteOptions {
        dry_run: false,
        field_manager: Some("kube-apiserver".into()),
    };
    let created = match objects.create(cidrs, None, cidr, &options).await {
        Ok(created) => created,
        Err(err) if err.reason == keelson_api::StatusReason::AlreadyExists => return Ok(()),
        Err(err) => return Err(err),
    };
    let target = crate::objects::Update {
        resource: cidrs,
        namespace: "",
        name: "kubernetes",
        subresource: Some("status"),
    };
    let now = created["metadata"]["creationTimestamp"].clone();
    objects
        .update(&target, &options, |current| {
            let mut next = current.clone();
            next["status"] = serde_json::json!({"conditions": [{
                "type": "Ready", "status": "True", "lastTransitionTime": now,
                "reason": "", "message": "Kubernetes Service CIDR is ready",
            }]});
            Ok(next)
        })
        .await
        .map(|_| ())
}

fn is_service(resource: &ResourceInfo) -> bool {
    resource.group.is_empty() && resource.plural == "services"
}

/// Whether the write is to a Service itself (not its status).
fn writes_service(write: &Attributes<'_>) -> bool {
    is_service(write.resource) && write.subresource.is_none()
}

#[async_trait]
impl StoreHook for ServiceAddresses {
    async fn prepare_update(&self, write: &Attributes<'_>, service: &mut Value) {
        if let (true, Some(old)) = (writes_service(write), write.old) {
            cluster_ip::keep_allocated(service, old);
            node_port::keep_allocated(service, old);
        }
    }

    async fn before_store(
        &self,
        objects: &Objects,
        write: &Attributes<'_>,
        service: &mut Value,
    ) -> Result<(), ApiError> {
        if !writes_service(write) {
            return Ok(());
        }
        self.ips.take(objects, write, service).await?;
        if let Err(err) = self.ports.take(objects, write, service).await {
            self.ips.give_back(objects, write, service).await;
            return Err(err);
        }
        Ok(())
    }

    async fn stored(&self, objects: &Objects, write: &Attributes<'_>, service: &Value) {
        if let (true, Operation::Update, Some(old)) =
            (writes_service(write), write.operation, write.old)
        {
            // What the old object held and the new one no longer does.
            self.ips.release_dropped(objects, old, service).await;
            self.ports.release_dropped(objects, old, service).await;
        }
    }

    async fn not_stored(&self, objects: &Objects, write: &Attributes<'_>, service: &Value) {
        if writes_service(write) && !write.dry_run {
            self.ips.give_back(objects, write, service).await;
            self.ports.give_back(objects, write, service).await;
        }
    }

    async fn deleted(&self, objects: &Objects, resource: &ResourceInfo, service: &Value) {
        if is_service(resource) {
            self.ips.release_all(objects, service).await;
            self.ports.release_all(objects, service).await;
        }
    }
}
