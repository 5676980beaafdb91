//! The certificates.k8s.io/v1 kinds: CertificateSigningRequests, whose
//! requester fields the API server fills on create (it knows the user;
//! this crate does not) and whose status only its subresources write.

use super::kind_strategy;
use crate::field_selector::{NAME, SelectableFields, text};
use crate::printers::certificates as print;

kind_strategy! {
    /// certificates.k8s.io/v1 CertificateSigningRequest.
    CertificateSigningRequestStrategy, CERTIFICATE_SIGNING_REQUEST,
    api::certificates::v1::CertificateSigningRequest {
        validate: crate::validate::certificates::certificate_signing_request,
        printer: (print::CERTIFICATE_SIGNING_REQUEST, print::certificate_signing_request),
        fields: SelectableFields::core(&[NAME, text("spec.signerName", &["spec", "signerName"])]),
    }
}
