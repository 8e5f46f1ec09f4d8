//! Subscriber side: [`Verifier`] with jEAP's options and outcome table.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::SystemTime;

use rustls_pki_types::{CertificateDer, UnixTime};
use webpki::{EndEntityCert, KeyPurposeIdIter, anchor_from_trusted_cert};

use crate::cert::ParsedCert;
use crate::signer::hex;
use crate::{CERTIFICATE_HEADER, Error, KEY_SIGNATURE_HEADER, VALUE_SIGNATURE_HEADER, metrics};

/// jEAP's subscriber options (`jeap.messaging.authentication.subscriber.*`).
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// The consuming service (label `application` of the metrics).
    pub application: String,
    /// `require-signature` (strict mode): unsigned records are rejected unless their message type
    /// is whitelisted. Default false.
    pub require_signature: bool,
    /// `accept-unsigned-messagetype-whitelist`: message types accepted unsigned in strict mode.
    pub accept_unsigned_message_types: HashSet<String>,
    /// `allowed-publishers`: message type -> services allowed to publish it (types not listed:
    /// every publisher is allowed).
    pub allowed_publishers: HashMap<String, Vec<String>>,
    /// `certificate-chains`: service -> chain name -> PEM certificates, leaf first, root last.
    pub certificate_chains: HashMap<String, BTreeMap<String, Vec<String>>>,
    /// `privileged-producer-common-names`: certificate CNs that may publish on behalf of any
    /// service (default `{"mirrormaker"}`).
    pub privileged_producer_common_names: HashSet<String>,
    /// `allowNonJeapMessages` (jEAP 9.2.0): records that are not jEAP messages pass unchecked
    /// instead of being rejected. Default false.
    pub allow_non_jeap_messages: bool,
    /// Not a jEAP option. jEAP 13.2.1 ("Signature is not verified if requireSignature is set to
    /// false") skips verification entirely when `require_signature` is false; that is the default
    /// (false). Set true for the behaviour of jEAP 9.1.1 to 13.2.0: signed records are verified
    /// even without strict mode (an unknown certificate is then accepted, as 9.1.1 does).
    pub verify_when_not_required: bool,
}

impl Default for VerifierConfig {
    fn default() -> Self {
        Self {
            application: String::new(),
            require_signature: false,
            accept_unsigned_message_types: HashSet::new(),
            allowed_publishers: HashMap::new(),
            certificate_chains: HashMap::new(),
            privileged_producer_common_names: HashSet::from(["mirrormaker".to_owned()]),
            allow_non_jeap_messages: false,
            verify_when_not_required: false,
        }
    }
}

/// The jEAP message a record value decoded to (`type.name`, `publisher.service`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageInfo<'a> {
    /// `type.name`, e.g. `CreateAuditRecordCommand`.
    pub type_name: &'a str,
    /// `publisher.service`, the declared publisher.
    pub service: &'a str,
}

/// The signature headers of a received record (jEAP reads the last header of each name).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceivedHeaders<'a> {
    /// `jeap-sign`.
    pub value_signature: Option<&'a [u8]>,
    /// `jeap-sign-key`.
    pub key_signature: Option<&'a [u8]>,
    /// `jeap-cert`.
    pub certificate_serial: Option<&'a [u8]>,
}

impl<'a> ReceivedHeaders<'a> {
    /// Picks the last `jeap-sign`, `jeap-sign-key` and `jeap-cert` from record headers
    /// (name, value); headers without a value are ignored.
    pub fn from_headers<I>(headers: I) -> Self
    where
        I: IntoIterator<Item = (&'a str, Option<&'a [u8]>)>,
    {
        let mut out = Self::default();
        for (name, value) in headers {
            let Some(value) = value else { continue };
            match name {
                VALUE_SIGNATURE_HEADER => out.value_signature = Some(value),
                KEY_SIGNATURE_HEADER => out.key_signature = Some(value),
                CERTIFICATE_HEADER => out.certificate_serial = Some(value),
                _ => {}
            }
        }
        out
    }
}

/// A record that passed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Accepted {
    /// The signature was checked against a known, unexpired certificate with a valid chain.
    Verified {
        /// The certificate's CN.
        common_name: String,
    },
    /// No signature headers, and none required for this message type.
    Unsigned,
    /// Signed with a certificate this subscriber does not know, accepted because no signature is
    /// required for this message type (jEAP 9.1.1).
    UnknownCertificate,
    /// Not checked: `require_signature` is false (jEAP 13.2.1 default behaviour).
    NotChecked,
    /// Not a jEAP message, passed because `allow_non_jeap_messages` is set.
    NonJeapMessage,
}

/// jEAP's temporality of a failure (`MessageHandlerExceptionInformation.Temporality`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Temporality {
    /// Retrying may help (e.g. the certificate is not configured yet).
    Temporary,
    /// Retrying cannot help.
    Permanent,
}

impl Temporality {
    /// `TEMPORARY` / `PERMANENT`, the symbols of jEAP's error event.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Temporary => "TEMPORARY",
            Self::Permanent => "PERMANENT",
        }
    }
}

/// `MESSAGE_SIGNATURE_VALIDATION_ERROR` (jEAP `MessageSignatureValidationException`).
pub const SIGNATURE_ERROR_CODE: &str = "MESSAGE_SIGNATURE_VALIDATION_ERROR";
/// `MESSAGE_CERTIFICATE_VALIDATION_ERROR` (jEAP `CertificateValidationException`).
pub const CERTIFICATE_ERROR_CODE: &str = "MESSAGE_CERTIFICATE_VALIDATION_ERROR";

/// A record that failed verification: jEAP's outcome table. [`Rejection::temporality`] and
/// [`Rejection::error_code`] are jEAP's for the same case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// Strict mode, type not whitelisted, `jeap-sign` or `jeap-cert` missing. Permanent.
    #[error(
        "Received message {message_type} from {service} without signature certificate but strict mode is enabled. Rejecting message."
    )]
    StrictModeSignatureMissing {
        /// Message type.
        message_type: String,
        /// Declared publisher.
        service: String,
    },
    /// `jeap-cert` present but the signature header missing. Permanent.
    #[error(
        "Received message {message_type} from {service} with signature certificate header but without signature header. Rejecting message."
    )]
    SignatureHeaderMissing {
        /// Message type (`unknown` for a key).
        message_type: String,
        /// Declared publisher (`unknown` for a key).
        service: String,
    },
    /// A signature header present but `jeap-cert` missing. Permanent.
    #[error(
        "Received message {message_type} from {service} with signature but without signature certificate. Rejecting message."
    )]
    CertificateHeaderMissing {
        /// Message type (`unknown` for a key).
        message_type: String,
        /// Declared publisher (`unknown` for a key).
        service: String,
    },
    /// No configured chain has a leaf with this serial number. Temporary.
    #[error("Could not find certificate with serial number {}", hex(.serial))]
    CertificateNotFound {
        /// The `jeap-cert` bytes.
        serial: Vec<u8>,
    },
    /// `allowed-publishers` lists the type and not this service (and the CN is not privileged).
    /// Temporary.
    #[error(
        "Received message {message_type} from {service} which is not an allowed publisher. Rejecting message."
    )]
    PublisherNotAllowed {
        /// Message type.
        message_type: String,
        /// Declared publisher.
        service: String,
    },
    /// The certificate's CN is not the declared publisher (and not privileged). Permanent.
    #[error("Certificate common name {common_name} is different to service name {service}")]
    CommonNameMismatch {
        /// The certificate's CN.
        common_name: String,
        /// Declared publisher.
        service: String,
    },
    /// The certificate's notAfter has passed. Permanent.
    #[error("Certificate {} (CN={common_name}) has expired", hex(.serial))]
    CertificateExpired {
        /// Serial.
        serial: Vec<u8>,
        /// CN.
        common_name: String,
    },
    /// The configured chain did not validate (PKIX, root = last certificate). Temporary.
    #[error("Certificate {} (CN={common_name}) has an invalid certificate chain", hex(.serial))]
    InvalidChain {
        /// Serial.
        serial: Vec<u8>,
        /// CN.
        common_name: String,
    },
    /// `jeap-sign` does not verify over the value bytes. Permanent.
    #[error("Message {message_type} value signature is invalid, publisher: {service}.")]
    InvalidValueSignature {
        /// Message type.
        message_type: String,
        /// Declared publisher.
        service: String,
    },
    /// `jeap-sign-key` does not verify over the key bytes. Permanent.
    #[error("Key signature is invalid")]
    InvalidKeySignature,
    /// The value is not a jEAP message and `allow_non_jeap_messages` is off. Temporary.
    #[error("record value is not a jEAP message, which is not allowed")]
    NotAJeapMessage,
}

impl Rejection {
    /// jEAP's temporality for this case.
    pub fn temporality(&self) -> Temporality {
        match self {
            Self::CertificateNotFound { .. }
            | Self::InvalidChain { .. }
            | Self::PublisherNotAllowed { .. }
            | Self::NotAJeapMessage => Temporality::Temporary,
            Self::StrictModeSignatureMissing { .. }
            | Self::SignatureHeaderMissing { .. }
            | Self::CertificateHeaderMissing { .. }
            | Self::CommonNameMismatch { .. }
            | Self::CertificateExpired { .. }
            | Self::InvalidValueSignature { .. }
            | Self::InvalidKeySignature => Temporality::Permanent,
        }
    }

    /// jEAP's error code: certificate cases `MESSAGE_CERTIFICATE_VALIDATION_ERROR`, the others
    /// `MESSAGE_SIGNATURE_VALIDATION_ERROR`.
    pub fn error_code(&self) -> &'static str {
        match self {
            Self::CertificateNotFound { .. }
            | Self::CommonNameMismatch { .. }
            | Self::CertificateExpired { .. }
            | Self::InvalidChain { .. } => CERTIFICATE_ERROR_CODE,
            _ => SIGNATURE_ERROR_CODE,
        }
    }

    /// A stable snake-case name (the `outcome` metric label).
    pub fn name(&self) -> &'static str {
        match self {
            Self::StrictModeSignatureMissing { .. } => "strict_mode_signature_missing",
            Self::SignatureHeaderMissing { .. } => "signature_header_missing",
            Self::CertificateHeaderMissing { .. } => "certificate_header_missing",
            Self::CertificateNotFound { .. } => "certificate_not_found",
            Self::PublisherNotAllowed { .. } => "publisher_not_allowed",
            Self::CommonNameMismatch { .. } => "common_name_mismatch",
            Self::CertificateExpired { .. } => "certificate_expired",
            Self::InvalidChain { .. } => "invalid_chain",
            Self::InvalidValueSignature { .. } => "invalid_value_signature",
            Self::InvalidKeySignature => "invalid_key_signature",
            Self::NotAJeapMessage => "not_a_jeap_message",
        }
    }
}

#[derive(Debug)]
struct KnownCert {
    cert: ParsedCert,
    common_name: String,
    chain_valid: bool,
}

/// Verifies received records like jEAP's `DefaultSignatureAuthenticityService`.
#[derive(Debug)]
pub struct Verifier {
    config: VerifierConfig,
    certs: Vec<KnownCert>,
}

impl Verifier {
    /// Parses the configured chains and validates each once now (PKIX, root = last, no
    /// revocation), as jEAP's `SubscriberCertificatesContainer` does at start. A chain that does
    /// not validate is kept and marked invalid (records signed with its leaf are rejected with
    /// [`Rejection::InvalidChain`]); a certificate that cannot be parsed is an error.
    pub fn new(config: VerifierConfig) -> Result<Self, Error> {
        Self::new_at(config, SystemTime::now())
    }

    fn new_at(config: VerifierConfig, now: SystemTime) -> Result<Self, Error> {
        let mut certs = Vec::new();
        let mut services: Vec<_> = config.certificate_chains.iter().collect();
        services.sort_by(|a, b| a.0.cmp(b.0));
        for (service, chains) in services {
            for (chain_name, pems) in chains {
                let parsed = pems
                    .iter()
                    .enumerate()
                    .map(|(i, pem)| {
                        ParsedCert::parse(
                            pem.as_bytes(),
                            &format!("chain {service}/{chain_name} #{i}"),
                        )
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let Some(leaf) = parsed.first() else {
                    return Err(Error::EmptyChain {
                        service: service.clone(),
                        chain: chain_name.clone(),
                    });
                };
                let chain_valid = match validate_chain(&parsed, now) {
                    Ok(()) => true,
                    Err(e) => {
                        tracing::warn!(service, chain = chain_name, error = %e, "certificate chain validation failed");
                        false
                    }
                };
                certs.push(KnownCert {
                    common_name: leaf.common_name.clone().unwrap_or_default(),
                    cert: leaf.clone(),
                    chain_valid,
                });
            }
        }
        metrics::signature_required(&config.application, config.require_signature);
        Ok(Self { config, certs })
    }

    /// Checks a record value. `message` is the decoded jEAP message (`None` when the value is not
    /// a jEAP message); `value` the exact value bytes as received (Confluent-framed).
    pub fn verify_value(
        &self,
        message: Option<MessageInfo<'_>>,
        headers: &ReceivedHeaders<'_>,
        value: &[u8],
    ) -> Result<Accepted, Rejection> {
        let Some(message) = message else {
            return if self.config.allow_non_jeap_messages {
                Ok(Accepted::NonJeapMessage)
            } else {
                Err(Rejection::NotAJeapMessage)
            };
        };
        if !self.config.require_signature && !self.config.verify_when_not_required {
            return Ok(Accepted::NotChecked);
        }
        let outcome = self.check_value(message, headers, value, SystemTime::now());
        let label = match &outcome {
            Ok(_) => "ok",
            Err(r) => r.name(),
        };
        metrics::validation(
            &self.config.application,
            message.type_name,
            outcome.is_ok(),
            label,
        );
        outcome
    }

    /// Checks a record key (jEAP `checkAuthenticityKey`: no publisher or CN check).
    pub fn verify_key(
        &self,
        headers: &ReceivedHeaders<'_>,
        key: &[u8],
    ) -> Result<Accepted, Rejection> {
        if !self.config.require_signature && !self.config.verify_when_not_required {
            return Ok(Accepted::NotChecked);
        }
        let required = false; // jEAP: "We can't determine this here"
        validate_headers(
            required,
            headers.key_signature,
            headers.certificate_serial,
            "unknown",
            "unknown",
        )?;
        let (Some(signature), Some(serial)) = (headers.key_signature, headers.certificate_serial)
        else {
            return Ok(Accepted::Unsigned);
        };
        let Some(known) = self.find(serial) else {
            return if self.config.require_signature {
                Err(Rejection::CertificateNotFound {
                    serial: serial.to_vec(),
                })
            } else {
                Ok(Accepted::UnknownCertificate)
            };
        };
        validate_certificate(known, SystemTime::now())?;
        if known.cert.verify(key, signature) {
            Ok(Accepted::Verified {
                common_name: known.common_name.clone(),
            })
        } else {
            Err(Rejection::InvalidKeySignature)
        }
    }

    fn check_value(
        &self,
        message: MessageInfo<'_>,
        headers: &ReceivedHeaders<'_>,
        value: &[u8],
        now: SystemTime,
    ) -> Result<Accepted, Rejection> {
        let MessageInfo { type_name, service } = message;
        let required = self.config.require_signature
            && !self
                .config
                .accept_unsigned_message_types
                .contains(type_name);
        validate_headers(
            required,
            headers.value_signature,
            headers.certificate_serial,
            type_name,
            service,
        )?;
        let (Some(signature), Some(serial)) = (headers.value_signature, headers.certificate_serial)
        else {
            return Ok(Accepted::Unsigned);
        };
        let Some(known) = self.find(serial) else {
            return if required {
                Err(Rejection::CertificateNotFound {
                    serial: serial.to_vec(),
                })
            } else {
                Ok(Accepted::UnknownCertificate)
            };
        };
        let privileged = self
            .config
            .privileged_producer_common_names
            .contains(&known.common_name);
        let publisher_allowed = self
            .config
            .allowed_publishers
            .get(type_name)
            .is_none_or(|allowed| allowed.iter().any(|p| p == service));
        if !publisher_allowed && !privileged {
            return Err(Rejection::PublisherNotAllowed {
                message_type: type_name.to_owned(),
                service: service.to_owned(),
            });
        }
        if known.common_name != service && !privileged {
            return Err(Rejection::CommonNameMismatch {
                common_name: known.common_name.clone(),
                service: service.to_owned(),
            });
        }
        validate_certificate(known, now)?;
        if known.cert.verify(value, signature) {
            Ok(Accepted::Verified {
                common_name: known.common_name.clone(),
            })
        } else {
            Err(Rejection::InvalidValueSignature {
                message_type: type_name.to_owned(),
                service: service.to_owned(),
            })
        }
    }

    /// jEAP `SubscriberCertificatesContainer.getCertificateWithSerialNumber`: the first chain whose
    /// leaf has exactly these serial bytes.
    fn find(&self, serial: &[u8]) -> Option<&KnownCert> {
        self.certs.iter().find(|k| k.cert.serial == serial)
    }
}

/// jEAP `validateHeaders`.
fn validate_headers(
    required: bool,
    signature: Option<&[u8]>,
    certificate: Option<&[u8]>,
    message_type: &str,
    service: &str,
) -> Result<(), Rejection> {
    let owned = || (message_type.to_owned(), service.to_owned());
    match (required, signature.is_some(), certificate.is_some()) {
        (true, true, true) | (false, true, true) | (false, false, false) => Ok(()),
        (true, _, _) => {
            let (message_type, service) = owned();
            Err(Rejection::StrictModeSignatureMissing {
                message_type,
                service,
            })
        }
        (false, false, true) => {
            let (message_type, service) = owned();
            Err(Rejection::SignatureHeaderMissing {
                message_type,
                service,
            })
        }
        (false, true, false) => {
            let (message_type, service) = owned();
            Err(Rejection::CertificateHeaderMissing {
                message_type,
                service,
            })
        }
    }
}

/// jEAP `SignatureCertificateValidator`: expiry first, then the chain.
fn validate_certificate(known: &KnownCert, now: SystemTime) -> Result<(), Rejection> {
    if known.cert.is_expired_at(now) {
        return Err(Rejection::CertificateExpired {
            serial: known.cert.serial.clone(),
            common_name: known.common_name.clone(),
        });
    }
    if !known.chain_valid {
        return Err(Rejection::InvalidChain {
            serial: known.cert.serial.clone(),
            common_name: known.common_name.clone(),
        });
    }
    Ok(())
}

/// Java PKIX does not restrict extended key usage unless asked to.
struct AnyExtendedKeyUsage;
impl webpki::ExtendedKeyUsageValidator for AnyExtendedKeyUsage {
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        for id in iter {
            id?;
        }
        Ok(())
    }
}

/// PKIX validation of `leaf, intermediates..., root` with the last certificate as the only trust
/// anchor, at `now`, without revocation (jEAP `CertificateHelper.validateCertificateChain`).
fn validate_chain(chain: &[ParsedCert], now: SystemTime) -> Result<(), webpki::Error> {
    let (Some(leaf), Some(root)) = (chain.first(), chain.last()) else {
        return Err(webpki::Error::BadDer);
    };
    if let [only] = chain {
        // The leaf is its own trust anchor. Java's PKIX then checks the leaf's signature with
        // the anchor's key and its validity period, nothing else (a CA flag on it is fine).
        return if !only.self_signed {
            Err(webpki::Error::UnknownIssuer)
        } else if now < only.not_before {
            Err(webpki::Error::CertNotValidYet {
                time: unix(now),
                not_before: unix(only.not_before),
            })
        } else if now > only.not_after {
            Err(webpki::Error::CertExpired {
                time: unix(now),
                not_after: unix(only.not_after),
            })
        } else {
            Ok(())
        };
    }
    let root_der = CertificateDer::from(root.der.as_slice());
    let anchor = anchor_from_trusted_cert(&root_der)?;
    let intermediates: Vec<CertificateDer<'_>> = chain
        .get(1..chain.len().saturating_sub(1))
        .unwrap_or_default()
        .iter()
        .map(|c| CertificateDer::from(c.der.as_slice()))
        .collect();
    let leaf_der = CertificateDer::from(leaf.der.as_slice());
    let ee = EndEntityCert::try_from(&leaf_der)?;
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &[anchor],
        &intermediates,
        unix(now),
        AnyExtendedKeyUsage,
        None,
        None,
    )
    .map(|_| ())
}

fn unix(t: SystemTime) -> UnixTime {
    UnixTime::since_unix_epoch(t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default())
}
