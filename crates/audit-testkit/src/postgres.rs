//! Per-test PostgreSQL databases on the machine's server.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::Error;

/// Default server URL (user `postgres`, trust auth on loopback); override with `AUDIT_PG_URL`.
pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432";

static COUNTER: AtomicU64 = AtomicU64::new(0);

const CONNECT_HINT: &str =
    "connecting to the PostgreSQL server (is it running? scripts/test-prep.sh starts it)";

/// The server URL without a database: `$AUDIT_PG_URL`, else [`DEFAULT_PG_URL`].
pub fn server_url() -> String {
    std::env::var("AUDIT_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .map_or_else(
            || DEFAULT_PG_URL.to_owned(),
            |u| u.trim_end_matches('/').to_owned(),
        )
}

/// A freshly created, uniquely named, empty database; dropped (`DROP DATABASE ... WITH (FORCE)`,
/// closing any connection still open) when this value is dropped.
///
/// The server must be running (`scripts/test-prep.sh` starts it:
/// `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`).
#[derive(Debug)]
pub struct PgDatabase {
    name: String,
    url: String,
    admin_url: String,
}

impl PgDatabase {
    /// Creates a new database named `audit_test_<pid>_<n>_<nanos>`.
    pub async fn create() -> Result<Self, Error> {
        let server = server_url();
        let admin_url = format!("{server}/postgres");
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let name = format!(
            "audit_test_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut conn =
            PgConnection::connect(&admin_url)
                .await
                .map_err(|source| Error::Postgres {
                    what: CONNECT_HINT.to_owned(),
                    url: admin_url.clone(),
                    source,
                })?;
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .map_err(|source| Error::Postgres {
                what: format!("creating database {name}"),
                url: admin_url.clone(),
                source,
            })?;
        let _ = conn.close().await;
        Ok(Self {
            url: format!("{server}/{name}"),
            name,
            admin_url,
        })
    }

    /// Connection URL of this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database now, reporting failures (dropping the value does the same silently).
    pub async fn drop_database(self) -> Result<(), Error> {
        let result = drop_db(&self.admin_url, &self.name).await;
        std::mem::forget(self);
        result
    }
}

async fn drop_db(admin_url: &str, name: &str) -> Result<(), Error> {
    let err = |source| Error::Postgres {
        what: format!("dropping database {name}"),
        url: admin_url.to_owned(),
        source,
    };
    let mut conn = PgConnection::connect(admin_url).await.map_err(err)?;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await
    .map_err(err)?;
    let _ = conn.close().await;
    Ok(())
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop may run inside or outside a Tokio runtime: use a private one on its own thread.
        let handle = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            if let Err(e) = runtime.block_on(drop_db(&admin_url, &name)) {
                eprintln!("audit-testkit: {e}");
            }
        });
        let _ = handle.join();
    }
}
