//! APIServices (apiregistration.k8s.io/v1): one per served group-version,
//! named `<version>.<group>`.

use super::{NameRule, kind_strategy};
use crate::printers::rbac as print;

kind_strategy! {
    /// apiregistration.k8s.io/v1 APIService.
    ApiServiceStrategy, API_SERVICE, kube_aggregator::pkg::apis::apiregistration::v1::APIService {
        name_rule: NameRule::PathSegment,
        defaults: crate::defaults::cluster::api_service,
        validate: crate::validate::apiservice::api_service,
        printer: (print::API_SERVICE, print::api_service),
    }
}
