use super::*;
use crate::deployment::status::AVAILABLE;
use crate::deployment::testing::{annotated, at, deployment, rs};
use crate::deployment::{DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, spec_replicas};
use keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// A cluster in which pods start and become available between syncs.
struct Cluster {
    deployment: Deployment,
    replica_sets: Vec<ReplicaSet>,
    clock: i64,
}

impl Cluster {
    /// A Deployment of `replicas` whose template just changed: its old
    /// ReplicaSet runs them all with the previous image.
    fn rolling_from(replicas: i32) -> Self {
        let mut d = deployment(replicas, "25%", "25%");
        let mut old = rs("web-old", 1, replicas, replicas);
        let mut template = d.spec.as_ref().expect("spec").template.clone();
        if let Some(c) = template.spec.as_mut().map(|s| &mut s.containers[0]) {
            c.image = Some("nginx:1.27".into());
        }
        old.spec.as_mut().expect("spec").template = Some(template);
        let max = (replicas + super::super::max_surge(&d)).to_string();
        old = annotated(old, DESIRED_REPLICAS_ANNOTATION, &replicas.to_string());
        old = annotated(
            annotated(old, MAX_REPLICAS_ANNOTATION, &max),
            REVISION_ANNOTATION,
            "1",
        );
        d.metadata.annotations = Some([(REVISION_ANNOTATION.to_owned(), "1".to_owned())].into());
        // The previous rollout finished; the template changed since.
        d.metadata.generation = Some(2);
        let mut status = calculate_status(&d, Some(&old), &[], at(50));
        status.observed_generation = Some(1);
        let message = "ReplicaSet \"web-old\" has successfully progressed.".to_owned();
        set_condition(
            &mut status,
            new_condition(
                PROGRESSING,
                "True",
                "NewReplicaSetAvailable",
                message,
                at(50),
            ),
        );
        d.status = Some(status);
        Cluster {
            deployment: d,
            replica_sets: vec![old],
            clock: 100,
        }
    }

    fn find(&mut self, name: &str) -> &mut ReplicaSet {
        self.replica_sets
            .iter_mut()
            .find(|rs| rs.metadata.name.as_deref() == Some(name))
            .expect("a known ReplicaSet")
    }

    /// One sync; returns its plan after applying it.
    fn sync(&mut self) -> Plan {
        self.clock += 10;
        let plan = reconcile(&self.deployment, &self.replica_sets, &[], at(self.clock));
        for action in &plan.actions {
            self.apply(action);
        }
        if let Some(status) = &plan.status {
            self.deployment.status = Some(status.clone());
        }
        plan
    }

    fn apply(&mut self, action: &Action) {
        match action {
            Action::CreateReplicaSet(new) => {
                let mut new = (**new).clone();
                new.metadata.creation_timestamp = Some(Time(at(self.clock)));
                new.status = Some(Default::default());
                self.replica_sets.push(new);
            }
            Action::ScaleReplicaSet {
                name,
                to,
                desired_replicas,
                max_replicas,
                ..
            } => {
                let rs = self.find(name);
                rs.spec.as_mut().expect("spec").replicas = Some(*to);
                let annotations = rs.metadata.annotations.get_or_insert_default();
                annotations.insert(
                    DESIRED_REPLICAS_ANNOTATION.into(),
                    desired_replicas.to_string(),
                );
                annotations.insert(MAX_REPLICAS_ANNOTATION.into(), max_replicas.to_string());
                // Scaling down deletes pods at once.
                let status = rs.status.get_or_insert_default();
                status.replicas = status.replicas.min(*to);
                status.available_replicas = status.available_replicas.map(|a| a.min(*to));
                status.ready_replicas = status.ready_replicas.map(|a| a.min(*to));
            }
            Action::UpdateReplicaSet {
                name, annotations, ..
            } => {
                self.find(name).metadata.annotations = Some(annotations.clone());
            }
            Action::SetDeploymentRevision(revision) => {
                let annotations = self.deployment.metadata.annotations.get_or_insert_default();
                annotations.insert(REVISION_ANNOTATION.into(), revision.clone());
            }
            Action::DeleteReplicaSet { name } => self
                .replica_sets
                .retain(|rs| rs.metadata.name.as_deref() != Some(name)),
        }
    }

    /// Every ReplicaSet's pods start and become available.
    fn settle(&mut self) {
        for rs in &mut self.replica_sets {
            let replicas = spec_replicas(rs);
            let status = rs.status.get_or_insert_default();
            status.replicas = replicas;
            status.available_replicas = Some(replicas);
            status.ready_replicas = Some(replicas);
        }
    }

    fn sizes(&self) -> Vec<(String, i32)> {
        self.replica_sets
            .iter()
            .map(|rs| {
                (
                    rs.metadata.name.clone().unwrap_or_default(),
                    spec_replicas(rs),
                )
            })
            .collect()
    }
}

fn condition(d: &Deployment, type_: &str) -> (String, String, String) {
    let status = d.status.as_ref().expect("a status");
    let c = get_condition(status, type_).expect("the condition");
    (
        c.status.clone(),
        c.reason.clone().unwrap_or_default(),
        c.message.clone().unwrap_or_default(),
    )
}

#[test]
fn a_rolling_update_from_10_replicas_runs_to_completion() {
    let mut cluster = Cluster::rolling_from(10);
    let mut events = Vec::new();
    let mut steps = Vec::new();
    for _ in 0..20 {
        let plan = cluster.sync();
        events.extend(plan.events().into_iter().map(|e| e.message));
        if plan.actions.is_empty() && plan.status.is_none() {
            break;
        }
        let total: i32 = cluster.replica_sets.iter().map(spec_replicas).sum();
        assert!(
            total <= 13,
            "never past replicas + maxSurge: {:?}",
            cluster.sizes()
        );
        cluster.settle();
        steps.push(cluster.sizes());
    }
    let new = cluster.replica_sets[1]
        .metadata
        .name
        .clone()
        .expect("named");
    let sizes = |old: i32, n: i32| vec![("web-old".to_string(), old), (new.clone(), n)];
    assert!(new.starts_with("web-"), "{new}");
    assert_eq!(
        &steps[..5],
        [
            sizes(8, 3),
            sizes(8, 5),
            sizes(3, 5),
            sizes(3, 10),
            sizes(0, 10)
        ]
    );
    assert_eq!(
        events,
        [
            "Scaled down replica set web-old from 10 to 8".to_string(),
            format!("Scaled up replica set {new} from 3 to 5"),
            "Scaled down replica set web-old from 8 to 3".to_string(),
            format!("Scaled up replica set {new} from 5 to 10"),
            "Scaled down replica set web-old from 3 to 0".to_string(),
        ]
    );
    let d = &cluster.deployment;
    let status = d.status.as_ref().expect("a status");
    assert_eq!(
        (
            status.replicas,
            status.updated_replicas,
            status.available_replicas
        ),
        (Some(10), Some(10), Some(10))
    );
    assert_eq!(status.unavailable_replicas, None);
    assert_eq!(
        d.metadata.annotations.as_ref().expect("annotated")[REVISION_ANNOTATION],
        "2"
    );
    assert_eq!(
        condition(d, PROGRESSING),
        (
            "True".into(),
            "NewReplicaSetAvailable".into(),
            format!("ReplicaSet {new:?} has successfully progressed.")
        )
    );
    assert_eq!(condition(d, AVAILABLE).1, "MinimumReplicasAvailable");
    let new_rs = &cluster.replica_sets[1];
    let labels = new_rs.metadata.labels.as_ref().expect("labelled");
    assert_eq!(format!("web-{}", labels[POD_TEMPLATE_HASH_LABEL]), new);
    assert_eq!(
        new_rs.metadata.annotations.as_ref().expect("annotated")[REVISION_ANNOTATION],
        "2"
    );
}

#[test]
fn the_first_sync_records_the_new_replica_set() {
    let mut cluster = Cluster::rolling_from(10);
    let plan = cluster.sync();
    let new = cluster.replica_sets[1]
        .metadata
        .name
        .clone()
        .expect("named");
    assert!(
        plan.actions
            .contains(&Action::SetDeploymentRevision("2".into()))
    );
    assert_eq!(
        condition(&cluster.deployment, PROGRESSING),
        (
            "True".into(),
            "NewReplicaSetCreated".into(),
            format!("Created new replica set {new:?}")
        )
    );
    let selector = cluster.replica_sets[1]
        .spec
        .as_ref()
        .expect("spec")
        .selector
        .match_labels
        .clone()
        .expect("labels");
    assert_eq!(selector.len(), 2, "app and the hash: {selector:?}");
    let owner = &cluster.replica_sets[1]
        .metadata
        .owner_references
        .as_ref()
        .expect("owned")[0];
    assert_eq!(
        (owner.kind.as_str(), owner.controller),
        ("Deployment", Some(true))
    );
}

#[test]
fn scaling_10_to_15_mid_rollout_is_proportional() {
    let mut cluster = Cluster::rolling_from(10);
    cluster.sync();
    cluster.settle();
    cluster.sync();
    cluster.settle();
    let new = cluster.replica_sets[1]
        .metadata
        .name
        .clone()
        .expect("named");
    assert_eq!(
        cluster.sizes(),
        [("web-old".to_string(), 8), (new.clone(), 5)]
    );
    cluster.deployment.spec.as_mut().expect("spec").replicas = Some(15);
    let plan = cluster.sync();
    // max 13 -> 19: +6, shared 4 to the old (8) and 2 to the new (5).
    assert_eq!(
        cluster.sizes(),
        [("web-old".to_string(), 12), (new.clone(), 7)]
    );
    let events: Vec<String> = plan.events().into_iter().map(|e| e.message).collect();
    assert_eq!(
        events,
        [
            "Scaled up replica set web-old from 8 to 12".to_string(),
            format!("Scaled up replica set {new} from 5 to 7")
        ]
    );
    // Then the rollout goes on to 15 new.
    for _ in 0..20 {
        cluster.settle();
        if cluster.sync().actions.is_empty() {
            break;
        }
    }
    assert_eq!(cluster.sizes(), [("web-old".to_string(), 0), (new, 15)]);
}

#[test]
fn a_finished_rollout_prunes_old_revisions_past_the_limit() {
    let mut cluster = Cluster::rolling_from(2);
    cluster
        .deployment
        .spec
        .as_mut()
        .expect("spec")
        .revision_history_limit = Some(0);
    for _ in 0..20 {
        cluster.settle();
        let plan = cluster.sync();
        if plan.actions.is_empty() && plan.status.is_none() {
            break;
        }
    }
    assert_eq!(cluster.replica_sets.len(), 1, "{:?}", cluster.sizes());
    assert_eq!(spec_replicas(&cluster.replica_sets[0]), 2);
}

#[test]
fn a_paused_deployment_only_scales() {
    let mut cluster = Cluster::rolling_from(10);
    cluster.deployment.spec.as_mut().expect("spec").paused = Some(true);
    let plan = cluster.sync();
    assert!(plan.actions.is_empty(), "no rollout while paused: {plan:?}");
    assert_eq!(
        condition(&cluster.deployment, PROGRESSING),
        (
            "Unknown".into(),
            "DeploymentPaused".into(),
            "Deployment is paused".into()
        )
    );
    cluster.deployment.spec.as_mut().expect("spec").replicas = Some(12);
    cluster.sync();
    assert_eq!(cluster.sizes(), [("web-old".to_string(), 12)]);
    cluster.deployment.spec.as_mut().expect("spec").paused = Some(false);
    let plan = cluster.sync();
    assert!(
        matches!(plan.actions.first(), Some(Action::CreateReplicaSet(_))),
        "{plan:?}"
    );
    assert_eq!(
        condition(&cluster.deployment, PROGRESSING).1,
        "NewReplicaSetCreated"
    );
}

#[test]
fn an_existing_new_replica_set_is_found_and_annotated() {
    let mut cluster = Cluster::rolling_from(10);
    cluster.sync();
    let new = cluster.replica_sets[1]
        .metadata
        .name
        .clone()
        .expect("named");
    cluster
        .deployment
        .metadata
        .annotations
        .get_or_insert_default()
        .insert("team".into(), "web".into());
    let plan = cluster.sync();
    let Some(Action::UpdateReplicaSet {
        name, annotations, ..
    }) = plan.actions.first()
    else {
        panic!("{plan:?}")
    };
    assert_eq!(
        (name, annotations.get("team").map(String::as_str)),
        (&new, Some("web"))
    );
    assert!(
        find_new_replica_set(&cluster.deployment, &cluster.replica_sets)
            .is_some_and(|rs| rs.metadata.name == Some(new.clone()))
    );
}

#[test]
fn a_crashlooping_new_revision_never_costs_availability() {
    let mut cluster = Cluster::rolling_from(10);
    for _ in 0..10 {
        let plan = cluster.sync();
        // Old pods become available; the new ones never do.
        let old = cluster.find("web-old");
        let replicas = spec_replicas(old);
        let status = old.status.get_or_insert_default();
        status.available_replicas = Some(replicas);
        if plan.actions.is_empty() {
            break;
        }
    }
    let new = cluster.replica_sets[1]
        .metadata
        .name
        .clone()
        .expect("named");
    assert_eq!(
        cluster.sizes(),
        [("web-old".to_string(), 8), (new, 5)],
        "10 - maxUnavailable stay"
    );
    let (_, reason, _) = condition(&cluster.deployment, AVAILABLE);
    assert_eq!(reason, "MinimumReplicasAvailable");
}

#[test]
fn a_recreate_rollout_waits_for_the_old_pods() {
    let mut cluster = Cluster::rolling_from(3);
    let strategy = cluster
        .deployment
        .spec
        .as_mut()
        .and_then(|s| s.strategy.as_mut())
        .expect("strategy");
    strategy.type_ = Some("Recreate".into());
    strategy.rolling_update = None;
    let plan = cluster.sync();
    let events: Vec<String> = plan.events().into_iter().map(|e| e.message).collect();
    assert_eq!(events, ["Scaled down replica set web-old from 3 to 0"]);
    // The old pods are still terminating: nothing is created yet.
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "p", "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "name": "web-old", "uid": "web-old-uid", "controller": true}]},
        "status": {"phase": "Running"},
    }))
    .expect("a valid pod");
    let plan = reconcile(&cluster.deployment, &cluster.replica_sets, &[pod], at(500));
    assert!(
        !plan
            .actions
            .iter()
            .any(|a| matches!(a, Action::CreateReplicaSet(_))),
        "{plan:?}"
    );
    cluster.settle();
    let plan = cluster.sync();
    let Some(Action::CreateReplicaSet(new)) = plan.actions.first() else {
        panic!("{plan:?}")
    };
    assert_eq!(spec_replicas(new), 3, "all at once");
}

#[test]
fn a_deployment_being_deleted_only_gets_its_status() {
    let mut cluster = Cluster::rolling_from(10);
    cluster.deployment.metadata.deletion_timestamp = Some(Time(at(5)));
    cluster.replica_sets[0]
        .status
        .as_mut()
        .expect("status")
        .available_replicas = Some(4);
    let plan = reconcile(&cluster.deployment, &cluster.replica_sets, &[], at(500));
    assert!(plan.actions.is_empty(), "{plan:?}");
    let status = plan.status.expect("availability changed");
    assert_eq!(status.available_replicas, Some(4));
}
