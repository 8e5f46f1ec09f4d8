//! jEAP-compatible record signing and signature verification.
//!
//! Since jEAP messaging 8.21 a jEAP publisher signs every record and subscribers can require it
//! (`jeap.messaging.authentication.subscriber.require-signature`). This crate does both halves
//! byte for byte as jEAP does; it knows nothing of Kafka clients or databases (the outbox relay
//! and the consumer runtime put the headers on and read them off).
//!
//! # The contract (confirmed in the jEAP source)
//! All paths below are in `jeap-admin-ch/jeap-messaging`, folder
//! `jeap-messaging-infrastructure/src/main/java/ch/admin/bit/jeap/messaging/kafka/signature/`.
//!
//! * **Algorithm**: `SHA256withRSA` (`common/CryptoProviderHelper.java`), i.e. RSASSA-PKCS1-v1_5
//!   with SHA-256 over the bytes, no pre-hashing by the caller (`publisher/ByteSigner.java`).
//!   PKCS#1 v1.5 is deterministic: our signature of given bytes equals Java's byte for byte.
//! * **What is signed, when**: the serializer's output, i.e. the Confluent-framed Avro bytes
//!   exactly as they go on the wire (before jEAP's optional payload encryption), at serialize
//!   time, that is at send time (jEAP's Avro serializers call
//!   `signatureService.injectSignature(headers, payload, isKey)` right after serializing). A `null`
//!   value or key is not signed.
//! * **Headers** (`SignatureHeaders.java`, `publisher/SignatureInjector.java`): `jeap-sign` = value
//!   signature; `jeap-sign-key` = key signature, only when the record has a key; `jeap-cert` = the
//!   certificate serial number, added with the value signature only.
//! * **Serial number encoding** (`common/SignatureCertificate.java`):
//!   `X509Certificate.getSerialNumber().toByteArray()`: minimal big-endian two's complement, so a
//!   serial with the high bit set gets a leading `0x00`. That is the DER INTEGER's content octets.
//! * **Key and certificate** (`publisher/PrivateKeyFactory.java`, `common/CertificateHelper.java`):
//!   an RSA PKCS#8 key as PEM `PRIVATE KEY` (or DER); an X.509 certificate as PEM or DER.
//! * **Publisher start checks**: `SignaturePublisherCheck.java` signs the bytes `1..=9` and
//!   verifies them with the certificate (key/certificate mismatch fails the start);
//!   `publisher/SignatureCertificateHandling.java` fails when the certificate's CN is not
//!   `spring.application.name`, only logs an expired / not yet valid certificate, and exposes the
//!   gauge `jeap_messaging_signature_certificate_days_remaining` (`SignatureMetricsService.java`).
//! * **Subscriber** (`subscriber/DefaultSignatureAuthenticityService.java`,
//!   `CertificateAndSignatureVerifier.java`, `SignatureCertificateValidator.java`,
//!   `SubscriberCertificatesContainer.java`, `SubscriberValidationPropertiesContainer.java`,
//!   `SignatureSubscriberProperties.java`; outcomes in `exceptions/MessageSignatureValidationException.java`
//!   and `exceptions/CertificateValidationException.java`): see [`Verifier`] and [`Rejection`].
//!   Order: header presence, certificate lookup by serial (leaf of a configured chain), allowed
//!   publisher, CN = declared publisher (unless privileged), expiry, chain validity, signature.
//!
//! # Crypto
//! AWS-LC through `aws-lc-rs` (ISC/Apache-2.0; already in the workspace for rustls): the
//! fastest RSA signing available to Rust (see `benches/signing.rs`) and constant-time; the pure
//! Rust `rsa` crate is slower and still carries the Marvin timing advisory (RUSTSEC-2023-0071).
//! X.509 parsing with RustCrypto `x509-cert` (Apache-2.0/MIT), PKIX chain validation with
//! `rustls-webpki` (ISC). Keys below 2048 bits are refused (Java would accept them).
//!
//! # Quick start
//! ```
//! use audit_signing::{ReceivedHeaders, MessageInfo, Signer, SignerHandle, Verifier, VerifierConfig};
//! use std::collections::BTreeMap;
//!
//! let key = include_bytes!("../tests/data/doc-key.pem");
//! let cert = include_bytes!("../tests/data/doc-cert.pem");
//! // Fails with a typed error when the key does not match or the CN is not the service.
//! let signer = SignerHandle::new(Signer::from_pem(key, cert, "audit-demo-service")?);
//!
//! let value = b"\0\0\0\0\x01avro bytes";
//! let signed = signer.current().sign_record(Some(b"key"), value)?;
//! let headers: Vec<(&str, &[u8])> = signed.headers().collect();
//! assert_eq!(headers[0].0, "jeap-sign-key");
//! assert_eq!(headers[2], ("jeap-cert", &[0x00, 0xc0, 0xff, 0xee][..]));
//!
//! let mut config = VerifierConfig { require_signature: true, ..VerifierConfig::default() };
//! let chain = vec![String::from_utf8(cert.to_vec())?];
//! config.certificate_chains.insert("audit-demo-service".into(), BTreeMap::from([("main".into(), chain)]));
//! let verifier = Verifier::new(config)?;
//! let received = ReceivedHeaders::from_headers(headers.iter().map(|(n, v)| (*n, Some(*v))));
//! let message = MessageInfo { type_name: "CreateAuditRecordCommand", service: "audit-demo-service" };
//! assert!(verifier.verify_value(Some(message), &received, value).is_ok());
//! assert!(verifier.verify_value(Some(message), &received, b"tampered").is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cert;
mod error;
pub mod metrics;
mod signer;
mod verifier;

pub use error::Error;
pub use signer::{RecordSignature, Signer, SignerHandle};
pub use verifier::{
    Accepted, CERTIFICATE_ERROR_CODE, MessageInfo, ReceivedHeaders, Rejection,
    SIGNATURE_ERROR_CODE, Temporality, Verifier, VerifierConfig,
};

/// `jeap-sign`: the signature of the record value bytes.
pub const VALUE_SIGNATURE_HEADER: &str = "jeap-sign";
/// `jeap-sign-key`: the signature of the record key bytes (only when there is a key).
pub const KEY_SIGNATURE_HEADER: &str = "jeap-sign-key";
/// `jeap-cert`: the publisher certificate's serial number (value records only).
pub const CERTIFICATE_HEADER: &str = "jeap-cert";
