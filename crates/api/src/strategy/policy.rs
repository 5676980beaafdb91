//! Pod disruption budgets (policy/v1), which carry a generation their
//! status reports having seen, and priority classes (scheduling.k8s.io/v1).

use super::kind_strategy;
use crate::printers::policy as print;

kind_strategy! {
    /// policy/v1 PodDisruptionBudget.
    PodDisruptionBudgetStrategy, POD_DISRUPTION_BUDGET, api::policy::v1::PodDisruptionBudget {
        generation: true,
        validate: crate::validate::policy::pod_disruption_budget,
        printer: (print::POD_DISRUPTION_BUDGET, print::pod_disruption_budget),
    }
}

kind_strategy! {
    /// scheduling.k8s.io/v1 PriorityClass.
    PriorityClassStrategy, PRIORITY_CLASS, api::scheduling::v1::PriorityClass {
        defaults: crate::defaults::cluster::priority_class,
        validate: crate::validate::policy::priority_class,
        printer: (print::PRIORITY_CLASS, print::priority_class),
    }
}
