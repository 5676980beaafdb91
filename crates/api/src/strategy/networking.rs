//! The networking.k8s.io/v1 kinds: ingresses, ingress classes and network
//! policies carry a generation; service CIDRs and IP addresses (named by
//! their address) do not.

use super::{NameRule, kind_strategy};
use crate::printers::networking as print;

kind_strategy! {
    /// networking.k8s.io/v1 Ingress.
    IngressStrategy, INGRESS, api::networking::v1::Ingress {
        generation: true,
        validate: crate::validate::networking::ingress,
        printer: (print::INGRESS, print::ingress),
    }
}

kind_strategy! {
    /// networking.k8s.io/v1 IngressClass.
    IngressClassStrategy, INGRESS_CLASS, api::networking::v1::IngressClass {
        generation: true,
        defaults: crate::defaults::cluster::ingress_class,
        validate: crate::validate::networking::ingress_class,
        printer: (print::INGRESS_CLASS, print::ingress_class),
    }
}

kind_strategy! {
    /// networking.k8s.io/v1 NetworkPolicy.
    NetworkPolicyStrategy, NETWORK_POLICY, api::networking::v1::NetworkPolicy {
        generation: true,
        defaults: crate::defaults::cluster::network_policy,
        validate: crate::validate::networking::network_policy,
        printer: (print::NETWORK_POLICY, print::network_policy),
    }
}

kind_strategy! {
    /// networking.k8s.io/v1 ServiceCIDR.
    ServiceCidrStrategy, SERVICE_CIDR, api::networking::v1::ServiceCIDR {
        validate: crate::validate::ipam::service_cidr,
        printer: (print::SERVICE_CIDR, print::service_cidr),
    }
}

kind_strategy! {
    /// networking.k8s.io/v1 IPAddress: named by the address, in canonical
    /// form.
    IpAddressStrategy, IP_ADDRESS, api::networking::v1::IPAddress {
        name_rule: NameRule::IpAddress,
        validate: crate::validate::ipam::ip_address,
        printer: (print::IP_ADDRESS, print::ip_address),
    }
}
