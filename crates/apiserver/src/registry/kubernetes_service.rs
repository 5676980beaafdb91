//! The `kubernetes` Service in `default`, at the first address of the
//! service range, and its Endpoints and EndpointSlice pointing at the API
//! server, kept as upstream's endpoint reconciler keeps them: made when
//! missing, put back when changed, every [`INTERVAL`].

use std::net::SocketAddr;
use std::time::Duration;

use keelson_api::registry::ResourceInfo;
use keelson_api::{ApiError, StatusReason};
use serde_json::{Value, json};

use crate::objects::{Objects, Update, WriteOptions};

/// How often the objects are checked.
pub const INTERVAL: Duration = Duration::from_secs(10);
const NAME: &str = "kubernetes";
const NAMESPACE: &str = "default";
const MANAGER: &str = "kube-apiserver";

/// Makes or puts back the Service, Endpoints and EndpointSlice.
pub async fn reconcile(
    objects: &Objects,
    cluster_ip: &str,
    server: SocketAddr,
) -> Result<(), ApiError> {
    ensure(
        objects,
        "",
        "services",
        service(cluster_ip, server.port()),
        &["spec"],
    )
    .await?;
    let endpoints = endpoints(server);
    ensure(objects, "", "endpoints", endpoints, &["subsets"]).await?;
    let slice = endpoint_slice(server);
    ensure(
        objects,
        "discovery.k8s.io",
        "endpointslices",
        slice,
        &["endpoints", "ports"],
    )
    .await
}

fn service(cluster_ip: &str, port: u16) -> Value {
    json!({
        "metadata": {"name": NAME, "namespace": NAMESPACE,
                     "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": cluster_ip,
            "clusterIPs": [cluster_ip],
            "sessionAffinity": "None",
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}],
        },
    })
}

fn endpoints(server: SocketAddr) -> Value {
    json!({
        "metadata": {"name": NAME, "namespace": NAMESPACE,
                     "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": [{
            "addresses": [{"ip": server.ip().to_string()}],
            "ports": [{"name": "https", "port": server.port(), "protocol": "TCP"}],
        }],
    })
}

fn endpoint_slice(server: SocketAddr) -> Value {
    json!({
        "metadata": {"name": NAME, "namespace": NAMESPACE,
                     "labels": {"kubernetes.io/service-name": NAME}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [server.ip().to_string()], "conditions": {"ready": true}}],
        "ports": [{"name": "https", "port": server.port(), "protocol": "TCP"}],
    })
}

/// Creates `wanted`, or sets its `fields` back on the stored object when
/// they differ there.
async fn ensure(
    objects: &Objects,
    group: &str,
    plural: &str,
    wanted: Value,
    fields: &[&str],
) -> Result<(), ApiError> {
    let resource: &'static ResourceInfo = super::served(group, plural)?;
    let options = WriteOptions {
        dry_run: false,
        field_manager: Some(MANAGER.to_string()),
    };
    match objects.get(resource, NAMESPACE, NAME).await {
        Err(err) if err.reason == StatusReason::NotFound => {
            match objects
                .create(resource, Some(NAMESPACE), wanted, &options)
                .await
            {
                Err(err) if err.reason != StatusReason::AlreadyExists => Err(err),
                _ => Ok(()),
            }
        }
        Err(err) => Err(err),
        Ok(current) => {
            let differs = |field: &&str| !covers(&current[*field], &wanted[*field]);
            if !fields.iter().any(differs) {
                return Ok(());
            }
            let target = Update {
                resource,
                namespace: NAMESPACE,
                name: NAME,
                subresource: None,
            };
            objects
                .update(&target, &options, |current| {
                    let mut next = current.clone();
                    for field in fields {
                        next[*field] = wanted[*field].clone();
                    }
                    Ok(next)
                })
                .await
                .map(|_| ())
        }
    }
}

/// Whether `stored` says at least what `wanted` says (defaults may add).
fn covers(stored: &Value, wanted: &Value) -> bool {
    match (stored, wanted) {
        (Value::Object(have), Value::Object(want)) => want
            .iter()
            .all(|(key, value)| have.get(key).is_some_and(|h| covers(h, value))),
        (Value::Array(have), Value::Array(want)) => {
            have.len() == want.len() && have.iter().zip(want).all(|(h, w)| covers(h, w))
        }
        _ => stored == wanted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_objects_may_carry_defaults_beyond_what_is_wanted() {
        let wanted = json!({"ports": [{"port": 443}]});
        assert!(covers(
            &json!({"ports": [{"port": 443, "protocol": "TCP"}], "x": 1}),
            &wanted
        ));
        assert!(!covers(&json!({"ports": [{"port": 80}]}), &wanted));
        assert!(!covers(&json!({"ports": []}), &wanted));
    }
}
