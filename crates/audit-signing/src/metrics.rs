//! Metric names and recording (the `metrics` facade), named like jEAP's `SignatureMetricsService`.

use crate::Signer;

/// Gauge: whole days until the publisher certificate expires (label `application`).
pub const CERTIFICATE_DAYS_REMAINING: &str = "jeap_messaging_signature_certificate_days_remaining";
/// Gauge: 1 when the subscriber requires signatures (strict mode), 0 otherwise (label `application`).
pub const SIGNATURE_REQUIRED_STATE: &str = "jeap_messaging_signature_required_state";
/// Counter: value-signature checks by `messageType`, `status` (`OK`/`NOK`, as jEAP) and
/// `outcome` (this crate's finer outcome name), label `application`.
pub const VALIDATION_OUTCOME: &str = "jeap_messaging_signature_validation_outcome";

pub(crate) fn certificate_days_remaining(signer: &Signer) {
    // Days fit an f64 exactly (|days| < 2^53).
    #[allow(clippy::cast_precision_loss)]
    let days = signer.validity_remaining_days() as f64;
    metrics::gauge!(CERTIFICATE_DAYS_REMAINING, "application" => signer.service().to_owned())
        .set(days);
}

pub(crate) fn signature_required(application: &str, required: bool) {
    metrics::gauge!(SIGNATURE_REQUIRED_STATE,
        "property" => "jeap.messaging.authentication.subscriber.require-signature",
        "application" => application.to_owned())
    .set(if required { 1.0 } else { 0.0 });
}

pub(crate) fn validation(application: &str, message_type: &str, ok: bool, outcome: &'static str) {
    metrics::counter!(VALIDATION_OUTCOME,
        "messageType" => message_type.to_owned(),
        "status" => if ok { "OK" } else { "NOK" },
        "outcome" => outcome,
        "application" => application.to_owned())
    .increment(1);
}
