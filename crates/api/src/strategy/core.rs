//! The core kinds without lifecycle rules of their own: config maps,
//! secrets, service accounts, events, nodes, leases, pod templates,
//! replication controllers, limit ranges and resource quotas.

use super::kind_strategy;
use crate::field_selector::{Field, NAME, NAMESPACE, Reader, SelectableFields, text};
use crate::printers::core as print;
use crate::printers::{policy, replication};

kind_strategy! {
    /// core/v1 ConfigMap.
    ConfigMapStrategy, CONFIG_MAP, api::core::v1::ConfigMap {
        validate: crate::validate::core::config_map,
        printer: (print::CONFIG_MAP, print::config_map),
    }
}

kind_strategy! {
    /// core/v1 Secret.
    SecretStrategy, SECRET, api::core::v1::Secret {
        defaults: crate::defaults::core::secret,
        validate: crate::validate::core::secret,
        printer: (print::SECRET, print::secret),
        fields: SelectableFields::core(&[NAME, NAMESPACE, text("type", &["type"])]),
    }
}

kind_strategy! {
    /// core/v1 ServiceAccount.
    ServiceAccountStrategy, SERVICE_ACCOUNT, api::core::v1::ServiceAccount {
        returns_deleted: true,
        printer: (print::SERVICE_ACCOUNT, print::service_account),
    }
}

kind_strategy! {
    /// core/v1 Event.
    EventStrategy, EVENT, api::core::v1::Event {
        printer: (print::EVENT, print::event),
        fields: SelectableFields::core(EVENT_FIELDS),
    }
}

const EVENT_FIELDS: &[Field] = &[
    NAME,
    NAMESPACE,
    text("involvedObject.kind", &["involvedObject", "kind"]),
    text("involvedObject.namespace", &["involvedObject", "namespace"]),
    text("involvedObject.name", &["involvedObject", "name"]),
    text("involvedObject.uid", &["involvedObject", "uid"]),
    text(
        "involvedObject.apiVersion",
        &["involvedObject", "apiVersion"],
    ),
    text(
        "involvedObject.resourceVersion",
        &["involvedObject", "resourceVersion"],
    ),
    text("involvedObject.fieldPath", &["involvedObject", "fieldPath"]),
    text("reason", &["reason"]),
    text("reportingComponent", &["reportingComponent"]),
    Field {
        name: "source",
        reader: Reader::EventSource,
    },
    text("type", &["type"]),
];

kind_strategy! {
    /// core/v1 Node.
    NodeStrategy, NODE, api::core::v1::Node {
        defaults: crate::defaults::core::node,
        validate: |object, _old| crate::validate::core::node(object),
        printer: (print::NODE, print::node),
        fields: SelectableFields::core(&[
            NAME,
            Field {
                name: "spec.unschedulable",
                reader: Reader::Bool(&["spec", "unschedulable"]),
            },
        ]),
    }
}

kind_strategy! {
    /// coordination.k8s.io/v1 Lease.
    LeaseStrategy, LEASE, api::coordination::v1::Lease {
        validate: |object, _old| crate::validate::core::lease(object),
        printer: (print::LEASE, print::lease),
    }
}

kind_strategy! {
    /// core/v1 PodTemplate.
    PodTemplateStrategy, POD_TEMPLATE, api::core::v1::PodTemplate {
        generation: true,
        returns_deleted: true,
        defaults: crate::defaults::replication::pod_template,
        validate: crate::validate::replication::pod_template_object,
        printer: (replication::POD_TEMPLATE, replication::pod_template),
    }
}

kind_strategy! {
    /// core/v1 ReplicationController: its Scale selects by its label map.
    ReplicationControllerStrategy, REPLICATION_CONTROLLER, api::core::v1::ReplicationController {
        generation: true,
        defaults: crate::defaults::replication::replication_controller,
        validate: crate::validate::replication::replication_controller,
        printer: (replication::REPLICATION_CONTROLLER, replication::replication_controller),
        fields: SelectableFields::core(&[
            NAME,
            NAMESPACE,
            Field {
                name: "status.replicas",
                reader: Reader::Count(&["status", "replicas"]),
            },
        ]),
        scale_selector: crate::validate::replication::scale_selector,
    }
}

kind_strategy! {
    /// core/v1 LimitRange (upstream's default table).
    LimitRangeStrategy, LIMIT_RANGE, api::core::v1::LimitRange {
        defaults: crate::defaults::cluster::limit_range,
        validate: crate::validate::quota::limit_range,
    }
}

kind_strategy! {
    /// core/v1 ResourceQuota.
    ResourceQuotaStrategy, RESOURCE_QUOTA, api::core::v1::ResourceQuota {
        validate: crate::validate::quota::resource_quota,
        printer: (policy::RESOURCE_QUOTA, policy::resource_quota),
    }
}
