//! The rbac.authorization.k8s.io/v1 kinds, named by any path segment
//! (`system:` names included). Roles print upstream's default table.

use super::{NameRule, kind_strategy};
use crate::printers::rbac as print;

kind_strategy! {
    /// rbac.authorization.k8s.io/v1 Role.
    RoleStrategy, ROLE, api::rbac::v1::Role {
        name_rule: NameRule::PathSegment,
        validate: crate::validate::rbac::role,
    }
}

kind_strategy! {
    /// rbac.authorization.k8s.io/v1 ClusterRole.
    ClusterRoleStrategy, CLUSTER_ROLE, api::rbac::v1::ClusterRole {
        name_rule: NameRule::PathSegment,
        validate: crate::validate::rbac::cluster_role,
    }
}

kind_strategy! {
    /// rbac.authorization.k8s.io/v1 RoleBinding.
    RoleBindingStrategy, ROLE_BINDING, api::rbac::v1::RoleBinding {
        name_rule: NameRule::PathSegment,
        defaults: crate::defaults::cluster::role_binding,
        validate: crate::validate::rbac::role_binding,
        printer: (print::ROLE_BINDING, print::role_binding),
    }
}

kind_strategy! {
    /// rbac.authorization.k8s.io/v1 ClusterRoleBinding.
    ClusterRoleBindingStrategy, CLUSTER_ROLE_BINDING, api::rbac::v1::ClusterRoleBinding {
        name_rule: NameRule::PathSegment,
        defaults: crate::defaults::cluster::role_binding,
        validate: crate::validate::rbac::cluster_role_binding,
        printer: (print::CLUSTER_ROLE_BINDING, print::cluster_role_binding),
    }
}
