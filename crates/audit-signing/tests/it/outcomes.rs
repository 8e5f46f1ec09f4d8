//! jEAP's subscriber outcome table, case by case (issue 15), with jEAP's temporality.

use std::collections::HashSet;

use audit_signing::{
    Accepted, CERTIFICATE_ERROR_CODE, ReceivedHeaders, RecordSignature, Rejection,
    SIGNATURE_ERROR_CODE, Temporality, Verifier, VerifierConfig,
};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

use crate::support::{COMMAND, KeyCert, Pki, message, strict_config, value};

struct World {
    _pki: Pki,
    ca: KeyCert,
    svc: KeyCert,
    expired: KeyCert,
    untrusted: KeyCert,
    other_cn: KeyCert,
    mirror: KeyCert,
}

fn world() -> World {
    let pki = Pki::new();
    let ca = pki.ca("Test Root CA");
    // same subject name as the trusted CA, different key: only the signature check can tell
    let rogue_ca = pki.ca("Test Root CA");
    let svc = pki.leaf("svc", &ca, "0x8000000000000001", 30, 2048);
    let expired = pki.leaf("svc", &ca, "0x21", -1, 2048);
    let untrusted = pki.leaf("svc", &rogue_ca, "0x22", 30, 2048);
    let other_cn = pki.leaf("other-service", &ca, "0x23", 30, 2048);
    let mirror = pki.leaf("mirrormaker", &ca, "0x24", 30, 2048);
    World {
        _pki: pki,
        ca,
        svc,
        expired,
        untrusted,
        other_cn,
        mirror,
    }
}

impl World {
    /// svc's chains: the good one, the expired one, the untrusted one (configured with the
    /// trusted CA as root, but signed by the rogue CA), other-service's and mirrormaker's.
    fn config(&self) -> VerifierConfig {
        strict_config(&[
            ("svc", vec![&self.svc, &self.ca]),
            ("svc-expired", vec![&self.expired, &self.ca]),
            ("svc-untrusted", vec![&self.untrusted, &self.ca]),
            ("other-service", vec![&self.other_cn, &self.ca]),
            ("mirrormaker", vec![&self.mirror, &self.ca]),
        ])
    }
}

fn headers(s: &RecordSignature) -> ReceivedHeaders<'_> {
    ReceivedHeaders::from_headers(s.headers().map(|(n, v)| (n, Some(v))))
}

fn rejected(r: Result<Accepted, Rejection>) -> Rejection {
    match r {
        Err(e) => e,
        Ok(a) => panic!("accepted: {a:?}"),
    }
}

#[test]
fn signed_record_verifies_and_a_flipped_value_byte_is_a_permanent_invalid_signature() {
    let w = world();
    let v = Verifier::new(w.config()).unwrap();
    let row = value();
    let s = w.svc.signer("svc").sign_record(Some(b"k1"), &row).unwrap();
    assert_eq!(
        v.verify_value(Some(message("svc")), &headers(&s), &row),
        Ok(Accepted::Verified {
            common_name: "svc".into()
        })
    );
    assert!(matches!(
        v.verify_key(&headers(&s), b"k1"),
        Ok(Accepted::Verified { .. })
    ));

    let mut flipped = row.clone();
    flipped[10] ^= 0x01;
    let e = rejected(v.verify_value(Some(message("svc")), &headers(&s), &flipped));
    assert!(matches!(e, Rejection::InvalidValueSignature { .. }), "{e}");
    assert_eq!(e.temporality(), Temporality::Permanent);
    assert_eq!(e.error_code(), SIGNATURE_ERROR_CODE);

    let e = rejected(v.verify_key(&headers(&s), b"k2"));
    assert_eq!(e, Rejection::InvalidKeySignature);
    assert_eq!(e.temporality(), Temporality::Permanent);
}

#[test]
fn unknown_certificate_serial_is_temporary_in_strict_mode_and_accepted_when_not_required() {
    let w = world();
    let row = value();
    let s = w.svc.signer("svc").sign_record(None, &row).unwrap();
    let mut h = headers(&s);
    let wrong = [0x7f, 0x01];
    h.certificate_serial = Some(&wrong);
    let v = Verifier::new(w.config()).unwrap();
    let e = rejected(v.verify_value(Some(message("svc")), &h, &row));
    assert_eq!(
        e,
        Rejection::CertificateNotFound {
            serial: wrong.to_vec()
        }
    );
    assert_eq!(e.temporality(), Temporality::Temporary);
    assert_eq!(e.error_code(), CERTIFICATE_ERROR_CODE);
    assert_eq!(
        e.to_string(),
        "Could not find certificate with serial number 7f 01"
    );

    let lax = Verifier::new(VerifierConfig {
        require_signature: false,
        verify_when_not_required: true,
        ..w.config()
    })
    .unwrap();
    assert_eq!(
        lax.verify_value(Some(message("svc")), &h, &row),
        Ok(Accepted::UnknownCertificate)
    );
}

#[test]
fn expired_certificate_is_permanent() {
    let w = world();
    let row = value();
    let s = w.expired.signer("svc").sign_record(None, &row).unwrap();
    let v = Verifier::new(w.config()).unwrap();
    let e = rejected(v.verify_value(Some(message("svc")), &headers(&s), &row));
    assert!(matches!(e, Rejection::CertificateExpired { .. }), "{e}");
    assert_eq!(e.temporality(), Temporality::Permanent);
    assert_eq!(e.error_code(), CERTIFICATE_ERROR_CODE);
}

#[test]
fn untrusted_chain_is_temporary() {
    let w = world();
    let row = value();
    let s = w.untrusted.signer("svc").sign_record(None, &row).unwrap();
    let v = Verifier::new(w.config()).unwrap();
    let e = rejected(v.verify_value(Some(message("svc")), &headers(&s), &row));
    assert!(matches!(e, Rejection::InvalidChain { .. }), "{e}");
    assert_eq!(e.temporality(), Temporality::Temporary);
}

#[test]
fn certificate_cn_not_the_declared_publisher_is_permanent_unless_privileged() {
    let w = world();
    let row = value();
    let v = Verifier::new(w.config()).unwrap();
    let s = w
        .other_cn
        .signer("other-service")
        .sign_record(None, &row)
        .unwrap();
    let e = rejected(v.verify_value(Some(message("svc")), &headers(&s), &row));
    assert_eq!(
        e,
        Rejection::CommonNameMismatch {
            common_name: "other-service".into(),
            service: "svc".into()
        }
    );
    assert_eq!(e.temporality(), Temporality::Permanent);

    // the default privileged producer (mirrormaker) may publish on behalf of svc
    let s = w
        .mirror
        .signer("mirrormaker")
        .sign_record(None, &row)
        .unwrap();
    assert_eq!(
        v.verify_value(Some(message("svc")), &headers(&s), &row),
        Ok(Accepted::Verified {
            common_name: "mirrormaker".into()
        })
    );
    let no_privileged = Verifier::new(VerifierConfig {
        privileged_producer_common_names: HashSet::new(),
        ..w.config()
    })
    .unwrap();
    let e = rejected(no_privileged.verify_value(Some(message("svc")), &headers(&s), &row));
    assert!(matches!(e, Rejection::CommonNameMismatch { .. }), "{e}");
}

#[test]
fn publisher_not_allowed_for_the_message_type_is_temporary() {
    let w = world();
    let row = value();
    let mut config = w.config();
    config
        .allowed_publishers
        .insert(COMMAND.into(), vec!["someone-else".into()]);
    let v = Verifier::new(config).unwrap();
    let s = w.svc.signer("svc").sign_record(None, &row).unwrap();
    let e = rejected(v.verify_value(Some(message("svc")), &headers(&s), &row));
    assert_eq!(
        e,
        Rejection::PublisherNotAllowed {
            message_type: COMMAND.into(),
            service: "svc".into()
        }
    );
    assert_eq!(e.temporality(), Temporality::Temporary);
    // a privileged CN passes the publisher whitelist too
    let s = w
        .mirror
        .signer("mirrormaker")
        .sign_record(None, &row)
        .unwrap();
    assert!(
        v.verify_value(Some(message("svc")), &headers(&s), &row)
            .is_ok()
    );
}

#[test]
fn header_presence_rules_in_strict_and_whitelisted_mode() {
    let w = world();
    let row = value();
    let mut config = w.config();
    config
        .accept_unsigned_message_types
        .insert("Whitelisted".into());
    let v = Verifier::new(config).unwrap();
    let none = ReceivedHeaders::default();
    let e = rejected(v.verify_value(Some(message("svc")), &none, &row));
    assert!(
        matches!(e, Rejection::StrictModeSignatureMissing { .. }),
        "{e}"
    );
    assert_eq!(e.temporality(), Temporality::Permanent);

    let wl = audit_signing::MessageInfo {
        type_name: "Whitelisted",
        service: "svc",
    };
    assert_eq!(
        v.verify_value(Some(wl), &none, &row),
        Ok(Accepted::Unsigned)
    );

    let s = w.svc.signer("svc").sign_record(None, &row).unwrap();
    let only_sig = ReceivedHeaders {
        certificate_serial: None,
        ..headers(&s)
    };
    let e = rejected(v.verify_value(Some(wl), &only_sig, &row));
    assert!(
        matches!(e, Rejection::CertificateHeaderMissing { .. }),
        "{e}"
    );
    let only_cert = ReceivedHeaders {
        value_signature: None,
        ..headers(&s)
    };
    let e = rejected(v.verify_value(Some(wl), &only_cert, &row));
    assert!(matches!(e, Rejection::SignatureHeaderMissing { .. }), "{e}");
    assert_eq!(e.temporality(), Temporality::Permanent);
    // a whitelisted type that is signed is still verified
    let mut flipped = row.clone();
    flipped[7] ^= 0x80;
    let e = rejected(v.verify_value(Some(wl), &headers(&s), &flipped));
    assert!(matches!(e, Rejection::InvalidValueSignature { .. }), "{e}");
}

#[test]
fn non_strict_default_does_not_check_and_non_jeap_messages_follow_the_option() {
    let w = world();
    let row = value();
    let v = Verifier::new(VerifierConfig {
        require_signature: false,
        ..w.config()
    })
    .unwrap();
    let garbage = ReceivedHeaders {
        value_signature: Some(&[1, 2, 3]),
        certificate_serial: Some(&[9]),
        key_signature: None,
    };
    assert_eq!(
        v.verify_value(Some(message("svc")), &garbage, &row),
        Ok(Accepted::NotChecked)
    );

    let strict = Verifier::new(w.config()).unwrap();
    let e = rejected(strict.verify_value(None, &ReceivedHeaders::default(), &row));
    assert_eq!(e, Rejection::NotAJeapMessage);
    assert_eq!(e.temporality(), Temporality::Temporary);
    let allow = Verifier::new(VerifierConfig {
        allow_non_jeap_messages: true,
        ..w.config()
    })
    .unwrap();
    assert_eq!(
        allow.verify_value(None, &ReceivedHeaders::default(), &row),
        Ok(Accepted::NonJeapMessage)
    );
}

#[test]
fn metrics_count_ok_and_nok_and_the_gauge_shows_remaining_days() {
    let w = world();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let row = value();
        let v = Verifier::new(w.config()).unwrap();
        let s = w.svc.signer("svc").sign_record(None, &row).unwrap();
        v.verify_value(Some(message("svc")), &headers(&s), &row)
            .unwrap();
        v.verify_value(Some(message("svc")), &headers(&s), b"tampered")
            .unwrap_err();
        audit_signing::SignerHandle::new(w.svc.signer("svc"));
    });
    let mut ok = 0;
    let mut nok = 0;
    let mut days = None;
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let labels: Vec<(String, String)> = key
            .key()
            .labels()
            .map(|l| (l.key().to_owned(), l.value().to_owned()))
            .collect();
        let has = |k: &str, v: &str| labels.iter().any(|(a, b)| a == k && b == v);
        match (key.key().name(), value) {
            (audit_signing::metrics::VALIDATION_OUTCOME, DebugValue::Counter(n)) => {
                assert!(has("messageType", COMMAND) && has("application", "audit-service"));
                if has("status", "OK") {
                    ok += n;
                } else if has("status", "NOK") && has("outcome", "invalid_value_signature") {
                    nok += n;
                }
            }
            (audit_signing::metrics::CERTIFICATE_DAYS_REMAINING, DebugValue::Gauge(g)) => {
                assert!(has("application", "svc"));
                days = Some(g.into_inner());
            }
            _ => {}
        }
    }
    assert_eq!((ok, nok), (1, 1));
    let days = days.expect("days gauge");
    assert!((28.0..=30.0).contains(&days), "{days}");
}

/// A chain of one certificate: the leaf is its own trust anchor. Like Java's PKIX, a self-signed
/// leaf (even with the CA flag, as `openssl req -x509` makes it) is valid; a leaf signed by
/// someone else is not.
#[test]
fn single_certificate_chain_is_valid_only_when_self_signed() {
    let pki = Pki::new();
    let self_signed = pki.ca("svc"); // CN=svc, self-signed, CA:TRUE
    let ca = pki.ca("Test Root CA");
    let issued = pki.leaf("svc", &ca, "0x31", 30, 2048);
    let v = Verifier::new(strict_config(&[
        ("svc", vec![&self_signed]),
        ("svc2", vec![&issued]),
    ]))
    .unwrap();
    let row = value();
    let s = self_signed.signer("svc").sign_record(None, &row).unwrap();
    assert!(matches!(
        v.verify_value(Some(message("svc")), &headers(&s), &row),
        Ok(Accepted::Verified { .. })
    ));
    let s = issued.signer("svc").sign_record(None, &row).unwrap();
    let e = rejected(v.verify_value(Some(message("svc")), &headers(&s), &row));
    assert!(matches!(e, Rejection::InvalidChain { .. }), "{e}");
}
