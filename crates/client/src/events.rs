//! The events controllers record on the objects they act for, with
//! upstream's reasons and messages, so that `kubectl describe` reads the
//! same.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use keelson_api::k8s_openapi::api::core::v1::{Event as CoreEvent, EventSource};
use keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::Resource;
use kube::api::{Api, Patch, PatchParams, PostParams};

/// Whether an event reports routine work or a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// `Normal`.
    Normal,
    /// `Warning`.
    Warning,
}

impl EventType {
    /// The event's `type` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "Normal",
            Self::Warning => "Warning",
        }
    }
}

/// One event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Normal or Warning.
    pub type_: EventType,
    /// The machine-readable reason.
    pub reason: &'static str,
    /// The human-readable message.
    pub message: String,
}

impl Event {
    /// An event of `type_` with `reason` and `message`.
    pub fn new(type_: EventType, reason: &'static str, message: String) -> Self {
        Self {
            type_,
            reason,
            message,
        }
    }
}

/// Records a controller's events as upstream's controllers do: `v1`
/// Events with the controller as their source, one per distinct reason and
/// message on an object, an identical one counted again (`count`,
/// `lastTimestamp`) rather than made anew. kube-runtime's recorder keys
/// its series without the message, so "Scaled up ... to 3" would be
/// folded into an earlier "Scaled up ... to 1"; hence this one.
#[derive(Clone)]
pub struct Events {
    client: kube::Client,
    controller: String,
    seen: Arc<Mutex<Seen>>,
}

/// The events recorded, by object uid, reason and message: their names
/// and counts.
type Seen = HashMap<(String, &'static str, String), (String, i32)>;

/// How many distinct events are remembered for counting, at most.
const REMEMBERED: usize = 4096;

impl Events {
    /// Events reported by `controller` (e.g. `replicaset-controller`),
    /// written with `client`.
    pub fn new(client: kube::Client, controller: &str) -> Self {
        Self {
            client,
            controller: controller.to_string(),
            seen: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Records `event` about `object`; a failure to record is only logged,
    /// as upstream's recorder drops what it cannot write.
    pub async fn publish<K: Resource<DynamicType = ()>>(&self, object: &K, event: Event) {
        if let Err(err) = self.record(object, event).await {
            tracing::debug!(error = %err, "an event was not recorded");
        }
    }

    async fn record<K: Resource<DynamicType = ()>>(
        &self,
        object: &K,
        event: Event,
    ) -> Result<(), kube::Error> {
        let reference = object.object_ref(&());
        let namespace = reference
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let api: Api<CoreEvent> = Api::namespaced(self.client.clone(), &namespace);
        let now = Time(jiff::Timestamp::now());
        let key = (
            reference.uid.clone().unwrap_or_default(),
            event.reason,
            event.message.clone(),
        );
        let known = self.lock().get(&key).cloned();
        if let Some((name, count)) = known {
            let patch = serde_json::json!({"count": count + 1, "lastTimestamp": now});
            match api
                .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => {
                    self.lock().insert(key, (name, count + 1));
                    return Ok(());
                }
                // Gone (events expire): made again below.
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(err) => return Err(err),
            }
        }
        let object_name = reference.name.clone().unwrap_or_default();
        let stamp = now.0.as_nanosecond();
        let made = CoreEvent {
            metadata: ObjectMeta {
                name: Some(format!("{object_name}.{stamp:x}")),
                namespace: Some(namespace),
                ..ObjectMeta::default()
            },
            involved_object: reference,
            reason: Some(event.reason.to_string()),
            message: Some(event.message),
            type_: Some(event.type_.as_str().to_string()),
            source: Some(EventSource {
                component: Some(self.controller.clone()),
                host: None,
            }),
            first_timestamp: Some(now.clone()),
            last_timestamp: Some(now),
            count: Some(1),
            reporting_component: Some(self.controller.clone()),
            reporting_instance: Some(self.controller.clone()),
            ..CoreEvent::default()
        };
        let name = made.metadata.name.clone().unwrap_or_default();
        api.create(&PostParams::default(), &made).await?;
        let mut seen = self.lock();
        if seen.len() >= REMEMBERED {
            seen.clear();
        }
        seen.insert(key, (name, 1));
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }
}
