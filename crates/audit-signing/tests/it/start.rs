//! Publisher start checks (issue 15, acceptance 4 for the crate).

use audit_signing::{Error, Signer};

use crate::support::{Pki, openssl};

#[test]
fn key_of_another_certificate_fails_with_key_certificate_mismatch() {
    let pki = Pki::new();
    let ca = pki.ca("Test Root CA");
    let a = pki.leaf("svc", &ca, "0x01", 30, 2048);
    let b = pki.leaf("svc", &ca, "0x02", 30, 2048);
    let err = Signer::from_pem(&b.key_pem, &a.cert_pem, "svc").unwrap_err();
    assert!(
        matches!(err, Error::KeyCertificateMismatch { ref subject } if subject == "svc"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("does not match the public key in the certificate")
    );
    // the matching pair builds
    Signer::from_pem(&a.key_pem, &a.cert_pem, "svc").unwrap();
}

#[test]
fn certificate_cn_not_the_service_fails_with_common_name_not_service() {
    let pki = Pki::new();
    let ca = pki.ca("Test Root CA");
    let other = pki.leaf("other-service", &ca, "0x03", 30, 2048);
    let err = Signer::from_pem(&other.key_pem, &other.cert_pem, "svc").unwrap_err();
    match &err {
        Error::CommonNameNotService {
            service,
            common_name,
        } => {
            assert_eq!(service, "svc");
            assert_eq!(common_name.as_deref(), Some("other-service"));
        }
        e => panic!("unexpected {e}"),
    }
    assert!(err.to_string().contains("does not match CN"), "{err}");
}

#[test]
fn pkcs1_key_and_garbage_certificate_fail_with_typed_errors() {
    let pki = Pki::new();
    let ca = pki.ca("Test Root CA");
    let a = pki.leaf("svc", &ca, "0x04", 30, 2048);
    openssl(
        pki.dir.path(),
        &[
            "rsa",
            "-in",
            a.key_path.to_str().unwrap(),
            "-traditional",
            "-out",
            "pkcs1.key",
        ],
    );
    let pkcs1 = std::fs::read(pki.dir.path().join("pkcs1.key")).unwrap();
    assert!(pkcs1.starts_with(b"-----BEGIN RSA PRIVATE KEY-----"));
    let err = Signer::from_pem(&pkcs1, &a.cert_pem, "svc").unwrap_err();
    assert!(matches!(err, Error::PrivateKey { .. }), "{err}");
    assert!(err.to_string().contains("PKCS#8"), "{err}");

    let err = Signer::from_pem(
        &a.key_pem,
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "svc",
    )
    .unwrap_err();
    assert!(matches!(err, Error::Certificate { .. }), "{err}");
}

#[test]
fn der_key_and_der_certificate_are_accepted_like_jeap() {
    let pki = Pki::new();
    let ca = pki.ca("Test Root CA");
    let a = pki.leaf("svc", &ca, "0x05", 30, 2048);
    let dir = pki.dir.path();
    openssl(
        dir,
        &[
            "pkcs8",
            "-topk8",
            "-nocrypt",
            "-in",
            a.key_path.to_str().unwrap(),
            "-outform",
            "DER",
            "-out",
            "k.der",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-in",
            a.cert_path.to_str().unwrap(),
            "-outform",
            "DER",
            "-out",
            "c.der",
        ],
    );
    let key = std::fs::read(dir.join("k.der")).unwrap();
    let cert = std::fs::read(dir.join("c.der")).unwrap();
    let der = Signer::from_pem(&key, &cert, "svc").unwrap();
    let pem = a.signer("svc");
    assert_eq!(der.sign_value(b"x").unwrap(), pem.sign_value(b"x").unwrap());
}

#[test]
fn an_expired_certificate_only_warns_at_start_like_jeap() {
    let pki = Pki::new();
    let ca = pki.ca("Test Root CA");
    let expired = pki.leaf("svc", &ca, "0x06", -1, 2048);
    let signer = expired.signer("svc");
    assert!(signer.validity_remaining_days() <= 0);
}
