//! The signers' loop: approved CertificateSigningRequests of the signers
//! it runs are signed with the cluster CA (or failed, with upstream's
//! reason), through the `approval`-free `status` subresource, as upstream's
//! `csrsigning` controller writes them.

use std::future::Future;
use std::sync::Arc;

use keelson_api::k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use kube::ResourceExt;
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use serde_json::json;

use super::{Decision, Signer};
use crate::framework::{self, Context, Error};

/// The field manager of the signers' writes.
const MANAGER: &str = "kube-controller-manager";

/// The signing controller, for `signers`.
pub fn signing(
    context: Context,
    signers: Vec<Signer>,
) -> impl Future<Output = ()> + Send + 'static {
    let requests = context.informers.get::<CertificateSigningRequest>();
    let controller = Controller::for_shared_stream(requests.objects(), requests.store().clone());
    framework::drive(controller, Arc::new((context, signers)), sign)
}

async fn sign(
    request: Arc<CertificateSigningRequest>,
    state: Arc<(Context, Vec<Signer>)>,
) -> Result<Action, Error> {
    let (context, signers) = &*state;
    let now = jiff::Timestamp::now();
    let api: Api<CertificateSigningRequest> = Api::all(context.client.clone());
    for signer in signers {
        let mut signed = (*request).clone();
        let status = signed.status.get_or_insert_with(Default::default);
        match signer.decide(&request, now) {
            Decision::Skip => continue,
            Decision::Sign(pem) => {
                status.certificate = Some(keelson_api::k8s_openapi::ByteString(pem.into_bytes()));
            }
            Decision::Fail { reason, message } => {
                let now = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
                let failed = serde_json::from_value(json!({
                    "type": "Failed", "status": "True", "reason": reason, "message": message,
                    "lastUpdateTime": now, "lastTransitionTime": now
                }))
                .map_err(|e| Error::Api(format!("failed to make a condition: {e}")))?;
                status.conditions.get_or_insert_with(Vec::new).push(failed);
            }
        }
        let params = PostParams {
            field_manager: Some(MANAGER.to_string()),
            ..PostParams::default()
        };
        let written = api
            .replace_status(&request.name_any(), &params, &signed)
            .await;
        framework::ignore_not_found(written)?;
        break;
    }
    Ok(Action::await_change())
}
