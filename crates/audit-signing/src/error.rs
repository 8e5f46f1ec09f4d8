//! The crate's one error type: configuration and start-up failures (a verification outcome is a
//! [`crate::Rejection`], not an error).

/// What went wrong while building a [`crate::Signer`] or a [`crate::Verifier`], or while signing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The private key is neither a PEM `PRIVATE KEY` (PKCS#8) block nor PKCS#8 DER (jEAP's
    /// `PrivateKeyFactory` accepts exactly these two forms).
    #[error(
        "private key: not a PKCS#8 RSA key (PEM `-----BEGIN PRIVATE KEY-----` or DER): {reason}"
    )]
    PrivateKey {
        /// Why it was rejected.
        reason: String,
    },
    /// A certificate could not be parsed (PEM `CERTIFICATE` or DER X.509).
    #[error("certificate {what}: cannot parse: {source}")]
    Certificate {
        /// Which certificate (e.g. "publisher", "chain svc/main #1").
        what: String,
        /// The parser's error.
        #[source]
        source: x509_cert::der::Error,
    },
    /// The certificate's public key is not an RSA key.
    #[error(
        "certificate {what}: public key algorithm {algorithm} is not RSA (jEAP signs with SHA256withRSA)"
    )]
    NotRsa {
        /// Which certificate.
        what: String,
        /// The public key algorithm OID found.
        algorithm: String,
    },
    /// The private key does not belong to the certificate (jEAP `SignaturePublisherCheck`).
    #[error(
        "the private key provided for signing does not match the public key in the certificate for {subject}"
    )]
    KeyCertificateMismatch {
        /// The certificate's subject (CN).
        subject: String,
    },
    /// The certificate's CN is not the declared publisher service (jEAP `SignatureCertificateHandling`).
    #[error(
        "application name {service:?} does not match CN {common_name:?} of the signing certificate"
    )]
    CommonNameNotService {
        /// The declared service name.
        service: String,
        /// The certificate's CN (`None` when the subject has no CN).
        common_name: Option<String>,
    },
    /// A certificate chain in the verifier configuration is empty.
    #[error("certificate chain {service}/{chain} is empty (leaf first, root last)")]
    EmptyChain {
        /// The service the chain is configured for.
        service: String,
        /// The chain's name.
        chain: String,
    },
    /// Signing failed inside the crypto library.
    #[error("creating the signature failed (AWS-LC)")]
    Sign,
}
