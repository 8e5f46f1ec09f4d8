//! Signing cost per record (RSA 2048 / 3072, SHA256withRSA through AWS-LC) and verification cost.
//! `cargo bench -p audit-signing --bench signing`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use audit_signing::{MessageInfo, ReceivedHeaders, Signer, Verifier, VerifierConfig};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn key_and_cert(dir: &std::path::Path, bits: u32) -> (Vec<u8>, Vec<u8>) {
    let key = dir.join(format!("k{bits}.pem"));
    let cert = dir.join(format!("c{bits}.pem"));
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            &format!("rsa:{bits}"),
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=svc",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl CLI")
        .status
        .success();
    assert!(ok);
    (std::fs::read(key).unwrap(), std::fs::read(cert).unwrap())
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    // a typical CreateAuditRecordCommand, Confluent-framed: ~600 bytes
    let value: Vec<u8> = (0u8..=255).cycle().take(600).collect();
    let mut g = c.benchmark_group("sign");
    g.throughput(Throughput::Elements(1));
    for bits in [2048, 3072] {
        let (key, cert) = key_and_cert(dir.path(), bits);
        let signer = Signer::from_pem(&key, &cert, "svc").unwrap();
        g.bench_with_input(BenchmarkId::new("value", bits), &value, |b, v| {
            b.iter(|| signer.sign_record(None, v).unwrap());
        });
        g.bench_with_input(BenchmarkId::new("key_and_value", bits), &value, |b, v| {
            b.iter(|| {
                signer
                    .sign_record(Some(b"0f9c2e4a-5a51-4b7e-a0e4-6b2f0c3d1e77"), v)
                    .unwrap()
            });
        });
        let mut config = VerifierConfig {
            require_signature: true,
            ..VerifierConfig::default()
        };
        config.certificate_chains.insert(
            "svc".into(),
            [(
                "main".to_owned(),
                vec![String::from_utf8(cert.clone()).unwrap()],
            )]
            .into(),
        );
        let verifier = Verifier::new(config).unwrap();
        let signed = signer.sign_record(None, &value).unwrap();
        let headers = ReceivedHeaders::from_headers(signed.headers().map(|(n, v)| (n, Some(v))));
        let message = MessageInfo {
            type_name: "CreateAuditRecordCommand",
            service: "svc",
        };
        g.bench_with_input(BenchmarkId::new("verify_value", bits), &value, |b, v| {
            b.iter(|| verifier.verify_value(Some(message), &headers, v).unwrap());
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
