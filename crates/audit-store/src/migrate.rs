//! The migration scripts shipped with the crate.

/// One migration script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// Version number (applied in ascending order).
    pub version: i64,
    /// File name below `migrations/<backend>/`.
    pub name: &'static str,
    /// The SQL text.
    pub sql: &'static str,
}

/// The PostgreSQL migrations (also readable as files in `migrations/postgres/`).
pub const POSTGRES_MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "0001_audit_record.sql",
    sql: include_str!("../migrations/postgres/0001_audit_record.sql"),
}];

/// The SQLite migrations (also readable as files in `migrations/sqlite/`).
pub const SQLITE_MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "0001_audit_record.sql",
    sql: include_str!("../migrations/sqlite/0001_audit_record.sql"),
}];
