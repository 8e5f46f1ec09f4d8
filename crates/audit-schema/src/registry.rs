//! The two seams between the command's producers and consumers and a schema registry, as traits
//! only (no registry code here): the producer side asks a [`SchemaIdProvider`] for the id to
//! frame the command with, the consumer side asks a [`WriterSchemaSource`] or an
//! [`AsyncWriterSchemaSource`] for the writer schema of a frame's id.
//!
//! They live in this crate because every crate of the workspace depends on it: the outbox's
//! sender and the consumer use them, `audit_registry::RegistryClient` implements them, and none of
//! these needs the other.

use std::future::Future;
use std::sync::Arc;

use crate::{SchemaVersion, WriterSchema};

/// A boxed error of a schema source or provider (e.g. the registry could not be reached).
pub use audit_support::BoxError;

/// Obtains the Confluent schema id a producer frames the command with: register-or-get or look-up
/// in a schema registry, under the subject the registry's naming strategy gives the topic.
///
/// `audit_registry::RegistryClient` implements it (its configured `SubjectStrategy`, jEAP's
/// TopicRecordNameStrategy by default, and its cache: one registry call per subject and schema).
pub trait SchemaIdProvider {
    /// The subject the command's value schema on `topic` is registered under (e.g.
    /// `{topic}-ch.admin.bit.jeap.audit.record.create.CreateAuditRecordCommand`).
    fn command_subject(&self, topic: &str) -> String;

    /// The id of `schema_json` (the raw `.avsc` text of a [`SchemaVersion`]) under `subject`.
    ///
    /// # Errors
    /// Any failure to obtain it (registry unreachable, schema rejected or not registered).
    fn schema_id(
        &self,
        subject: &str,
        schema_json: &str,
    ) -> impl Future<Output = Result<u32, BoxError>> + Send;
}

/// The writer schema of a record, as a [`WriterSchemaSource`] returns it.
#[derive(Debug, Clone)]
pub enum Writer {
    /// One of the versions this crate knows (decoded by the generated resolution code).
    Version(SchemaVersion),
    /// Any other writer schema, e.g. fetched from a registry and parsed once
    /// (known versions inside take the generated fast path as well).
    Schema(Arc<WriterSchema>),
}

/// Finds the writer schema for a Confluent schema id.
///
/// Implementations: `audit_consumer::LocalVersions` (configured ids of the known versions), or
/// any lookup that needs no network. `Ok(None)` means the id is unknown; `Err` is a lookup failure.
///
/// ```
/// use std::sync::Arc;
/// use audit_schema::WriterSchema;
/// use audit_schema::registry::{BoxError, Writer, WriterSchemaSource};
///
/// /// Writer schemas fetched earlier (e.g. from a registry), by id.
/// struct Cached(std::collections::HashMap<u32, Arc<WriterSchema>>);
///
/// impl WriterSchemaSource for Cached {
///     fn writer_schema(&self, schema_id: u32) -> Result<Option<Writer>, BoxError> {
///         Ok(self.0.get(&schema_id).cloned().map(Writer::Schema))
///     }
/// }
/// ```
pub trait WriterSchemaSource {
    /// The writer schema registered under `schema_id`, `Ok(None)` if there is none.
    ///
    /// # Errors
    /// Any lookup failure. A decoder reports an [`crate::Error::IncompatibleSchema`] (from
    /// [`WriterSchema::parse`]) in the error's source chain as an incompatible writer schema,
    /// anything else as a failed lookup.
    fn writer_schema(&self, schema_id: u32) -> Result<Option<Writer>, BoxError>;
}

impl<T: WriterSchemaSource + ?Sized> WriterSchemaSource for &T {
    fn writer_schema(&self, schema_id: u32) -> Result<Option<Writer>, BoxError> {
        (**self).writer_schema(schema_id)
    }
}

impl<T: WriterSchemaSource + ?Sized> WriterSchemaSource for Arc<T> {
    fn writer_schema(&self, schema_id: u32) -> Result<Option<Writer>, BoxError> {
        (**self).writer_schema(schema_id)
    }
}

/// Async counterpart of [`WriterSchemaSource`] for sources that fetch over the network:
/// `audit_registry::RegistryClient` implements it (fetch by id once, then from its cache).
/// Every `WriterSchemaSource + Sync` is one.
pub trait AsyncWriterSchemaSource {
    /// The writer schema registered under `schema_id`, `Ok(None)` if there is none.
    ///
    /// # Errors
    /// Any lookup failure, as [`WriterSchemaSource::writer_schema`]'s.
    fn fetch_writer_schema(
        &self,
        schema_id: u32,
    ) -> impl Future<Output = Result<Option<Writer>, BoxError>> + Send;
}

impl<T: WriterSchemaSource + Sync + ?Sized> AsyncWriterSchemaSource for T {
    fn fetch_writer_schema(
        &self,
        schema_id: u32,
    ) -> impl Future<Output = Result<Option<Writer>, BoxError>> + Send {
        std::future::ready(self.writer_schema(schema_id))
    }
}
