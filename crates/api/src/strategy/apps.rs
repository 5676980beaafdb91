//! The apps/v1 workloads: deployments, replica sets, stateful sets and
//! daemon sets carry a generation; controller revisions are immutable
//! history.

use super::{NameRule, kind_strategy};
use crate::printers::workloads as print;

kind_strategy! {
    /// apps/v1 Deployment.
    DeploymentStrategy, DEPLOYMENT, api::apps::v1::Deployment {
        generation: true,
        defaults: crate::defaults::workloads::deployment,
        validate: crate::validate::apps::deployment,
        printer: (print::DEPLOYMENT, print::deployment),
    }
}

kind_strategy! {
    /// apps/v1 ReplicaSet.
    ReplicaSetStrategy, REPLICA_SET, api::apps::v1::ReplicaSet {
        generation: true,
        defaults: crate::defaults::workloads::replica_set,
        validate: crate::validate::apps::replica_set,
        printer: (print::REPLICA_SET, print::replica_set),
    }
}

kind_strategy! {
    /// apps/v1 StatefulSet: names are DNS labels (they name pods and
    /// their host names).
    StatefulSetStrategy, STATEFUL_SET, api::apps::v1::StatefulSet {
        generation: true,
        name_rule: NameRule::Label,
        defaults: crate::defaults::workloads::stateful_set,
        validate: crate::validate::apps::stateful_set,
        printer: (print::STATEFUL_SET, print::stateful_set),
    }
}

kind_strategy! {
    /// apps/v1 DaemonSet.
    DaemonSetStrategy, DAEMON_SET, api::apps::v1::DaemonSet {
        generation: true,
        defaults: crate::defaults::workloads::daemon_set,
        validate: crate::validate::apps::daemon_set,
        printer: (print::DAEMON_SET, print::daemon_set),
    }
}

kind_strategy! {
    /// apps/v1 ControllerRevision.
    ControllerRevisionStrategy, CONTROLLER_REVISION, api::apps::v1::ControllerRevision {
        validate: crate::validate::core::controller_revision,
        printer: (print::CONTROLLER_REVISION, print::controller_revision),
    }
}
