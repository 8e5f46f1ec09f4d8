//! A throw-away PKI for signing tests, made with the `openssl` CLI in a temporary directory
//! (removed on drop): root CAs, leaves signed by a CA, expired leaves.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::Error;

/// A private key (PEM, PKCS#8 `PRIVATE KEY`) and its certificate (PEM).
#[derive(Debug, Clone)]
pub struct KeyCert {
    /// The private key, PEM `-----BEGIN PRIVATE KEY-----`.
    pub key_pem: Vec<u8>,
    /// The certificate, PEM `-----BEGIN CERTIFICATE-----`.
    pub cert_pem: Vec<u8>,
    /// Where the key file lies (inside the [`Pki`]'s directory).
    pub key_path: PathBuf,
    /// Where the certificate file lies.
    pub cert_path: PathBuf,
}

impl KeyCert {
    /// The certificate PEM as a string (the form chain configurations take).
    #[must_use]
    pub fn cert_string(&self) -> String {
        String::from_utf8_lossy(&self.cert_pem).into_owned()
    }
}

/// A directory of keys and certificates made with `openssl`; removed when dropped.
///
/// ```no_run
/// # fn demo() -> Result<(), audit_testkit::Error> {
/// let pki = audit_testkit::Pki::new()?;
/// let ca = pki.ca("Test Root CA")?;
/// let leaf = pki.leaf("my-service", &ca, "0x8001", 30)?; // valid for 30 days
/// let expired = pki.leaf("my-service", &ca, "0x21", -1)?; // expired yesterday
/// # let _ = (leaf, expired); Ok(()) }
/// ```
#[derive(Debug)]
pub struct Pki {
    dir: PathBuf,
    counter: AtomicU32,
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ignored = std::fs::remove_dir_all(&self.dir);
    }
}

impl Pki {
    /// Creates the (empty) directory under the system temp dir.
    ///
    /// # Errors
    /// [`Error::Io`] if the directory cannot be created.
    pub fn new() -> Result<Self, Error> {
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!(
            "audit-testkit-pki-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
            what: format!("create {}", dir.display()),
            source,
        })?;
        Ok(Self {
            dir,
            counter: AtomicU32::new(0),
        })
    }

    /// The directory holding the files.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn next(&self, what: &str) -> String {
        format!("{what}{}", self.counter.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn load(&self, base: &str) -> Result<KeyCert, Error> {
        let key_path = self.dir.join(format!("{base}.key"));
        let cert_path = self.dir.join(format!("{base}.pem"));
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| Error::Io {
                what: format!("read {}", path.display()),
                source,
            })
        };
        Ok(KeyCert {
            key_pem: read(&key_path)?,
            cert_pem: read(&cert_path)?,
            key_path,
            cert_path,
        })
    }

    fn openssl(&self, args: &[&str]) -> Result<(), Error> {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(&self.dir)
            .output()
            .map_err(|source| Error::Spawn {
                what: "openssl",
                binary: PathBuf::from("openssl"),
                source,
            })?;
        if output.status.success() {
            Ok(())
        } else {
            Err(Error::CommandFailed {
                command: format!("openssl {}", args.join(" ")),
                status: output.status.to_string(),
                output: String::from_utf8_lossy(&output.stderr).into_owned(),
            })
        }
    }

    /// A self-signed RSA 2048 root CA `CN=<cn>`, valid for 30 days.
    ///
    /// # Errors
    /// [`Error::Spawn`] / [`Error::CommandFailed`] when `openssl` is missing or fails.
    pub fn ca(&self, cn: &str) -> Result<KeyCert, Error> {
        let base = self.next("ca");
        let (key, pem, subj) = (
            format!("{base}.key"),
            format!("{base}.pem"),
            format!("/CN={cn}"),
        );
        self.openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &pem,
            "-days",
            "30",
            "-subj",
            &subj,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ])?;
        self.load(&base)
    }

    /// An RSA 2048 leaf `O=jeap-test, CN=<cn>` signed by `ca`, serial `serial` (openssl
    /// `-set_serial` syntax, e.g. `0x8001`), valid for `days` from now (negative: already expired).
    ///
    /// # Errors
    /// [`Error::Spawn`] / [`Error::CommandFailed`] when `openssl` is missing or fails.
    pub fn leaf(&self, cn: &str, ca: &KeyCert, serial: &str, days: i32) -> Result<KeyCert, Error> {
        let base = self.next("leaf");
        let (key, csr, pem, subj) = (
            format!("{base}.key"),
            format!("{base}.csr"),
            format!("{base}.pem"),
            format!("/O=jeap-test/CN={cn}"),
        );
        self.openssl(&[
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &csr, "-subj", &subj,
        ])?;
        let ext = self.dir.join(format!("{base}.ext"));
        std::fs::write(
            &ext,
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n",
        )
        .map_err(|source| Error::Io {
            what: format!("write {}", ext.display()),
            source,
        })?;
        let (ca_cert, ca_key) = (
            ca.cert_path.to_string_lossy().into_owned(),
            ca.key_path.to_string_lossy().into_owned(),
        );
        let (ext, days) = (ext.to_string_lossy().into_owned(), days.to_string());
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_cert,
            "-CAkey",
            &ca_key,
            "-set_serial",
            serial,
            "-days",
            &days,
            "-extfile",
            &ext,
            "-out",
            &pem,
        ])?;
        self.load(&base)
    }
}
