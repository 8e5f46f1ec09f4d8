//! The crate's view of a parsed schema: the workspace's one model (`audit-avro-model`), whose
//! logical types are reduced to their underlying Avro type (Java's `SchemaCompatibility` ignores
//! logical types).

pub(crate) use audit_avro_model::{Field, Kind, NamedDef, Node, Prim, Schema as Model};
