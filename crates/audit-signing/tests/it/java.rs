//! Interop with Java 17 (`java.security.Signature`, JDK classes only), both directions, and the
//! `jeap-cert` bytes against `X509Certificate.getSerialNumber().toByteArray()`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use audit_signing::{Accepted, ReceivedHeaders, Rejection, Verifier};

use crate::support::{KeyCert, Pki, message, strict_config, value};

/// What jEAP does, with JDK classes only: `SHA256withRSA`, PKCS#8 key from PEM,
/// `CertificateFactory("X.509")`, the serial as `BigInteger.toByteArray()`, the CN as jEAP's
/// `CertificateHelper.getCommonName` reads it.
const JAVA: &str = r#"
import java.nio.file.*;
import java.security.*;
import java.security.cert.*;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.*;
import javax.naming.ldap.*;

public class JeapSig {
    static X509Certificate cert(String path) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
            .generateCertificate(Files.newInputStream(Paths.get(path)));
    }
    static PrivateKey key(String path) throws Exception {
        String pem = new String(Files.readAllBytes(Paths.get(path)))
            .replaceAll("-----BEGIN PRIVATE KEY-----", "").replaceAll("-----END PRIVATE KEY-----", "")
            .replaceAll("\\s+", "");
        return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(pem)));
    }
    public static void main(String[] a) throws Exception {
        switch (a[0]) {
            case "verify": {
                Signature s = Signature.getInstance("SHA256withRSA");
                s.initVerify(cert(a[1]).getPublicKey());
                s.update(Files.readAllBytes(Paths.get(a[2])));
                System.out.print(s.verify(Files.readAllBytes(Paths.get(a[3]))));
                break;
            }
            case "sign": {
                Signature s = Signature.getInstance("SHA256withRSA");
                s.initSign(key(a[1]));
                s.update(Files.readAllBytes(Paths.get(a[2])));
                Files.write(Paths.get(a[3]), s.sign());
                break;
            }
            case "serial": {
                Files.write(Paths.get(a[2]), cert(a[1]).getSerialNumber().toByteArray());
                break;
            }
            case "cn": {
                LdapName n = new LdapName(cert(a[1]).getSubjectX500Principal().getName());
                for (Rdn r : n.getRdns()) {
                    if (r.getType().equalsIgnoreCase("CN")) { System.out.print((String) r.getValue()); break; }
                }
                break;
            }
            default: throw new IllegalArgumentException(a[0]);
        }
    }
}
"#;

/// Compiles the helper once per test binary into a temp dir.
fn java_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("JeapSig.java"), JAVA).unwrap();
        let out = Command::new("javac")
            .arg("JeapSig.java")
            .current_dir(dir.path())
            .output()
            .expect("javac (JDK 17) is needed by the interop tests");
        assert!(
            out.status.success(),
            "javac: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
    .path()
}

fn java(args: &[&str]) -> String {
    let out = Command::new("java")
        .arg("-cp")
        .arg(java_dir())
        .arg("JeapSig")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "java {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn write(pki: &Pki, name: &str, bytes: &[u8]) -> PathBuf {
    let p = pki.dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn both_directions(bits: u32, serial: &str) {
    let pki = Pki::new();
    let ca = pki.ca("Test Root CA");
    let leaf: KeyCert = pki.leaf("svc", &ca, serial, 30, bits);
    let signer = leaf.signer("svc");
    let row = value();
    let data = write(&pki, "value.bin", &row);

    // ours -> Java
    let ours = signer.sign_record(Some(b"the-key"), &row).unwrap();
    let sig = write(&pki, "ours.sig", &ours.value_signature);
    assert_eq!(
        java(&["verify", s(&leaf.cert_path), s(&data), s(&sig)]),
        "true"
    );
    let key_data = write(&pki, "key.bin", b"the-key");
    let key_sig = write(&pki, "ours-key.sig", ours.key_signature.as_deref().unwrap());
    assert_eq!(
        java(&["verify", s(&leaf.cert_path), s(&key_data), s(&key_sig)]),
        "true"
    );
    // Java sees a tampered signature as invalid (the check can fail)
    let mut bad = ours.value_signature.clone();
    bad[0] ^= 1;
    let bad_sig = write(&pki, "bad.sig", &bad);
    assert_eq!(
        java(&["verify", s(&leaf.cert_path), s(&data), s(&bad_sig)]),
        "false"
    );

    // Java -> ours
    let java_sig_path = pki.dir.path().join("java.sig");
    java(&["sign", s(&leaf.key_path), s(&data), s(&java_sig_path)]);
    let java_sig = std::fs::read(&java_sig_path).unwrap();
    // PKCS#1 v1.5 is deterministic: the very same bytes
    assert_eq!(java_sig, ours.value_signature);
    let verifier = Verifier::new(strict_config(&[("svc", vec![&leaf, &ca])])).unwrap();
    let h = ReceivedHeaders {
        value_signature: Some(&java_sig),
        certificate_serial: Some(signer.certificate_serial()),
        key_signature: None,
    };
    assert_eq!(
        verifier.verify_value(Some(message("svc")), &h, &row),
        Ok(Accepted::Verified {
            common_name: "svc".into()
        })
    );
    let mut flipped = row.clone();
    flipped[5] ^= 1;
    assert!(matches!(
        verifier.verify_value(Some(message("svc")), &h, &flipped),
        Err(Rejection::InvalidValueSignature { .. })
    ));

    // jeap-cert bytes and CN as Java computes them
    let serial_path = pki.dir.path().join("serial.bin");
    java(&["serial", s(&leaf.cert_path), s(&serial_path)]);
    assert_eq!(
        std::fs::read(&serial_path).unwrap(),
        signer.certificate_serial()
    );
    assert_eq!(ours.certificate_serial, signer.certificate_serial());
    assert_eq!(java(&["cn", s(&leaf.cert_path)]), "svc");
}

#[test]
fn rsa_2048_interop_both_directions_and_serial_with_high_bit() {
    both_directions(2048, "0x8000000000000001");
}

#[test]
fn rsa_3072_interop_both_directions_and_small_serial() {
    both_directions(3072, "0x05");
}

#[test]
fn serial_encodings_match_big_integer_to_byte_array() {
    let pki = Pki::new();
    let ca = pki.ca("Test Root CA");
    for (serial, expected) in [
        ("0x7f", vec![0x7f]),
        ("0x80", vec![0x00, 0x80]),
        ("0x0100", vec![0x01, 0x00]),
        ("0xff00ff00ff00ff00ff00ff00ff00ff00", {
            let mut v = vec![0x00];
            v.extend([0xff, 0x00].repeat(8));
            v
        }),
    ] {
        let leaf = pki.leaf("svc", &ca, serial, 30, 2048);
        let signer = leaf.signer("svc");
        assert_eq!(signer.certificate_serial(), expected.as_slice(), "{serial}");
        let out = pki.dir.path().join("serial.bin");
        java(&["serial", s(&leaf.cert_path), s(&out)]);
        assert_eq!(std::fs::read(&out).unwrap(), expected, "{serial}");
    }
}
