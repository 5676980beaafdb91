//! kube-runtime's event recorder writes events.k8s.io/v1 Events (and
//! patches their series when an event repeats); they read back in both
//! versions, as upstream serves the same objects as core/v1 Events.

mod support;

use k8s_openapi::api::core::v1::{ConfigMap, Event as CoreEvent};
use k8s_openapi::api::events::v1::Event;
use kube::Resource;
use kube::api::{Api, ListParams, PostParams};
use kube::runtime::events::{Event as Published, EventType, Recorder, Reporter};
use serde_json::json;
use support::Server;

on_every_backend!(recorded_events_read_back_in_both_versions);

async fn recorded_events_read_back_in_both_versions(server: Server) {
    let config_maps: Api<ConfigMap> = Api::namespaced(server.client.clone(), "default");
    let config: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "watched"}})).expect("a ConfigMap");
    let created = config_maps
        .create(&PostParams::default(), &config)
        .await
        .expect("created");
    let reporter = Reporter {
        controller: "keelson-test".into(),
        instance: Some("test-1".into()),
    };
    let recorder = Recorder::new(server.client.clone(), reporter);
    let event = Published {
        type_: EventType::Normal,
        reason: "Checked".into(),
        note: Some("all is well".into()),
        action: "Check".into(),
        secondary: None,
    };
    let reference = created.object_ref(&());
    recorder
        .publish(&event, &reference)
        .await
        .expect("published");
    recorder
        .publish(&event, &reference)
        .await
        .expect("published again");

    let events: Api<Event> = Api::namespaced(server.client.clone(), "default");
    let listed = events.list(&ListParams::default()).await.expect("a list");
    let ours: Vec<&Event> = listed
        .items
        .iter()
        .filter(|e| e.reason.as_deref() == Some("Checked"))
        .collect();
    assert_eq!(ours.len(), 1, "{listed:?}");
    let ours = ours[0];
    assert_eq!(ours.note.as_deref(), Some("all is well"));
    assert_eq!(ours.reporting_controller.as_deref(), Some("keelson-test"));
    assert_eq!(ours.series.as_ref().map(|s| s.count), Some(2));
    let regarding = ours.regarding.as_ref().expect("what it is about");
    assert_eq!(regarding.name.as_deref(), Some("watched"));

    let core: Api<CoreEvent> = Api::namespaced(server.client.clone(), "default");
    let name = ours.metadata.name.clone().expect("a name");
    let as_core = core
        .get(&name)
        .await
        .expect("the same object as a core Event");
    assert_eq!(as_core.message.as_deref(), Some("all is well"));
    assert_eq!(as_core.reason.as_deref(), Some("Checked"));
    assert_eq!(as_core.involved_object.name.as_deref(), Some("watched"));
    assert_eq!(as_core.reporting_component.as_deref(), Some("keelson-test"));
}
