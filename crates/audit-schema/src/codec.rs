//! The public codec API of the generated types.

use crate::rt::Reader;
use crate::{CreateAuditRecordCommand, Error, SchemaVersion};

/// Initial capacity of a new datum buffer: a typical command encodes to a few hundred bytes.
const INITIAL_CAPACITY: usize = 512;

/// A reader that lets the decoder allocate at most the input's size plus
/// [`ALLOC_SLACK`](crate::rt::ALLOC_SLACK) bytes before the whole input is validated against
/// `writer` (without allocating): malformed input fails within that bound.
fn bounded(bytes: &[u8], writer: SchemaVersion) -> Reader<'_> {
    Reader::bounded(
        bytes,
        crate::avro::validate_known,
        crate::avro::version_tag(writer),
    )
}

impl CreateAuditRecordCommand {
    /// Encodes with the newest schema ([`SchemaVersion::LATEST`]), byte-identical to Java's
    /// and apache-avro's encoding.
    #[must_use]
    pub fn to_avro_datum(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(INITIAL_CAPACITY);
        self.avro_encode(&mut out);
        out
    }

    /// Appends the datum (newest schema) to `out`, e.g. after a framing header.
    pub fn encode_datum(&self, out: &mut Vec<u8>) {
        self.avro_encode(out);
    }

    /// Encodes in the layout of an older writer schema `writer`.
    ///
    /// # Errors
    /// [`Error::NotRepresentable`] when the value does not fit `writer` (e.g. an
    /// `AuditObjectDataValue` without value before 1.0.2).
    pub fn to_avro_datum_as(&self, writer: SchemaVersion) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(INITIAL_CAPACITY);
        self.avro_encode_as(&mut out, writer)
            .map_err(|e| Error::not_representable(writer, e))?;
        Ok(out)
    }

    /// Decodes a datum written with the newest schema. Trailing bytes are an error.
    ///
    /// # Errors
    /// A typed decode error naming the value (path) and byte offset.
    pub fn from_avro_datum(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = bounded(bytes, SchemaVersion::LATEST);
        // decoded in place into the value returned (no copy of a built command)
        let mut v = Self::AVRO_EMPTY;
        v.avro_decode_into(&mut r)?;
        r.finish()?;
        Ok(v)
    }

    /// Decodes a datum written with the known schema version `writer` (Avro schema
    /// resolution, generated at build time). Trailing bytes are an error.
    ///
    /// # Errors
    /// A typed decode error naming the value (path) and byte offset.
    pub fn from_avro_datum_as(bytes: &[u8], writer: SchemaVersion) -> Result<Self, Error> {
        let mut r = bounded(bytes, writer);
        let v = Self::avro_decode_as(&mut r, writer)?;
        r.finish()?;
        Ok(v)
    }
}

impl<'a> crate::CreateAuditRecordCommandRef<'a> {
    /// Zero-copy decode of a datum written with the newest schema: strings and bytes borrow
    /// from `bytes`, only arrays allocate. Same checks and errors as
    /// [`CreateAuditRecordCommand::from_avro_datum`]; [`into_owned`](Self::into_owned) gives
    /// the owned command.
    ///
    /// ```
    /// # let cmd = audit_schema::json::from_json(r#"{"identity": {"id": "1", "idempotenceId": "i", "created": "2026-05-28T08:00:00Z"},
    /// #   "type": {"name": "CreateAuditRecordCommand", "version": "1.0.2", "variant": null},
    /// #   "publisher": {"system": "JME", "service": "jme-audit"}, "references": {},
    /// #   "payload": {"timestamp": "2026-05-28T08:00:00Z", "event": {"type": "READ", "context": null, "eventData": null},
    /// #     "trigger": {"AuditUser": {"id": "u1", "identityProvider": "idp"}}, "auditedData": null},
    /// #   "processId": null, "commandVersion": "1.3.0"}"#)?;
    /// use audit_schema::{CreateAuditRecordCommand, CreateAuditRecordCommandRef};
    ///
    /// let datum = cmd.to_avro_datum();
    /// let view = CreateAuditRecordCommandRef::from_avro_datum(&datum)?;
    /// assert_eq!(view.identity.idempotence_id, "i"); // borrowed from `datum`
    /// assert_eq!(view.into_owned(), CreateAuditRecordCommand::from_avro_datum(&datum)?);
    /// # Ok::<(), audit_schema::Error>(())
    /// ```
    ///
    /// # Errors
    /// A typed decode error naming the value (path) and byte offset.
    pub fn from_avro_datum(bytes: &'a [u8]) -> Result<Self, Error> {
        let mut r = bounded(bytes, SchemaVersion::LATEST);
        let v = Self::avro_view(&mut r)?;
        r.finish()?;
        Ok(v)
    }
}
