//! Services, endpoints and endpoint slices.

use super::{NameRule, kind_strategy};
use crate::field_selector::{NAME, NAMESPACE, SelectableFields, text};
use crate::printers::network as print;

kind_strategy! {
    /// core/v1 Service: names are DNS-1035 labels.
    ServiceStrategy, SERVICE, api::core::v1::Service {
        returns_deleted: true,
        name_rule: NameRule::Dns1035Label,
        defaults: crate::defaults::core::service,
        validate: crate::validate::service::service,
        printer: (print::SERVICE, print::service),
        fields: SelectableFields::core(&[
            NAME,
            NAMESPACE,
            text("spec.clusterIP", &["spec", "clusterIP"]),
            text("spec.type", &["spec", "type"]),
        ]),
    }
}

kind_strategy! {
    /// core/v1 Endpoints.
    EndpointsStrategy, ENDPOINTS, api::core::v1::Endpoints {
        defaults: crate::defaults::core::endpoints,
        printer: (print::ENDPOINTS, print::endpoints),
    }
}

kind_strategy! {
    /// discovery.k8s.io/v1 EndpointSlice.
    EndpointSliceStrategy, ENDPOINT_SLICE, api::discovery::v1::EndpointSlice {
        defaults: crate::defaults::core::endpoint_slice,
        printer: (print::ENDPOINT_SLICE, print::endpoint_slice),
    }
}
