//! Publisher side: [`Signer`] (one key + certificate) and [`SignerHandle`] (the signer in force,
//! swappable at runtime for certificate rotation).

use std::sync::{Arc, PoisonError, RwLock};
use std::time::SystemTime;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use x509_cert::der::pem::PemLabel;

use crate::cert::ParsedCert;
use crate::{CERTIFICATE_HEADER, Error, KEY_SIGNATURE_HEADER, VALUE_SIGNATURE_HEADER, metrics};

/// jEAP `SignaturePublisherCheck.BYTES_TO_SIGN`: signed with the key and verified with the
/// certificate at start to prove that both belong together.
const CONSISTENCY_PROBE: [u8; 9] = [1, 2, 3, 4, 5, 6, 7, 8, 9];

/// Signs record keys and values like a jEAP publisher (SHA256withRSA = RSASSA-PKCS1-v1_5 with
/// SHA-256; deterministic, so the same key over the same bytes gives the same signature as Java).
pub struct Signer {
    key: RsaKeyPair,
    rng: SystemRandom,
    cert: ParsedCert,
    service: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("service", &self.service)
            .field("certificate_serial", &hex(&self.cert.serial))
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Builds a signer from a PEM (or DER) PKCS#8 RSA private key, the PEM (or DER) certificate and
    /// the declared publisher service name (jEAP: `spring.application.name`).
    ///
    /// Fails when the key is not PKCS#8 RSA, the certificate cannot be parsed or holds no RSA key,
    /// the key does not match the certificate ([`Error::KeyCertificateMismatch`]) or the
    /// certificate's CN is not `service` ([`Error::CommonNameNotService`]). An expired or not yet
    /// valid certificate is only logged, as jEAP does.
    pub fn from_pem(private_key: &[u8], certificate: &[u8], service: &str) -> Result<Self, Error> {
        let key = parse_private_key(private_key)?;
        let cert = ParsedCert::parse(certificate, "publisher")?;
        let signer = Self {
            key,
            rng: SystemRandom::new(),
            cert,
            service: service.to_owned(),
        };
        let probe = signer.sign(&CONSISTENCY_PROBE)?;
        if !signer.cert.verify(&CONSISTENCY_PROBE, &probe) {
            return Err(Error::KeyCertificateMismatch {
                subject: signer.cert.common_name.clone().unwrap_or_default(),
            });
        }
        if signer.cert.common_name.as_deref() != Some(service) {
            return Err(Error::CommonNameNotService {
                service: service.to_owned(),
                common_name: signer.cert.common_name.clone(),
            });
        }
        if signer.cert.is_expired_at(SystemTime::now()) {
            tracing::warn!(service, "signing certificate is expired, please renew");
        }
        Ok(signer)
    }

    /// The `jeap-sign` header value: the signature of the serialized value bytes.
    pub fn sign_value(&self, value: &[u8]) -> Result<Vec<u8>, Error> {
        self.sign(value)
    }

    /// The `jeap-sign-key` header value: the signature of the serialized key bytes.
    pub fn sign_key(&self, key: &[u8]) -> Result<Vec<u8>, Error> {
        self.sign(key)
    }

    /// The `jeap-cert` header value: `X509Certificate.getSerialNumber().toByteArray()`, i.e. the
    /// minimal big-endian two's complement bytes (leading `0x00` when the high bit is set).
    pub fn certificate_serial(&self) -> &[u8] {
        &self.cert.serial
    }

    /// The declared publisher service (the certificate's CN).
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Whole days until the certificate's notAfter (negative once expired), as jEAP's gauge.
    pub fn validity_remaining_days(&self) -> i64 {
        self.cert.remaining_days_at(SystemTime::now())
    }

    /// Signs one record as jEAP's serializers do: `jeap-sign-key` when there is a key, then
    /// `jeap-sign` and `jeap-cert` for the value.
    pub fn sign_record(&self, key: Option<&[u8]>, value: &[u8]) -> Result<RecordSignature, Error> {
        Ok(RecordSignature {
            key_signature: key.map(|k| self.sign_key(k)).transpose()?,
            value_signature: self.sign_value(value)?,
            certificate_serial: self.cert.serial.clone(),
        })
    }

    fn sign(&self, bytes: &[u8]) -> Result<Vec<u8>, Error> {
        let mut out = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &self.rng, bytes, &mut out)
            .map_err(|_| Error::Sign)?;
        Ok(out)
    }
}

/// The signature headers of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSignature {
    /// `jeap-sign-key`, present when the record has a key.
    pub key_signature: Option<Vec<u8>>,
    /// `jeap-sign`.
    pub value_signature: Vec<u8>,
    /// `jeap-cert`.
    pub certificate_serial: Vec<u8>,
}

impl RecordSignature {
    /// The headers in the order jEAP adds them (key serializer first, then the value).
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, &[u8])> {
        self.key_signature
            .as_deref()
            .map(|k| (KEY_SIGNATURE_HEADER, k))
            .into_iter()
            .chain([
                (VALUE_SIGNATURE_HEADER, self.value_signature.as_slice()),
                (CERTIFICATE_HEADER, self.certificate_serial.as_slice()),
            ])
    }
}

/// The signer in force, swappable at runtime: a relay takes [`SignerHandle::current`] when it
/// sends, so rows enqueued before a rotation are signed with the key in force at send time.
#[derive(Debug, Clone)]
pub struct SignerHandle {
    inner: Arc<RwLock<Arc<Signer>>>,
}

impl SignerHandle {
    /// Wraps the first signer and sets the certificate gauge.
    pub fn new(signer: Signer) -> Self {
        metrics::certificate_days_remaining(&signer);
        Self {
            inner: Arc::new(RwLock::new(Arc::new(signer))),
        }
    }

    /// The signer in force now (cheap: one read lock and an `Arc` clone).
    pub fn current(&self) -> Arc<Signer> {
        Arc::clone(&self.inner.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Replaces the signer in force (certificate rotation); returns the previous one. Records
    /// already signed keep their signature; everything signed from now on uses `next`.
    pub fn rotate(&self, next: Signer) -> Arc<Signer> {
        metrics::certificate_days_remaining(&next);
        let mut slot = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        std::mem::replace(&mut *slot, Arc::new(next))
    }

    /// Refreshes the `jeap_messaging_signature_certificate_days_remaining` gauge (jEAP: hourly).
    pub fn update_metrics(&self) {
        metrics::certificate_days_remaining(&self.current());
    }
}

fn parse_private_key(bytes: &[u8]) -> Result<RsaKeyPair, Error> {
    let reject = |reason: String| Error::PrivateKey { reason };
    let text_start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let der = if bytes
        .get(text_start..)
        .is_some_and(|t| t.starts_with(b"-----BEGIN"))
    {
        let (label, der) =
            x509_cert::der::pem::decode_vec(bytes).map_err(|e| reject(e.to_string()))?;
        if label != PrivateKeyInfoLabel::PEM_LABEL {
            return Err(reject(format!(
                "PEM label {label:?}; jEAP reads only `PRIVATE KEY` (PKCS#8), convert with `openssl pkcs8 -topk8 -nocrypt`"
            )));
        }
        der
    } else {
        bytes.to_vec()
    };
    RsaKeyPair::from_pkcs8(&der).map_err(|e| reject(e.to_string()))
}

struct PrivateKeyInfoLabel;
impl PemLabel for PrivateKeyInfoLabel {
    const PEM_LABEL: &'static str = "PRIVATE KEY";
}

/// Lower-case hex separated by spaces, like jEAP's `CertificateHelper.serialNumberHexString`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}
