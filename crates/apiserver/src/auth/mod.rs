//! Authentication and authorization, as one layer in front of every
//! route: who sends a request ([`authenticate`]: a client certificate, a
//! bearer token of the token file, or anonymous), whom it acts as
//! ([`impersonation`]), and whether that user may do what it asks
//! ([`Authorizer`]: `AlwaysAllow`, or RBAC after the `system:masters`
//! group), answered 401 or 403 with upstream's `Status` when not; and
//! the review resources that ask those questions ([`reviews`]).
//!
//! Off unless the server's `Config` says [`AuthConfig`]: then every
//! request is allowed and has no user, as before.
//!
//! A request let through carries its user to the writes it makes
//! ([`requester`]), for the checks that depend on who writes: RBAC's
//! escalation prevention ([`escalation`]).

pub mod escalation;
pub mod impersonation;
pub mod node;
pub mod rbac;
pub mod request_info;
pub mod reviews;
pub mod service_accounts;
pub mod token_file;
pub mod user;
pub mod x509;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use keelson_api::ApiError;

pub use request_info::Attributes;
pub use token_file::{TokenFile, TokenFileError};
pub use user::User;
pub use x509::ClientCertificates;

use crate::http::response::Failure;
use crate::watch::Caches;

/// How requests are authorized (upstream's `--authorization-mode` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthorizationMode {
    /// Every authenticated (or anonymous) request is allowed.
    #[default]
    AlwaysAllow,
    /// Role-based: the cluster's Roles, ClusterRoles and bindings decide.
    Rbac,
    /// The Node authorizer for node agents, then RBAC (`Node,RBAC`,
    /// upstream's usual modes); with NodeRestriction admission.
    NodeRbac,
}

impl std::fmt::Display for AuthorizationMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AuthorizationMode::AlwaysAllow => "AlwaysAllow",
            AuthorizationMode::Rbac => "RBAC",
            AuthorizationMode::NodeRbac => "Node,RBAC",
        })
    }
}

impl std::str::FromStr for AuthorizationMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "AlwaysAllow" => Ok(AuthorizationMode::AlwaysAllow),
            "RBAC" => Ok(AuthorizationMode::Rbac),
            "Node,RBAC" => Ok(AuthorizationMode::NodeRbac),
            other => Err(format!(
                "authorization mode {other:?} is not supported; the modes are AlwaysAllow, RBAC and Node,RBAC"
            )),
        }
    }
}

/// How requests are authenticated and authorized.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Whether a request without credentials is `system:anonymous`
    /// (`--anonymous-auth`); else it is answered 401.
    pub anonymous: bool,
    /// The static bearer tokens (`--token-auth-file`).
    pub tokens: TokenFile,
    /// `--authorization-mode`.
    pub mode: AuthorizationMode,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            anonymous: true,
            tokens: TokenFile::default(),
            mode: AuthorizationMode::NodeRbac,
        }
    }
}

/// The authentication and authorization of one server.
pub struct Auth {
    anonymous: bool,
    tokens: TokenFile,
    authorizer: Authorizer,
    writes: rbac::Writes,
    /// What verifies ServiceAccount tokens, and where their objects are.
    service_accounts: Option<(Arc<crate::registry::tokens::Issuer>, Caches)>,
}

/// Decides whether a user may do a request.
#[derive(Clone)]
pub enum Authorizer {
    AlwaysAllow,
    Rbac(rbac::Rbac),
    /// The Node authorizer, then RBAC for what it does not allow.
    NodeRbac(node::NodeAuthorizer, rbac::Rbac),
}

impl Authorizer {
    /// Whether `user` may do `request`; with the reason of a denial.
    pub async fn authorize(
        &self,
        user: &User,
        request: &Attributes,
    ) -> Result<rbac::Decision, ApiError> {
        let allowed = rbac::Decision {
            allowed: true,
            ..rbac::Decision::default()
        };
        match self {
            Authorizer::AlwaysAllow => Ok(allowed),
            // The API server's own privileged group, before any other, as upstream.
            _ if user.in_group(user::MASTERS) => Ok(allowed),
            Authorizer::Rbac(rbac) => Ok(rbac.policy().await?.authorize(user, request)),
            Authorizer::NodeRbac(node, rbac) => match node.authorize(user, request).await? {
                node::Verdict::Allow => Ok(allowed),
                node::Verdict::NoOpinion(reason) => {
                    let mut decision = rbac.policy().await?.authorize(user, request);
                    decision.before = vec![reason];
                    Ok(decision)
                }
            },
        }
    }

    /// The RBAC authorizer in this one, if any.
    pub fn rbac(&self) -> Option<&rbac::Rbac> {
        match self {
            Authorizer::AlwaysAllow => None,
            Authorizer::Rbac(rbac) | Authorizer::NodeRbac(_, rbac) => Some(rbac),
        }
    }
}

impl Auth {
    /// The authentication and authorization `config` asks for, reading
    /// the RBAC objects from `caches`.
    pub fn new(config: &AuthConfig, caches: &Caches) -> Self {
        let writes = rbac::Writes::default();
        let authorizer = match config.mode {
            AuthorizationMode::AlwaysAllow => Authorizer::AlwaysAllow,
            AuthorizationMode::Rbac => {
                Authorizer::Rbac(rbac::Rbac::new(caches.clone(), writes.clone()))
            }
            AuthorizationMode::NodeRbac => Authorizer::NodeRbac(
                node::NodeAuthorizer::new(caches.clone(), crate::registry::bootstrap::node_rules()),
                rbac::Rbac::new(caches.clone(), writes.clone()),
            ),
        };
        Auth {
            anonymous: config.anonymous,
            tokens: config.tokens.clone(),
            authorizer,
            writes,
            service_accounts: None,
        }
    }

    /// Also takes the ServiceAccount tokens `issuer` signs.
    pub fn with_service_accounts(
        mut self,
        issuer: Option<Arc<crate::registry::tokens::Issuer>>,
        caches: &Caches,
    ) -> Self {
        self.service_accounts = issuer.map(|issuer| (issuer, caches.clone()));
        self
    }

    /// The storage hooks authorization needs (to see its own writes).
    pub fn hooks(&self) -> Vec<Arc<dyn crate::objects::hooks::StoreHook>> {
        vec![Arc::new(self.writes.clone())]
    }

    /// The admission steps that depend on who writes.
    pub fn admission(&self) -> Vec<Arc<dyn crate::objects::admission::Admission>> {
        let mut steps: Vec<Arc<dyn crate::objects::admission::Admission>> = Vec::new();
        if let Authorizer::NodeRbac(..) = &self.authorizer {
            steps.push(Arc::new(crate::registry::admission::NodeRestriction));
        }
        if let Some(rbac) = self.authorizer.rbac() {
            steps.push(Arc::new(escalation::Escalation::new(rbac.clone())));
        }
        steps
    }

    /// The user `request` comes from; `Err` for 401. As upstream's union
    /// of authenticators: the first that knows the request wins; one that
    /// refuses it (a bad certificate or token) makes it 401 unless
    /// another knows it; only a request with no credentials at all is
    /// anonymous.
    #[cfg(test)]
    async fn authenticate(&self, request: &Request) -> Result<User, ApiError> {
        let certificates = request.extensions().get::<ClientCertificates>();
        let token = bearer_token(request);
        self.authenticate_with(certificates, token).await
    }

    /// Tries the client certificate, then the bearer token (the token
    /// file's, then ServiceAccount tokens), then anonymous.
    async fn authenticate_with(
        &self,
        certificates: Option<&ClientCertificates>,
        token: Option<&str>,
    ) -> Result<User, ApiError> {
        let mut refused = false;
        if let Some(certificates) = certificates {
            let now = jiff::Timestamp::now().as_second();
            match x509::user_of(certificates, now) {
                Ok(Some(user)) => return Ok(user),
                Ok(None) => {}
                Err(err) => {
                    tracing::debug!(error = %err, "client certificate refused");
                    refused = true;
                }
            }
        }
        if let Some(token) = token {
            if let Some(user) = self.tokens.user(token) {
                return Ok(user.authenticated());
            }
            match self.service_account(token).await {
                Some(user) => return Ok(user),
                None => {
                    tracing::debug!("bearer token refused");
                    refused = true;
                }
            }
        }
        match self.anonymous && !refused {
            true => Ok(User::anonymous()),
            false => Err(ApiError::unauthorized("Unauthorized")),
        }
    }
}

impl Auth {
    /// The ServiceAccount `token` stands for, if it is a valid one.
    async fn service_account(&self, token: &str) -> Option<User> {
        self.service_account_for(token, &[]).await
    }

    /// Whom `token` authenticates for `audiences` (the server's when
    /// empty), and the audiences it is good for: a TokenReview's answer.
    pub async fn token_user(
        &self,
        token: &str,
        audiences: &[String],
    ) -> Option<(User, Vec<String>)> {
        if let Some(user) = self.tokens.user(token) {
            return Some((user.authenticated(), audiences.to_vec()));
        }
        let user = self.service_account_for(token, audiences).await?;
        let audiences = match audiences.is_empty() {
            true => self
                .service_accounts
                .as_ref()
                .map(|(issuer, _)| issuer.audiences().to_vec())
                .unwrap_or_default(),
            false => audiences.to_vec(),
        };
        Some((user, audiences))
    }

    async fn service_account_for(&self, token: &str, audiences: &[String]) -> Option<User> {
        let (issuer, caches) = self.service_accounts.as_ref()?;
        let now = jiff::Timestamp::now().as_second();
        match service_accounts::user_of(issuer, caches, token, now, audiences).await {
            Ok(user) => user,
            Err(err) => {
                // The reason, never the token.
                tracing::debug!(error = %err, "service account token refused");
                None
            }
        }
    }
}

/// The token of an `Authorization: Bearer TOKEN` header, if any.
fn bearer_token(request: &Request) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

tokio::task_local! {
    static REQUESTER: User;
}

/// The user of the request being served, when authentication is on.
pub fn requester() -> Option<User> {
    REQUESTER.try_with(User::clone).ok()
}

/// The first layer: authenticates the request and applies impersonation,
/// leaving the user in the request's extensions (for the audit log and
/// [`authorize`]); a failure is the 401 or 403 it answers.
pub async fn authenticate(
    State(auth): State<Arc<Auth>>,
    mut request: Request,
    next: Next,
) -> Response {
    let certificates = request.extensions().get::<ClientCertificates>().cloned();
    let token = bearer_token(&request).map(str::to_string);
    let user = match auth
        .authenticate_with(certificates.as_ref(), token.as_deref())
        .await
    {
        Ok(user) => user,
        Err(err) => return Failure(err).into_response(),
    };
    // The credentials go no further than here.
    request.headers_mut().remove(header::AUTHORIZATION);
    let user = match impersonation::impersonate(&auth.authorizer, user, request.headers_mut()).await
    {
        Ok(user) => user,
        Err(err) => return Failure(err).into_response(),
    };
    request.extensions_mut().insert(crate::audit::AuditUser {
        name: user.name.clone(),
        uid: user.uid.clone(),
        groups: user.groups.clone(),
    });
    request.extensions_mut().insert(Authenticated(user));
    next.run(request).await
}

/// The user [`authenticate`] found, in the request's extensions.
#[derive(Clone)]
struct Authenticated(User);

/// The second layer: authorizes the authenticated request, answers the
/// review APIs, and serves the request as its user.
pub async fn authorize(
    State(auth): State<Arc<Auth>>,
    mut request: Request,
    next: Next,
) -> Response {
    // Taken, not cloned: nothing after this layer reads it.
    let Some(Authenticated(user)) = request.extensions_mut().remove::<Authenticated>() else {
        return Failure(ApiError::internal("the request was not authenticated")).into_response();
    };
    let attributes = request_info::parse(
        request.method().as_str(),
        request.uri().path(),
        request.uri().query(),
    );
    match auth.authorizer.authorize(&user, &attributes).await {
        Ok(decision) if decision.allowed => match reviews::Review::of(&request) {
            Some(review) => reviews::serve(review, &auth, &user, request).await,
            None => REQUESTER.scope(user, next.run(request)).await,
        },
        Ok(decision) => Failure(forbidden(&user, &attributes, &decision.reason())).into_response(),
        Err(err) => Failure(err).into_response(),
    }
}

/// Upstream's 403 for `user` denied `request`: `pods is forbidden: User
/// "jane" cannot list resource "pods" in API group "" in the namespace
/// "dev"`, `... at the cluster scope`, or `forbidden: User "jane" cannot
/// get path "/foo"`; with `: REASON` when there is one.
pub fn forbidden(user: &User, request: &Attributes, reason: &str) -> ApiError {
    let mut message = if !request.resource_request {
        format!(
            "User {:?} cannot {} path {:?}",
            user.name, request.verb, request.path
        )
    } else {
        let scope = match request.namespace.is_empty() {
            true => "at the cluster scope".to_string(),
            false => format!("in the namespace {:?}", request.namespace),
        };
        format!(
            "User {:?} cannot {} resource {:?} in API group {:?} {scope}",
            user.name,
            request.verb,
            request.combined_resource(),
            request.api_group
        )
    };
    if !reason.is_empty() {
        message = format!("{message}: {reason}");
    }
    // As upstream, markup in names is escaped.
    let message = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let (group, resource) = match request.resource_request {
        true => (request.api_group.as_str(), request.resource.as_str()),
        false => ("", ""),
    };
    ApiError::forbidden(group, resource, &request.name, &message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};

    fn auth(anonymous: bool) -> Auth {
        Auth {
            anonymous,
            tokens: TokenFile::parse("good,jane,1,dev", "tokens").expect("a token file"),
            authorizer: Authorizer::AlwaysAllow,
            writes: rbac::Writes::default(),
            service_accounts: None,
        }
    }

    fn certificate(cn: &str, valid_for: std::ops::Range<i64>) -> ClientCertificates {
        let mut params = CertificateParams::default();
        let mut subject = DistinguishedName::new();
        subject.push(DnType::CommonName, cn);
        subject.push(DnType::OrganizationName, "system:masters");
        params.distinguished_name = subject;
        let now = jiff::Timestamp::now().as_second();
        let at = |offset| time::OffsetDateTime::from_unix_timestamp(now + offset).expect("a time");
        params.not_before = at(valid_for.start);
        params.not_after = at(valid_for.end);
        let key = KeyPair::generate().expect("a key");
        let cert = params.self_signed(&key).expect("a certificate");
        ClientCertificates::new(vec![cert.der().to_vec()])
    }

    fn request(token: Option<&str>, certificates: Option<ClientCertificates>) -> Request {
        let mut builder = Request::builder().uri("/api/v1/pods");
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let mut request = builder.body(axum::body::Body::empty()).expect("a request");
        if let Some(certificates) = certificates {
            request.extensions_mut().insert(certificates);
        }
        request
    }

    fn who(auth: &Auth, request: &Request) -> Result<String, u16> {
        block_on(auth.authenticate(request))
            .map(|user| user.name)
            .map_err(|err| err.code())
    }

    /// Runs a future that never waits (no ServiceAccount tokens here).
    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        futures::executor::block_on(future)
    }

    #[test]
    fn the_first_authenticator_that_knows_the_request_wins() {
        let on = auth(true);
        let valid = || Some(certificate("admin", -60..3600));
        let expired = || Some(certificate("admin", -3600..-60));
        let cases = [
            (None, None, Ok("system:anonymous")),
            (Some("good"), None, Ok("jane")),
            (Some("bad"), None, Err(401)),
            (None, valid(), Ok("admin")),
            (Some("bad"), valid(), Ok("admin")),
            (None, expired(), Err(401)),
            (Some("good"), expired(), Ok("jane")),
        ];
        for (token, certificates, expected) in cases {
            let label = format!("{token:?} {}", certificates.is_some());
            let got = who(&on, &request(token, certificates));
            assert_eq!(got, expected.map(str::to_string), "{label}");
        }
        assert_eq!(who(&auth(false), &request(None, None)), Err(401));
        let user = block_on(on.authenticate(&request(None, valid()))).expect("a user");
        assert_eq!(user.groups, ["system:masters", "system:authenticated"]);
    }
}
