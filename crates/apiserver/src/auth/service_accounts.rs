//! ServiceAccount tokens as credentials: a bearer token this server signed
//! ([`crate::registry::tokens`]) is the ServiceAccount it names, in the
//! groups `system:serviceaccounts` and `system:serviceaccounts:NAMESPACE`,
//! as long as that ServiceAccount, and the Pod, Secret or Node the token is
//! bound to, still exist with the uids the token recorded (read from the
//! watch caches): deleting the pod revokes its tokens, as upstream.

use std::collections::BTreeMap;

use keelson_api::ApiError;
use serde_json::Value;

use super::user::User;
use crate::registry::tokens::{Claims, Issuer, Ref, TokenError};
use crate::watch::Caches;

/// Why a token that looked like this server's was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// The token itself is bad (signature, issuer, time, audience).
    #[error(transparent)]
    Token(#[from] TokenError),
    /// An object it is bound to is gone or was made anew.
    #[error("{0}")]
    Invalidated(String),
    /// The objects could not be read.
    #[error(transparent)]
    Lookup(#[from] ApiError),
}

/// The user `token` stands for, if it is a ServiceAccount token at all
/// (`None` for a token of another kind, which another authenticator may
/// know), for one of `audiences` (the issuer's when empty).
pub async fn user_of(
    issuer: &Issuer,
    caches: &Caches,
    token: &str,
    now: i64,
    audiences: &[String],
) -> Result<Option<User>, Refused> {
    if token.split('.').count() != 3 {
        return Ok(None);
    }
    let claims = issuer.verify(token, now, audiences)?;
    let private = &claims.kubernetes;
    let namespace = private.namespace.as_str();
    check(
        caches,
        "serviceaccounts",
        namespace,
        &private.serviceaccount,
        now,
    )
    .await?;
    if let Some(pod) = &private.pod {
        check(caches, "pods", namespace, pod, now).await?;
    }
    if let Some(secret) = &private.secret {
        check(caches, "secrets", namespace, secret, now).await?;
    }
    if let Some(node) = &private.node
        && private.pod.is_none()
    {
        check(caches, "nodes", "", node, now).await?;
    }
    Ok(Some(user(&claims)))
}

/// The object `reference` names exists with its uid and is not past its
/// deletion.
async fn check(
    caches: &Caches,
    plural: &str,
    namespace: &str,
    reference: &Ref,
    now: i64,
) -> Result<(), Refused> {
    let resource = crate::registry::served("", plural)?;
    let cache = caches.of(resource).await?;
    let key = keelson_api::registry::storage_key(resource, namespace, &reference.name);
    let object = cache.lookup(&key).flatten();
    let what = resource.kind;
    let Some(object) = object else {
        return Err(Refused::Invalidated(format!(
            "{what} {:?} has been deleted",
            reference.name
        )));
    };
    let uid = object["metadata"]["uid"].as_str().unwrap_or_default();
    if uid != reference.uid {
        return Err(Refused::Invalidated(format!(
            "{what} UID ({uid}) does not match claim ({})",
            reference.uid
        )));
    }
    if let Some(deleted) = deletion_second(&object)
        && deleted < now
    {
        return Err(Refused::Invalidated(format!(
            "{what} {:?} is being deleted",
            reference.name
        )));
    }
    Ok(())
}

fn deletion_second(object: &Value) -> Option<i64> {
    let text = object["metadata"]["deletionTimestamp"].as_str()?;
    text.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
}

/// The user of verified claims, with upstream's groups and extra.
fn user(claims: &Claims) -> User {
    let private = &claims.kubernetes;
    let namespace = &private.namespace;
    let mut extra: BTreeMap<String, Vec<String>> = BTreeMap::new();
    extra.insert(
        "authentication.kubernetes.io/credential-id".into(),
        vec![format!("JTI={}", claims.jti)],
    );
    if let Some(pod) = &private.pod {
        extra.insert(
            "authentication.kubernetes.io/pod-name".into(),
            vec![pod.name.clone()],
        );
        extra.insert(
            "authentication.kubernetes.io/pod-uid".into(),
            vec![pod.uid.clone()],
        );
    }
    if let Some(node) = &private.node {
        extra.insert(
            "authentication.kubernetes.io/node-name".into(),
            vec![node.name.clone()],
        );
        extra.insert(
            "authentication.kubernetes.io/node-uid".into(),
            vec![node.uid.clone()],
        );
    }
    User {
        name: super::user::service_account_name(namespace, &private.serviceaccount.name),
        uid: private.serviceaccount.uid.clone(),
        groups: vec![
            "system:serviceaccounts".into(),
            format!("system:serviceaccounts:{namespace}"),
            "system:authenticated".into(),
        ],
        extra,
    }
}
