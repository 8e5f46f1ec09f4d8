//! TLS through the `rustls` or `native-tls` feature: a TLS terminator on loopback (certificate made by the
//! `openssl` CLI, trusted through `add_root_certificate_pem`) in front of the real registry.

use std::process::Command;
use std::sync::Arc;

use audit_registry::{Error, RegistryClient, RegistryConfig};
use audit_schema::SchemaVersion;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::{command, decode, encode, shared_registry, unique_topic};

/// A self-signed end-entity certificate for IP 127.0.0.1: (cert PEM, key PEM).
fn self_signed() -> (Vec<u8>, Vec<u8>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("the openssl CLI is installed");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    (
        std::fs::read(cert).expect("cert"),
        std::fs::read(key).expect("key"),
    )
}

/// Terminates TLS on a loopback port and forwards to `target_port`; returns the https URL.
async fn tls_terminator(cert_pem: &[u8], key_pem: &[u8], target_port: u16) -> String {
    let certs = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .expect("cert pem");
    let key = PrivateKeyDer::from_pem_slice(key_pem).expect("key pem");
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                if let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", target_port)).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
                }
            });
        }
    });
    format!("https://127.0.0.1:{port}")
}

#[tokio::test]
async fn https_registry_with_a_private_root_certificate() {
    let (cert, key) = self_signed();
    let url = tls_terminator(&cert, &key, shared_registry().port()).await;

    let client =
        RegistryClient::new(RegistryConfig::new(&url).add_root_certificate_pem(cert.clone()))
            .expect("client");
    let topic = unique_topic("tls");
    let bytes = encode(&client, &topic, SchemaVersion::LATEST)
        .await
        .expect("encode over https");
    // A second service (fresh caches) fetches the writer schema by id over https.
    let consumer = RegistryClient::new(RegistryConfig::new(&url).add_root_certificate_pem(cert))
        .expect("client");
    assert_eq!(
        decode(&consumer, &bytes)
            .await
            .expect("decode over https")
            .0,
        command()
    );
    assert!(
        client
            .subjects()
            .await
            .expect("subjects")
            .contains(&client.command_subject(&topic))
    );

    // Without trusting the certificate the handshake fails: a typed, transient error naming the URL.
    let untrusting = RegistryClient::new(RegistryConfig::new(&url)).expect("client");
    let err = untrusting
        .subjects()
        .await
        .expect_err("untrusted certificate");
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains(&url), "{err}");
}
