//! X.509 facts jEAP reads from a certificate: serial number bytes, CN, validity, RSA public key.

use std::time::{Duration, SystemTime};

use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use x509_cert::Certificate;
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::{Decode, DecodePem, Encode, Tag, Tagged};

use crate::Error;

const OID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SECONDS_PER_DAY: u64 = 86_400;

/// A parsed certificate with what signing and verification need.
#[derive(Debug, Clone)]
pub(crate) struct ParsedCert {
    /// DER of the whole certificate (for chain validation).
    pub(crate) der: Vec<u8>,
    /// `BigInteger.toByteArray()` of the serial: the DER INTEGER content octets (minimal two's
    /// complement, big-endian; a leading 0x00 when the high bit is set).
    pub(crate) serial: Vec<u8>,
    pub(crate) common_name: Option<String>,
    pub(crate) not_before: SystemTime,
    pub(crate) not_after: SystemTime,
    /// Issuer = subject and the certificate's signature verifies with its own key.
    pub(crate) self_signed: bool,
    /// PKCS#1 `RSAPublicKey` DER (the SPKI bit string).
    pub(crate) rsa_public_key: Vec<u8>,
}

impl ParsedCert {
    /// PEM (`-----BEGIN CERTIFICATE-----`) or DER, like Java's `CertificateFactory`.
    pub(crate) fn parse(bytes: &[u8], what: &str) -> Result<Self, Error> {
        let err = |source| Error::Certificate {
            what: what.to_owned(),
            source,
        };
        let trimmed = trim_ascii_start(bytes);
        let cert = if trimmed.starts_with(b"-----BEGIN") {
            Certificate::from_pem(trimmed).map_err(err)?
        } else {
            Certificate::from_der(bytes).map_err(err)?
        };
        let der = cert.to_der().map_err(err)?;
        let tbs = &cert.tbs_certificate;
        let spki = &tbs.subject_public_key_info;
        if spki.algorithm.oid != OID_RSA {
            return Err(Error::NotRsa {
                what: what.to_owned(),
                algorithm: spki.algorithm.oid.to_string(),
            });
        }
        let rsa_public_key = spki.subject_public_key.raw_bytes().to_vec();
        let self_signed =
            tbs.issuer == tbs.subject && self_signature_verifies(&cert, &rsa_public_key);
        Ok(Self {
            der,
            serial: tbs.serial_number.as_bytes().to_vec(),
            common_name: common_name(&cert),
            not_before: tbs.validity.not_before.to_system_time(),
            not_after: tbs.validity.not_after.to_system_time(),
            self_signed,
            rsa_public_key,
        })
    }

    /// jEAP `SignatureCertificate.isExpired`: now is after notAfter (notBefore is not checked per record).
    pub(crate) fn is_expired_at(&self, now: SystemTime) -> bool {
        now > self.not_after
    }

    /// jEAP `getValidityRemainingDays`: `ChronoUnit.DAYS.between(now, validTo)`, whole days
    /// truncated toward zero, negative once expired.
    pub(crate) fn remaining_days_at(&self, now: SystemTime) -> i64 {
        match self.not_after.duration_since(now) {
            Ok(left) => whole_days(left),
            Err(past) => -whole_days(past.duration()),
        }
    }

    /// SHA256withRSA (RSASSA-PKCS1-v1_5, SHA-256) verification with this certificate's key.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &self.rsa_public_key)
            .verify(message, signature)
            .is_ok()
    }
}

/// The certificate's own signature checked with `public_key` (RSA PKCS#1 v1.5 with SHA-256,
/// -384 or -512; other algorithms count as not verifying).
fn self_signature_verifies(cert: &Certificate, public_key: &[u8]) -> bool {
    use aws_lc_rs::signature::{
        RSA_PKCS1_2048_8192_SHA384, RSA_PKCS1_2048_8192_SHA512, VerificationAlgorithm,
    };
    let oid = cert.signature_algorithm.oid.to_string();
    let alg: &dyn VerificationAlgorithm = match oid.as_str() {
        "1.2.840.113549.1.1.11" => &RSA_PKCS1_2048_8192_SHA256,
        "1.2.840.113549.1.1.12" => &RSA_PKCS1_2048_8192_SHA384,
        "1.2.840.113549.1.1.13" => &RSA_PKCS1_2048_8192_SHA512,
        _ => return false,
    };
    let (Ok(tbs), Some(signature)) = (cert.tbs_certificate.to_der(), cert.signature.as_bytes())
    else {
        return false;
    };
    UnparsedPublicKey::new(alg, public_key)
        .verify(&tbs, signature)
        .is_ok()
}

fn whole_days(d: Duration) -> i64 {
    i64::try_from(d.as_secs() / SECONDS_PER_DAY).unwrap_or(i64::MAX)
}

fn trim_ascii_start(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

/// jEAP `CertificateHelper.getCommonName`: the first CN attribute of the subject in
/// `LdapName.getRdns()` order, which is the DER order (most significant RDN first).
fn common_name(cert: &Certificate) -> Option<String> {
    cert.tbs_certificate
        .subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == OID_CN)
        .and_then(|atv| directory_string(atv.value.tag(), atv.value.value()))
}

fn directory_string(tag: Tag, value: &[u8]) -> Option<String> {
    match tag {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::VisibleString => {
            std::str::from_utf8(value).ok().map(str::to_owned)
        }
        // T.61 strings: read as ISO-8859-1 like the JDK does for the common case.
        Tag::TeletexString => Some(value.iter().map(|&b| char::from(b)).collect()),
        Tag::BmpString => {
            if !value.len().is_multiple_of(2) {
                return None;
            }
            let units: Vec<u16> = value
                .chunks_exact(2)
                .map(|c| match c {
                    [hi, lo] => u16::from_be_bytes([*hi, *lo]),
                    _ => 0,
                })
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}
