//! Record signing in the relay (issue 15, acceptance 4): the relay refuses to start with a signer
//! that cannot be built; with signing configured every record carries jEAP's three headers and
//! verifies in a strict jEAP-style verifier; the signer in force at send time signs (rotation).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use audit_outbox::{Error, OutboxMessage};
use audit_signing::{
    Accepted, MessageInfo, ReceivedHeaders, Signer, SignerHandle, Verifier, VerifierConfig,
};

use crate::faults::sqlite_outbox;
use crate::support::*;

const LIMIT: Duration = Duration::from_secs(120);
const SERVICE: &str = "outbox-test-service";

struct Pem {
    key: Vec<u8>,
    cert: Vec<u8>,
}

fn openssl(dir: &Path, args: &[&str]) -> Result<(), BoxError> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()?;
    if !out.status.success() {
        return Err(format!("openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(())
}

/// A self-signed RSA 2048 certificate `CN=<cn>` with the given serial.
fn self_signed(dir: &Path, cn: &str, serial: &str) -> Result<Pem, BoxError> {
    let base = format!("{cn}-{serial}");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "30",
            "-subj",
            &format!("/CN={cn}"),
            "-set_serial",
            serial,
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-keyout",
            &format!("{base}.key"),
            "-out",
            &format!("{base}.pem"),
        ],
    )?;
    Ok(Pem {
        key: std::fs::read(dir.join(format!("{base}.key")))?,
        cert: std::fs::read(dir.join(format!("{base}.pem")))?,
    })
}

fn strict_verifier(certs: &[&Pem]) -> Result<Verifier, BoxError> {
    let mut config = VerifierConfig {
        require_signature: true,
        ..VerifierConfig::default()
    };
    let chains: BTreeMap<String, Vec<String>> = certs
        .iter()
        .enumerate()
        .map(|(i, p)| Ok((format!("c{i}"), vec![String::from_utf8(p.cert.clone())?])))
        .collect::<Result<_, BoxError>>()?;
    config.certificate_chains.insert(SERVICE.into(), chains);
    Ok(Verifier::new(config)?)
}

fn header<'a>(r: &'a Rec, name: &str) -> Option<&'a [u8]> {
    r.headers
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_slice())
}

/// Every record: verifies in strict mode, `jeap-sign-key` exactly when there is a key and
/// verifying over the key; returns the `jeap-cert` serial.
fn check_signed(verifier: &Verifier, r: &Rec) -> Result<Vec<u8>, BoxError> {
    let h = ReceivedHeaders::from_headers(
        r.headers
            .iter()
            .map(|(n, v)| (n.as_str(), Some(v.as_slice()))),
    );
    let message = MessageInfo {
        type_name: "TestMessage",
        service: SERVICE,
    };
    match verifier.verify_value(Some(message), &h, &r.value) {
        Ok(Accepted::Verified { .. }) => {}
        other => return Err(format!("record {} value: {other:?}", r.value_str()).into()),
    }
    match (&r.key, h.key_signature) {
        (Some(k), Some(_)) => match verifier.verify_key(&h, k) {
            Ok(Accepted::Verified { .. }) => {}
            other => return Err(format!("record {} key: {other:?}", r.value_str()).into()),
        },
        (None, None) => {}
        (k, s) => return Err(format!("key {k:?} but key signature {s:?}").into()),
    }
    Ok(header(r, audit_signing::CERTIFICATE_HEADER)
        .ok_or("no jeap-cert")?
        .to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_refuses_to_start_when_the_signer_cannot_be_built() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (_url, _pool, outbox) = sqlite_outbox(&dir).await?;
    let a = self_signed(dir.path(), SERVICE, "0x01")?;
    let b = self_signed(dir.path(), SERVICE, "0x02")?;
    let other = self_signed(dir.path(), "someone-else", "0x03")?;
    // no broker is needed: the signer is built before anything else starts
    let config = || relay_config("127.0.0.1:1");

    let err = outbox
        .start_relay(config().signing_pem(b.key.clone(), a.cert.clone(), SERVICE))
        .err()
        .ok_or("started with a key of another certificate")?;
    assert!(
        matches!(
            &err,
            Error::Signing(audit_signing::Error::KeyCertificateMismatch { .. })
        ),
        "{err:?}"
    );
    let err = outbox
        .start_relay(config().signing_pem(other.key.clone(), other.cert.clone(), SERVICE))
        .err()
        .ok_or("started with a certificate of another service")?;
    assert!(
        matches!(
            &err,
            Error::Signing(audit_signing::Error::CommonNameNotService { .. })
        ),
        "{err:?}"
    );
    assert!(
        std::error::Error::source(&err).is_some_and(|s| s.to_string().contains("someone-else"))
    );
    // the matching pair starts
    let relay = outbox.start_relay(config().signing_pem(a.key.clone(), a.cert.clone(), SERVICE))?;
    relay.shutdown().await?;
    Ok(())
}

/// Nothing unsigned: every record (with and without key, with a stale `jeap-sign` header stored
/// by the application) verifies in strict mode; rows enqueued before a rotation and sent after it
/// carry the new certificate; a live rotation switches the serial for the rows sent after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_relayed_record_is_signed_with_the_signer_in_force_at_send_time() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (_db, pool, outbox) = pg_outbox().await?;
    let (broker, topic) = tansu_topic(1)?;
    let first = self_signed(dir.path(), SERVICE, "0x0a")?;
    let second = self_signed(dir.path(), SERVICE, "0x8b")?;
    let third = self_signed(dir.path(), SERVICE, "0x0c")?;
    let verifier = strict_verifier(&[&first, &second, &third])?;
    let handle = SignerHandle::new(Signer::from_pem(&first.key, &first.cert, SERVICE)?);

    let enqueue = |n: usize| {
        let pool = pool.clone();
        let outbox = outbox.clone();
        let topic = topic.clone();
        async move {
            let mut tx = pool.begin().await?;
            let messages: Vec<OutboxMessage> = (0..n)
                .map(|i| {
                    let key = (i % 2 == 0).then(|| format!("key-{i}"));
                    msg(&topic, key.as_deref()).with_header("jeap-sign", b"stale".to_vec())
                })
                .collect();
            outbox.enqueue_all(&mut tx, &messages).await?;
            tx.commit().await?;
            Ok::<_, BoxError>(())
        }
    };

    // enqueued while the first certificate is in force, rotated before the relay sends them
    enqueue(40).await?;
    handle.rotate(Signer::from_pem(&second.key, &second.cert, SERVICE)?);
    let relay = outbox.start_relay(relay_config(&broker.bootstrap()).signer(handle.clone()))?;
    wait_sent(&outbox, 40, LIMIT).await?;
    // live rotation
    handle.rotate(Signer::from_pem(&third.key, &third.cert, SERVICE)?);
    enqueue(40).await?;
    wait_sent(&outbox, 80, LIMIT).await?;
    relay.shutdown().await?;

    let records = consume_all(&broker.bootstrap(), &topic, 1, 80).await?;
    assert_eq!(records.len(), 80);
    let mut serials = Vec::new();
    for r in &records {
        let stale = r.headers.iter().filter(|(n, _)| n == "jeap-sign").count();
        assert_eq!(stale, 1, "exactly the relay's jeap-sign header");
        serials.push(check_signed(&verifier, r)?);
    }
    assert!(
        serials.iter().take(40).all(|s| s == &[0x00, 0x8b]),
        "rows enqueued before the rotation carry the new serial"
    );
    assert!(
        serials.iter().skip(40).all(|s| s == &[0x0c]),
        "rows sent after the live rotation carry the third serial"
    );
    Ok(())
}
