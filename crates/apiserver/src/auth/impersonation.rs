//! Impersonation (`kubectl --as`, `--as-group`, `--as-uid`): the
//! `Impersonate-User`, `Impersonate-Group`, `Impersonate-Uid` and
//! `Impersonate-Extra-KEY` headers make a request act as another user,
//! when the requester may `impersonate` each of them (users, groups,
//! serviceaccounts, uids and userextras), as upstream's filter checks.

use axum::http::HeaderMap;
use keelson_api::ApiError;

use super::request_info::Attributes;
use super::user::{self, User};
use super::{Authorizer, forbidden};

const USER: &str = "impersonate-user";
const GROUP: &str = "impersonate-group";
const UID: &str = "impersonate-uid";
const EXTRA: &str = "impersonate-extra-";

/// The API group of the `uids` and `userextras` impersonation resources.
const AUTHENTICATION: &str = "authentication.k8s.io";

/// The user `requester` acts as: itself without impersonation headers,
/// else the impersonated user once each part is allowed (403 otherwise).
/// The headers are removed.
pub async fn impersonate(
    authorizer: &Authorizer,
    requester: User,
    headers: &mut HeaderMap,
) -> Result<User, ApiError> {
    let text = |value: &axum::http::HeaderValue| value.to_str().unwrap_or_default().to_string();
    let name = headers.get(USER).map(text).filter(|n| !n.is_empty());
    let groups: Vec<String> = headers.get_all(GROUP).iter().map(text).collect();
    let uid = headers.get(UID).map(text).filter(|u| !u.is_empty());
    let mut extra: Vec<(String, String)> = Vec::new();
    for (key, value) in headers.iter() {
        if let Some(extra_key) = key.as_str().strip_prefix(EXTRA) {
            extra.push((unescape(extra_key), text(value)));
        }
    }
    if name.is_none() && groups.is_empty() && uid.is_none() && extra.is_empty() {
        return Ok(requester);
    }
    let Some(name) = name else {
        return Err(ApiError::internal(
            "requested impersonation of groups, extra or a uid without impersonating a user",
        ));
    };
    let mut checks = Vec::new();
    let service_account = user::split_service_account(&name);
    match service_account {
        Some((namespace, sa)) => checks.push(Attributes::resource(
            "impersonate",
            "",
            "serviceaccounts",
            namespace,
            sa,
        )),
        None => checks.push(Attributes::resource("impersonate", "", "users", "", &name)),
    }
    for group in &groups {
        checks.push(Attributes::resource("impersonate", "", "groups", "", group));
    }
    for (key, value) in &extra {
        let mut check =
            Attributes::resource("impersonate", AUTHENTICATION, "userextras", "", value);
        check.subresource = key.clone();
        checks.push(check);
    }
    if let Some(uid) = &uid {
        checks.push(Attributes::resource(
            "impersonate",
            AUTHENTICATION,
            "uids",
            "",
            uid,
        ));
    }
    for check in &checks {
        let decision = authorizer.authorize(&requester, check).await?;
        if !decision.allowed {
            tracing::debug!(requester = %requester.name, "impersonation refused");
            return Err(forbidden(&requester, check, &decision.reason()));
        }
    }
    let mut impersonated = User {
        name: name.clone(),
        uid: uid.unwrap_or_default(),
        groups: groups.clone(),
        ..User::default()
    };
    if let (Some((namespace, _)), true) = (service_account, groups.is_empty()) {
        impersonated.groups = vec![
            "system:serviceaccounts".to_string(),
            format!("system:serviceaccounts:{namespace}"),
        ];
    }
    for (key, value) in extra {
        impersonated.extra.entry(key).or_default().push(value);
    }
    let impersonated = match name == user::ANONYMOUS {
        true if !impersonated.in_group(user::UNAUTHENTICATED) => {
            impersonated.groups.push(user::UNAUTHENTICATED.to_string());
            impersonated
        }
        true => impersonated,
        false => impersonated.authenticated(),
    };
    for key in [USER, GROUP, UID] {
        headers.remove(key);
    }
    let extra_keys: Vec<_> = headers
        .keys()
        .filter(|k| k.as_str().starts_with(EXTRA))
        .cloned()
        .collect();
    for key in extra_keys {
        headers.remove(key);
    }
    Ok(impersonated)
}

/// An extra key from its header name: lowercase, `%XX` escapes decoded.
fn unescape(key: &str) -> String {
    let mut out = Vec::new();
    let bytes = key.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i].to_ascii_lowercase());
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
