//! The loops that keep what every namespace holds, each its own
//! controller as upstream's: the ServiceAccount controller (a `default`
//! ServiceAccount, made again when deleted) and the root CA publisher (the
//! `kube-root-ca.crt` ConfigMap, written back when deleted or changed).
//! Both are level-triggered on Namespaces and on the objects they keep,
//! through the shared caches.

use std::future::Future;
use std::sync::Arc;

use keelson_api::k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Resource, ResourceExt};

use super::{DEFAULT_SERVICE_ACCOUNT, ROOT_CA_CONFIG_MAP, root_ca, service_account};
use crate::framework::{self, Context, Error};

/// The ServiceAccount controller.
pub fn service_accounts(context: Context) -> impl Future<Output = ()> + Send + 'static {
    let namespaces = context.informers.get::<Namespace>();
    let accounts = context.informers.get::<ServiceAccount>();
    let state = Arc::new(Kept {
        cache: accounts.store().clone(),
        context,
        bundle: String::new(),
    });
    let controller =
        Controller::for_shared_stream(namespaces.objects(), namespaces.store().clone())
            .watches_shared_stream(accounts.objects(), |account: Arc<ServiceAccount>| {
                named(&*account, DEFAULT_SERVICE_ACCOUNT)
            });
    framework::drive(controller, state, sync_account)
}

/// The root CA publisher, publishing `bundle`.
pub fn root_ca_publisher(
    context: Context,
    bundle: String,
) -> impl Future<Output = ()> + Send + 'static {
    let namespaces = context.informers.get::<Namespace>();
    let config_maps = context.informers.get::<ConfigMap>();
    let state = Arc::new(Kept {
        cache: config_maps.store().clone(),
        context,
        bundle,
    });
    let controller =
        Controller::for_shared_stream(namespaces.objects(), namespaces.store().clone())
            .watches_shared_stream(config_maps.objects(), |config_map: Arc<ConfigMap>| {
                named(&*config_map, ROOT_CA_CONFIG_MAP)
            });
    framework::drive(controller, state, sync_config_map)
}

/// The namespace of an object named `name`.
fn named<K: Resource>(object: &K, name: &str) -> Option<ObjectRef<Namespace>> {
    let meta = object.meta();
    (meta.name.as_deref() == Some(name))
        .then(|| meta.namespace.as_deref().map(ObjectRef::new))
        .flatten()
}

/// A loop's context and the cache of the kind it keeps.
struct Kept<K: Resource<DynamicType = ()> + 'static> {
    context: Context,
    cache: Store<K>,
    bundle: String,
}

async fn sync_account(
    namespace: Arc<Namespace>,
    kept: Arc<Kept<ServiceAccount>>,
) -> Result<Action, Error> {
    let name = namespace.name_any();
    let existing = kept
        .cache
        .get(&ObjectRef::new(DEFAULT_SERVICE_ACCOUNT).within(&name));
    if let Some(account) = service_account(&namespace, existing.as_deref()) {
        let api: Api<ServiceAccount> = Api::namespaced(kept.context.client.clone(), &name);
        ignore_taken(api.create(&PostParams::default(), &account).await)?;
    }
    Ok(Action::await_change())
}

async fn sync_config_map(
    namespace: Arc<Namespace>,
    kept: Arc<Kept<ConfigMap>>,
) -> Result<Action, Error> {
    let name = namespace.name_any();
    let existing = kept
        .cache
        .get(&ObjectRef::new(ROOT_CA_CONFIG_MAP).within(&name));
    let Some(wanted) = root_ca(&namespace, existing.as_deref(), &kept.bundle) else {
        return Ok(Action::await_change());
    };
    let api: Api<ConfigMap> = Api::namespaced(kept.context.client.clone(), &name);
    let written = match existing {
        None => api.create(&PostParams::default(), &wanted).await,
        Some(_) => {
            api.replace(ROOT_CA_CONFIG_MAP, &PostParams::default(), &wanted)
                .await
        }
    };
    ignore_taken(written)?;
    Ok(Action::await_change())
}

/// A write that lost to the namespace's deletion (403 while it
/// terminates, 404 once gone) or to an object made meanwhile (409 on a
/// create) is not an error: the caches bring the loop back if anything is
/// left to do.
fn ignore_taken<T>(result: Result<T, kube::Error>) -> Result<(), Error> {
    match result {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if matches!(status.code, 403 | 404 | 409) => Ok(()),
        Err(err) => Err(err.into()),
    }
}
