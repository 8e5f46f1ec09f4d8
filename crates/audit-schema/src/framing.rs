//! Confluent wire format and Avro single-object encoding.

/// Confluent Schema Registry wire format: `0x00`, the 4-byte big-endian schema id, the datum.
///
/// ```
/// let framed = audit_schema::confluent::frame(42, &[2, 4]);
/// assert_eq!(framed, [0, 0, 0, 0, 42, 2, 4]);
/// assert_eq!(audit_schema::confluent::unframe(&framed)?, (42, &[2u8, 4][..]));
/// # Ok::<(), audit_schema::Error>(())
/// ```
pub mod confluent {
    use crate::Error;

    /// The magic byte.
    pub const MAGIC: u8 = 0;
    /// Header length (magic byte + schema id).
    pub const HEADER_LEN: usize = 5;

    /// Appends the header for `schema_id`.
    pub fn write_header(schema_id: u32, out: &mut Vec<u8>) {
        out.push(MAGIC);
        out.extend_from_slice(&schema_id.to_be_bytes());
    }

    /// Header + datum.
    #[must_use]
    pub fn frame(schema_id: u32, datum: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + datum.len());
        write_header(schema_id, &mut out);
        out.extend_from_slice(datum);
        out
    }

    /// Splits a framed message into schema id and datum.
    ///
    /// # Errors
    /// [`Error::FrameTooShort`], [`Error::WrongMagic`].
    pub fn unframe(bytes: &[u8]) -> Result<(u32, &[u8]), Error> {
        let Some((header, datum)) = bytes.split_first_chunk::<HEADER_LEN>() else {
            return Err(Error::FrameTooShort {
                format: "Confluent",
                needed: HEADER_LEN,
                len: bytes.len(),
            });
        };
        let [magic, a, b, c, d] = *header;
        if magic != MAGIC {
            return Err(Error::WrongMagic {
                format: "Confluent",
                expected: &[MAGIC],
                found: vec![magic],
            });
        }
        Ok((u32::from_be_bytes([a, b, c, d]), datum))
    }
}

/// Avro single-object encoding: `C3 01`, the 8-byte little-endian CRC-64-AVRO fingerprint of
/// the schema's Parsing Canonical Form, the datum.
///
/// ```
/// use audit_schema::{SchemaVersion, single_object};
///
/// let mut msg = Vec::new();
/// single_object::write_header(SchemaVersion::LATEST.fingerprint(), &mut msg);
/// msg.extend_from_slice(&[2, 4]);
/// let (fp, datum) = single_object::unframe(&msg)?;
/// assert_eq!(SchemaVersion::from_fingerprint(fp), Some(SchemaVersion::LATEST));
/// assert_eq!(datum, [2, 4]);
/// # Ok::<(), audit_schema::Error>(())
/// ```
pub mod single_object {
    use crate::Error;

    /// The two magic bytes.
    pub const MAGIC: [u8; 2] = [0xC3, 0x01];
    /// Header length (magic + fingerprint).
    pub const HEADER_LEN: usize = 10;

    /// Appends the header for the schema with `fingerprint`.
    pub fn write_header(fingerprint: u64, out: &mut Vec<u8>) {
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&fingerprint.to_le_bytes());
    }

    /// Header + datum.
    #[must_use]
    pub fn frame(fingerprint: u64, datum: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + datum.len());
        write_header(fingerprint, &mut out);
        out.extend_from_slice(datum);
        out
    }

    /// Splits a single-object message into fingerprint and datum.
    ///
    /// # Errors
    /// [`Error::FrameTooShort`], [`Error::WrongMagic`].
    pub fn unframe(bytes: &[u8]) -> Result<(u64, &[u8]), Error> {
        let Some((header, datum)) = bytes.split_first_chunk::<HEADER_LEN>() else {
            return Err(Error::FrameTooShort {
                format: "single-object",
                needed: HEADER_LEN,
                len: bytes.len(),
            });
        };
        let [m0, m1, f @ ..] = *header;
        if [m0, m1] != MAGIC {
            return Err(Error::WrongMagic {
                format: "single-object",
                expected: &MAGIC,
                found: vec![m0, m1],
            });
        }
        Ok((u64::from_le_bytes(f), datum))
    }
}
