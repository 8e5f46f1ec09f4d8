//! One model of Avro schemas for the audit workspace (internal): the code generator
//! (`audit-codegen`), the compatibility checker (`audit-compat`) and the codec crate
//! (`audit-schema`) parse schemas, promote types, write zig-zag varints and compute canonical
//! forms with this crate, so the rules are written once.
//!
//! - [`Schema`]: a parsed and validated schema ([`Schema::parse`]): a tree of [`Node`]s whose
//!   named types (records, enums, fixed) live in one table with full names, namespaces and
//!   aliases; logical types are reduced to their underlying type in the tree and kept beside it
//!   ([`Schema::logical_type`], by JSON path) for the code generator.
//! - [`promotion`]: the specification's type promotions (`int` -> `long`, ...).
//! - [`zigzag`]: zig-zag varints of `int` and `long`.
//! - [`canonical`]: Parsing Canonical Form and the CRC-64-AVRO fingerprint.
//!
//! # Quick start
//!
//! ```
//! use audit_avro_model::{Node, Prim, Schema, promotion};
//!
//! let schema = Schema::parse(
//!     r#"{"type": "record", "name": "Ping", "namespace": "a.b",
//!         "fields": [{"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}"#,
//! )?;
//! let (_, ping) = schema.lookup("a.b.Ping").ok_or("no Ping")?;
//! assert_eq!(ping.namespace.as_deref(), Some("a.b"));
//! assert_eq!(
//!     schema.canonical_form(),
//!     r#"{"name":"a.b.Ping","type":"record","fields":[{"name":"at","type":"long"}]}"#
//! );
//! assert!(promotion::promotes(Prim::Int, Prim::Long));
//! assert!(matches!(schema.root, Node::Named(0)));
//!
//! let mut out = Vec::new();
//! audit_avro_model::zigzag::write_long(&mut out, -2);
//! assert_eq!(out, [0x03]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod canonical;
pub mod promotion;
mod schema;
pub mod zigzag;

pub use schema::{Field, Kind, LogicalType, Named, NamedDef, Node, Prim, Schema, SchemaError};
