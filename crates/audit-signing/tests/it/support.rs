//! A throw-away PKI made with the `openssl` CLI in a temp dir: CAs, leaves, expired leaves.

use std::path::{Path, PathBuf};
use std::process::Command;

use audit_signing::{MessageInfo, Signer, VerifierConfig};

pub struct Pki {
    pub dir: tempfile::TempDir,
    counter: std::cell::Cell<u32>,
}

#[derive(Clone)]
pub struct KeyCert {
    pub key_pem: Vec<u8>,
    pub cert_pem: Vec<u8>,
    pub key_path: PathBuf,
    pub cert_path: PathBuf,
}

impl KeyCert {
    pub fn cert_string(&self) -> String {
        String::from_utf8(self.cert_pem.clone()).unwrap()
    }
    pub fn signer(&self, service: &str) -> Signer {
        Signer::from_pem(&self.key_pem, &self.cert_pem, service).unwrap()
    }
}

pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl CLI is needed by these tests");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Pki {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            counter: std::cell::Cell::new(0),
        }
    }

    fn next(&self, what: &str) -> String {
        let n = self.counter.get() + 1;
        self.counter.set(n);
        format!("{what}{n}")
    }

    fn load(&self, base: &str) -> KeyCert {
        let key_path = self.dir.path().join(format!("{base}.key"));
        let cert_path = self.dir.path().join(format!("{base}.pem"));
        KeyCert {
            key_pem: std::fs::read(&key_path).unwrap(),
            cert_pem: std::fs::read(&cert_path).unwrap(),
            key_path,
            cert_path,
        }
    }

    /// A self-signed root CA with subject `CN=<cn>`.
    pub fn ca(&self, cn: &str) -> KeyCert {
        let base = self.next("ca");
        openssl(
            self.dir.path(),
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{base}.key"),
                "-out",
                &format!("{base}.pem"),
                "-days",
                "30",
                "-subj",
                &format!("/CN={cn}"),
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        self.load(&base)
    }

    /// A leaf `O=jeap-test, CN=<cn>` signed by `ca`, valid for `days` (negative: already expired).
    pub fn leaf(&self, cn: &str, ca: &KeyCert, serial: &str, days: i32, bits: u32) -> KeyCert {
        let base = self.next("leaf");
        let dir = self.dir.path();
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                &format!("rsa:{bits}"),
                "-nodes",
                "-keyout",
                &format!("{base}.key"),
                "-out",
                &format!("{base}.csr"),
                "-subj",
                &format!("/O=jeap-test/CN={cn}"),
            ],
        );
        let ext = dir.join(format!("{base}.ext"));
        std::fs::write(
            &ext,
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n",
        )
        .unwrap();
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{base}.csr"),
                "-CA",
                ca.cert_path.to_str().unwrap(),
                "-CAkey",
                ca.key_path.to_str().unwrap(),
                "-set_serial",
                serial,
                "-days",
                &days.to_string(),
                "-extfile",
                ext.to_str().unwrap(),
                "-out",
                &format!("{base}.pem"),
            ],
        );
        self.load(&base)
    }
}

/// A strict verifier config knowing `chains` (service -> leaf first, root last).
pub fn strict_config(chains: &[(&str, Vec<&KeyCert>)]) -> VerifierConfig {
    let mut config = VerifierConfig {
        application: "audit-service".into(),
        require_signature: true,
        ..VerifierConfig::default()
    };
    for (i, (service, chain)) in chains.iter().enumerate() {
        config
            .certificate_chains
            .entry((*service).to_owned())
            .or_default()
            .insert(
                format!("chain{i}"),
                chain.iter().map(|c| c.cert_string()).collect(),
            );
    }
    config
}

pub const COMMAND: &str = "CreateAuditRecordCommand";

pub fn message(service: &str) -> MessageInfo<'_> {
    MessageInfo {
        type_name: COMMAND,
        service,
    }
}

/// A Confluent-framed record value as the outbox stores it.
pub fn value() -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0, 7];
    v.extend((0u8..=255).cycle().take(600));
    v
}
