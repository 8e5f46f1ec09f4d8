//! Runtime support of the code `audit-codegen` generates (internal to the audit workspace):
//! zig-zag varints, the bounded [`Reader`] the generated decoders read with, and the
//! [`DecodeError`] / [`EncodeError`] types with the path to the value an error is about.
//!
//! Generated code reaches this crate through the path in `audit_codegen::Options::runtime_path`
//! (`crate::rt` by default: `use audit_avro_runtime as rt;` in the crate that includes it).
//!
//! Safety rules kept here: no indexing, no unwrap, no panics on input; every length is checked
//! against the remaining input BEFORE anything is allocated. The hot functions are `#[inline]`
//! (the generated decoders live in another crate).
//!
//! ```
//! use audit_avro_runtime::{Reader, write_long, write_str};
//!
//! let mut datum = Vec::new();
//! write_long(&mut datum, -3);
//! write_str(&mut datum, "hi");
//! let mut r = Reader::new(&datum);
//! assert_eq!(r.read_long()?, -3);
//! assert_eq!(r.read_str()?, "hi");
//! r.finish()?;
//! # Ok::<(), audit_avro_runtime::DecodeError>(())
//! ```

use std::fmt;

use audit_avro_model::zigzag;

/// Upper bound for the number of items of an array or map whose items encode to zero bytes.
pub const MAX_ZERO_SIZE_ITEMS: u64 = 1 << 16;

/// Heap bytes a bounded [`Reader`] lets a decoder allocate beyond the input's size before it
/// validates the whole input (see `Reader::bounded`).
pub const ALLOC_SLACK: usize = 1024;

/// Validates a whole datum (value and no trailing bytes) without allocating; see
/// [`Reader::bounded`]. The `usize` is the tag given there (e.g. which writer schema).
pub type Validator = fn(&[u8], usize) -> Result<(), DecodeError>;

/// One step of the path to the value an error is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    /// A record field (Avro name).
    Field(&'static str),
    /// An array item.
    Index(usize),
    /// A map entry.
    Key(String),
    /// A record field whose name is only known at run time.
    Name(String),
}

/// Path from the top-level value to the value an error is about, e.g. `payload.trigger`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Path {
    // innermost segment first (errors are built from the inside out)
    segs: Vec<PathSeg>,
}

impl Path {
    /// The segments, outermost first.
    pub fn segments(&self) -> impl Iterator<Item = &PathSeg> {
        self.segs.iter().rev()
    }

    /// True for the top-level value.
    pub fn is_empty(&self) -> bool {
        self.segs.is_empty()
    }

    fn push_outer(&mut self, seg: PathSeg) {
        self.segs.push(seg);
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segs.is_empty() {
            return f.write_str("<root>");
        }
        let mut first = true;
        for seg in self.segments() {
            match seg {
                PathSeg::Field(name) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(name)?;
                }
                PathSeg::Index(i) => write!(f, "[{i}]")?,
                PathSeg::Key(k) => write!(f, "[{k:?}]")?,
                PathSeg::Name(name) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(name)?;
                }
            }
            first = false;
        }
        Ok(())
    }
}

/// What went wrong while decoding, with its details.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended before the value was complete.
    UnexpectedEof,
    /// A variable-length integer had more than 10 bytes or overflowed 64 bits.
    VarintOverflow,
    /// An `int` value outside the 32-bit range.
    IntOutOfRange(i64),
    /// A negative length of a string or bytes value.
    NegativeLength(i64),
    /// A length greater than the remaining input.
    LengthExceedsInput {
        /// the length read
        length: u64,
        /// the remaining input in bytes
        remaining: usize,
    },
    /// A string that is not valid UTF-8.
    InvalidUtf8,
    /// A union branch index outside the union.
    UnionIndex {
        /// the index read
        index: i64,
        /// the number of branches
        branches: usize,
    },
    /// An enum symbol index outside the enum.
    EnumIndex {
        /// the index read
        index: i64,
        /// the number of symbols
        symbols: usize,
    },
    /// A block item count that cannot fit into the remaining input.
    BlockCountExceedsInput {
        /// the count read
        count: i64,
        /// the remaining input in bytes
        remaining: usize,
    },
    /// Too many zero-size items in an array or map.
    TooManyItems,
    /// A timestamp outside the range of `chrono::DateTime<Utc>`.
    TimestampOutOfRange(i64),
    /// A writer enum symbol the reader does not know, and the reader enum has no default.
    UnknownSymbol(&'static str),
    /// A writer union branch the reader type has no counterpart for.
    NoMatchingBranch(&'static str),
    /// Input left over after the top-level value.
    TrailingBytes(usize),
    /// Values nested deeper than a decoder supports (only for schemas known at run time).
    NestingTooDeep(usize),
    /// The input needed validation (see `Reader::bounded`) and its schema was unavailable.
    Unvalidated,
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedEof => f.write_str("unexpected end of input"),
            Self::VarintOverflow => f.write_str("variable-length integer overflows 64 bits"),
            Self::IntOutOfRange(v) => write!(f, "int value {v} outside the 32-bit range"),
            Self::NegativeLength(v) => write!(f, "negative length {v}"),
            Self::LengthExceedsInput { length, remaining } => {
                write!(f, "length {length} exceeds the remaining {remaining} bytes")
            }
            Self::InvalidUtf8 => f.write_str("string is not valid UTF-8"),
            Self::UnionIndex { index, branches } => {
                write!(f, "union branch index {index} outside 0..{branches}")
            }
            Self::EnumIndex { index, symbols } => {
                write!(f, "enum symbol index {index} outside 0..{symbols}")
            }
            Self::BlockCountExceedsInput { count, remaining } => write!(
                f,
                "block item count {count} cannot fit into the remaining {remaining} bytes"
            ),
            Self::TooManyItems => write!(
                f,
                "more than {MAX_ZERO_SIZE_ITEMS} zero-size items in one array or map"
            ),
            Self::TimestampOutOfRange(v) => write!(f, "timestamp {v} out of range"),
            Self::UnknownSymbol(s) => {
                write!(
                    f,
                    "enum symbol {s:?} unknown to the reader, which has no default"
                )
            }
            Self::NoMatchingBranch(b) => {
                write!(
                    f,
                    "writer union branch {b} has no counterpart in the reader type"
                )
            }
            Self::TrailingBytes(n) => write!(f, "{n} bytes left after the value"),
            Self::NestingTooDeep(n) => write!(f, "values nested deeper than {n} levels"),
            Self::Unvalidated => f.write_str("input could not be validated: schema unavailable"),
        }
    }
}

/// A decode failure: what, where in the input (byte offset), and which value (path).
///
/// Boxed, so that the `Result`s of the decoders stay small on the success path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(Box<DecodeErrorInner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct DecodeErrorInner {
    kind: DecodeErrorKind,
    offset: usize,
    path: Path,
    // the path is complete (the error came from a validation of the whole datum)
    sealed: bool,
}

impl DecodeError {
    /// A new error at `offset` with an empty path.
    #[cold]
    #[inline(never)]
    pub fn new(kind: DecodeErrorKind, offset: usize) -> Self {
        Self(Box::new(DecodeErrorInner {
            kind,
            offset,
            path: Path::default(),
            sealed: false,
        }))
    }

    /// Marks the path as complete: later `field`/`index`/`key`/`name` calls leave it alone.
    #[must_use]
    pub fn sealed(mut self) -> Self {
        self.0.sealed = true;
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.0.kind
    }

    /// Byte offset into the input where the offending item starts.
    pub fn offset(&self) -> usize {
        self.0.offset
    }

    /// The value being decoded.
    pub fn path(&self) -> &Path {
        &self.0.path
    }

    /// Prepends a record field to the path.
    #[cold]
    #[must_use]
    pub fn field(mut self, name: &'static str) -> Self {
        if !self.0.sealed {
            self.0.path.push_outer(PathSeg::Field(name));
        }
        self
    }

    /// Prepends an array index to the path.
    #[cold]
    #[must_use]
    pub fn index(mut self, i: usize) -> Self {
        if !self.0.sealed {
            self.0.path.push_outer(PathSeg::Index(i));
        }
        self
    }

    /// Prepends a map key to the path.
    #[cold]
    #[must_use]
    pub fn key(mut self, k: &str) -> Self {
        if !self.0.sealed {
            self.0.path.push_outer(PathSeg::Key(k.to_owned()));
        }
        self
    }

    /// Prepends a record field known only at run time to the path.
    #[cold]
    #[must_use]
    pub fn name(mut self, name: &str) -> Self {
        if !self.0.sealed {
            self.0.path.push_outer(PathSeg::Name(name.to_owned()));
        }
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "at {} (byte {}): {}",
            self.0.path, self.0.offset, self.0.kind
        )
    }
}

impl std::error::Error for DecodeError {}

/// An encode failure: a value that the target writer schema cannot represent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError {
    /// Why the value is not representable.
    pub reason: &'static str,
    /// The value that is not representable.
    pub path: Path,
}

impl EncodeError {
    /// A new error with an empty path.
    pub fn new(reason: &'static str) -> Self {
        Self {
            reason,
            path: Path::default(),
        }
    }

    /// Prepends a record field to the path.
    #[must_use]
    pub fn field(mut self, name: &'static str) -> Self {
        self.path.push_outer(PathSeg::Field(name));
        self
    }

    /// Prepends an array index to the path.
    #[must_use]
    pub fn index(mut self, i: usize) -> Self {
        self.path.push_outer(PathSeg::Index(i));
        self
    }

    /// Prepends a map key to the path.
    #[must_use]
    pub fn key(mut self, k: &str) -> Self {
        self.path.push_outer(PathSeg::Key(k.to_owned()));
        self
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {}: {}", self.path, self.reason)
    }
}

impl std::error::Error for EncodeError {}

pub use audit_avro_model::zigzag::write_long;

/// Appends an `int`.
#[inline]
pub fn write_int(out: &mut Vec<u8>, v: i32) {
    write_long(out, i64::from(v));
}

/// Appends a length (array/map block count or string/bytes length).
#[inline]
pub fn write_len(out: &mut Vec<u8>, len: usize) {
    // a Vec never holds more than isize::MAX bytes, so this does not saturate in practice
    write_long(out, i64::try_from(len).unwrap_or(i64::MAX));
}

/// Appends `bytes` (length-prefixed).
#[inline]
pub fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    write_len(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// Appends a string (length-prefixed UTF-8).
#[inline]
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    write_bytes(out, s.as_bytes());
}

/// Appends a `timestamp-millis` value.
#[inline]
pub fn write_timestamp_millis(out: &mut Vec<u8>, t: &chrono::DateTime<chrono::Utc>) {
    write_long(out, t.timestamp_millis());
}

/// Appends a `timestamp-micros` value.
#[inline]
pub fn write_timestamp_micros(out: &mut Vec<u8>, t: &chrono::DateTime<chrono::Utc>) {
    write_long(out, t.timestamp_micros());
}

/// The Unix epoch, for defaults of timestamp fields.
#[inline]
pub fn timestamp_millis_or_epoch(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// A cursor over Avro binary input that never reads past its end and never panics.
///
/// UTF-8 validation of strings is amortised: the first string read validates the input from its
/// start up to the next byte that is not valid UTF-8 (a multi-byte varint such as a timestamp
/// usually ends such a run), and later strings inside that run are sliced out of it (`str::get`,
/// which checks the char boundaries) instead of being validated one by one. A string that is not
/// inside a run is validated by itself, so the result is exactly `std::str::from_utf8` of its
/// bytes.
///
/// Allocation bound: decoders report what they are about to allocate with [`charge`](Self::charge)
/// (owned strings and bytes, vector capacity). A [`bounded`](Self::bounded) reader allows
/// `input size + ALLOC_SLACK` bytes; the first charge beyond that validates the whole input
/// first (no allocation) and then lifts the bound, so malformed input fails before the decoder
/// has allocated more than that, and valid input decodes whatever its size.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    // a run of input known to be valid UTF-8, starting at byte `text_start`
    text_start: usize,
    text: &'a str,
    // bytes the decoder may still allocate before the input must be validated
    budget: usize,
    validate: Option<(Validator, usize)>,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`, without an allocation bound.
    #[inline]
    pub fn new(buf: &'a [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            text_start: 0,
            text: "",
            budget: usize::MAX,
            validate: None,
        }
    }

    /// A reader at the start of `buf` whose decoder allocates at most `buf.len() + ALLOC_SLACK`
    /// bytes unless `validate(buf, tag)` accepts the whole of `buf`.
    #[inline]
    pub fn bounded(buf: &'a [u8], validate: Validator, tag: usize) -> Self {
        Self {
            budget: buf.len().saturating_add(ALLOC_SLACK),
            validate: Some((validate, tag)),
            ..Self::new(buf)
        }
    }

    /// Accounts for `bytes` of heap the decoder is about to allocate. Beyond the bound, the
    /// whole input is validated first: its first error is returned (with its complete path),
    /// or the bound is lifted.
    #[inline(always)]
    pub fn charge(&mut self, bytes: usize) -> Result<(), DecodeError> {
        match self.budget.checked_sub(bytes) {
            Some(left) => {
                self.budget = left;
                Ok(())
            }
            None => self.over_budget(),
        }
    }

    #[cold]
    #[inline(never)]
    fn over_budget(&mut self) -> Result<(), DecodeError> {
        if let Some((validate, tag)) = self.validate.take() {
            validate(self.buf, tag).map_err(DecodeError::sealed)?;
        }
        self.budget = usize::MAX;
        Ok(())
    }

    /// Charges one entry about to be inserted into a `BTreeMap` that holds `len` entries, with
    /// the map's nodes: the first entry allocates a whole leaf (11 slots), and as nodes split
    /// every node but the root holds at least 5 entries, so the nodes of `n` entries take at
    /// most `(1 + n / 5)` leaves plus about a fifth as many internal nodes (each with 12 edge
    /// pointers). Charged: 14 slots and 160 bytes for the first entry, 3 slots and 32 bytes for
    /// each further one, above that bound for every `n`.
    #[inline]
    pub fn charge_entry<K, V>(
        &mut self,
        len: usize,
        _key: &K,
        _value: &V,
    ) -> Result<(), DecodeError> {
        let slot = std::mem::size_of::<K>() + std::mem::size_of::<V>();
        self.charge(if len == 0 {
            slot.saturating_mul(14).saturating_add(160)
        } else {
            slot.saturating_mul(3).saturating_add(32)
        })
    }

    /// Makes room for `n` more items in `items` (doubling, so arrays of many blocks grow in
    /// amortised constant time). It charges the whole new capacity, not only what it adds:
    /// growing reallocates, and until the old items are moved both blocks are held.
    #[inline]
    pub fn reserve_items<T>(&mut self, items: &mut Vec<T>, n: usize) -> Result<(), DecodeError> {
        let need = items.len().saturating_add(n);
        let cap = items.capacity();
        if need > cap {
            let target = need.max(cap.saturating_mul(2));
            self.charge(target.saturating_mul(std::mem::size_of::<T>()))?;
            if cap == 0 {
                // the first block: a plain allocation (no growth path)
                *items = Vec::with_capacity(target);
            } else {
                items.reserve_exact(target - items.len());
            }
        }
        Ok(())
    }

    /// Current byte offset.
    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes not yet consumed.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// An error of `kind` at the current offset.
    #[inline]
    pub fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError::new(kind, self.pos)
    }

    /// Fails with [`DecodeErrorKind::TrailingBytes`] unless all input was consumed.
    #[inline]
    pub fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(self.error(DecodeErrorKind::TrailingBytes(n))),
        }
    }

    #[inline(always)]
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n);
        match end.and_then(|end| self.buf.get(self.pos..end)) {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => Err(self.error(DecodeErrorKind::UnexpectedEof)),
        }
    }

    /// Skips `n` bytes.
    #[inline(always)]
    pub fn skip(&mut self, n: usize) -> Result<(), DecodeError> {
        self.take(n).map(|_| ())
    }

    /// Reads a zig-zag variable-length long.
    #[inline(always)]
    pub fn read_long(&mut self) -> Result<i64, DecodeError> {
        // fast path: one byte (small lengths, union and enum indexes)
        if let Some(&b) = self.buf.get(self.pos)
            && b < 0x80
        {
            self.pos += 1;
            return Ok(zigzag::decode(u64::from(b)));
        }
        self.read_long_multi()
    }

    #[inline(never)]
    fn read_long_multi(&mut self) -> Result<i64, DecodeError> {
        // ten bytes at hand (the longest varint): no end-of-input check per byte
        if let Some(ten) = self
            .pos
            .checked_add(10)
            .and_then(|end| self.buf.get(self.pos..end))
            .and_then(|s| <[u8; 10]>::try_from(s).ok())
        {
            let mut z: u64 = 0;
            for (i, b) in ten.into_iter().enumerate() {
                if i == 9 && b > 1 {
                    break;
                }
                z |= u64::from(b & 0x7f) << (7 * i);
                if b & 0x80 == 0 {
                    self.pos += i + 1;
                    return Ok(zigzag::decode(z));
                }
            }
            return Err(DecodeError::new(DecodeErrorKind::VarintOverflow, self.pos));
        }
        let start = self.pos;
        let mut z: u64 = 0;
        let mut shift = 0u32;
        loop {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(DecodeError::new(DecodeErrorKind::UnexpectedEof, start));
            };
            self.pos += 1;
            if shift == 63 && b > 1 {
                return Err(DecodeError::new(DecodeErrorKind::VarintOverflow, start));
            }
            z |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(zigzag::decode(z));
            }
            shift += 7;
        }
    }

    /// Reads an `int`.
    #[inline]
    pub fn read_int(&mut self) -> Result<i32, DecodeError> {
        let start = self.pos;
        let v = self.read_long()?;
        i32::try_from(v).map_err(|_| DecodeError::new(DecodeErrorKind::IntOutOfRange(v), start))
    }

    /// Reads a `boolean` (any non-zero byte is `true`, as Java reads it).
    #[inline]
    pub fn read_boolean(&mut self) -> Result<bool, DecodeError> {
        self.take(1).map(|b| b.iter().any(|&x| x != 0))
    }

    /// Reads a `float`.
    #[inline]
    pub fn read_float(&mut self) -> Result<f32, DecodeError> {
        let b = self.take(4)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        Ok(f32::from_le_bytes(a))
    }

    /// Reads a `double`.
    #[inline]
    pub fn read_double(&mut self) -> Result<f64, DecodeError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(f64::from_le_bytes(a))
    }

    /// Reads a length-prefixed value (string or bytes): its bytes, their offset and the offset
    /// of the length.
    #[inline(always)]
    fn read_len(&mut self) -> Result<(&'a [u8], usize, usize), DecodeError> {
        let start = self.pos;
        let len = self.read_long()?;
        let from = self.pos;
        if let Ok(n) = usize::try_from(len)
            && let Some(end) = from.checked_add(n)
            && let Some(b) = self.buf.get(from..end)
        {
            self.pos = end;
            return Ok((b, from, start));
        }
        Err(self.len_error(len, start))
    }

    #[cold]
    #[inline(never)]
    fn len_error(&self, len: i64, start: usize) -> DecodeError {
        let kind = if len < 0 {
            DecodeErrorKind::NegativeLength(len)
        } else {
            DecodeErrorKind::LengthExceedsInput {
                length: len.unsigned_abs(),
                remaining: self.remaining(),
            }
        };
        DecodeError::new(kind, start)
    }

    /// Reads a `bytes` value as a borrowed slice.
    #[inline]
    pub fn read_bytes_ref(&mut self) -> Result<&'a [u8], DecodeError> {
        self.read_len().map(|(b, _, _)| b)
    }

    /// Reads a `bytes` value (charged, see [`charge`](Self::charge)).
    #[inline]
    pub fn read_bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        let b = self.read_bytes_ref()?;
        self.charge(b.len())?;
        Ok(b.to_vec())
    }

    /// Reads a `string` value as a borrowed `&str`.
    #[inline(always)]
    pub fn read_str(&mut self) -> Result<&'a str, DecodeError> {
        let (b, from, start) = self.read_len()?;
        let n = b.len();
        // inside the validated run? (`get` returns None unless both ends are char boundaries
        // of the run, in which case the bytes are exactly this string's)
        if let Some(s) = from
            .checked_sub(self.text_start)
            .and_then(|rel| self.text.get(rel..rel + n))
        {
            return Ok(s);
        }
        self.validate_run(from, n)
            .ok_or_else(|| DecodeError::new(DecodeErrorKind::InvalidUtf8, start))
    }

    /// Starts a new run at `from`: the input from there up to its first byte that is not valid
    /// UTF-8 (a multi-byte varint such as a timestamp usually ends it), and returns the string's
    /// `n` bytes from it, or `None` if they are not valid UTF-8 on their own.
    #[inline(never)]
    fn validate_run(&mut self, from: usize, n: usize) -> Option<&'a str> {
        let rest = self.buf.get(from..)?;
        // the ASCII prefix word by word, then std's validation from the first other byte
        let ascii = ascii_prefix(rest);
        let valid = match rest.get(ascii..).map(std::str::from_utf8) {
            Some(Err(e)) => ascii + e.valid_up_to(),
            _ => rest.len(),
        };
        // the string's own bytes hold the first error: it is not valid UTF-8
        if valid < n {
            return None;
        }
        let run = rest.get(..valid)?;
        // SAFETY: `run` is valid UTF-8: its first `ascii` bytes are ASCII (checked above) and
        // std's `from_utf8` accepted the rest of it (`valid_up_to` is, as documented, the
        // length of the longest valid prefix, and a valid prefix ends on a char boundary).
        #[allow(unsafe_code)]
        let run = unsafe { std::str::from_utf8_unchecked(run) };
        self.text_start = from;
        self.text = run;
        // `n` may end inside a multi-byte char of the run: then the string is invalid on its own
        match run.get(..n) {
            Some(s) => Some(s),
            None => std::str::from_utf8(rest.get(..n)?).ok(),
        }
    }

    /// Reads a `string` value.
    #[inline]
    pub fn read_string(&mut self) -> Result<String, DecodeError> {
        self.read_owned_str().map(str::to_owned)
    }

    /// Reads a `string` value that the caller copies into an owned string: like
    /// [`read_str`](Self::read_str), and its length is charged.
    #[inline(always)]
    pub fn read_owned_str(&mut self) -> Result<&'a str, DecodeError> {
        let s = self.read_str()?;
        self.charge(s.len())?;
        Ok(s)
    }

    /// Skips a `string` or `bytes` value.
    #[inline]
    pub fn skip_bytes(&mut self) -> Result<(), DecodeError> {
        self.read_bytes_ref().map(|_| ())
    }

    /// Reads a `fixed` value of size `N`.
    #[inline]
    pub fn read_fixed<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let b = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(b);
        Ok(a)
    }

    /// Reads a union branch index, checked against the number of branches.
    #[inline(always)]
    pub fn read_union_index(&mut self, branches: usize) -> Result<usize, DecodeError> {
        let start = self.pos;
        let i = self.read_long()?;
        match usize::try_from(i) {
            Ok(u) if u < branches => Ok(u),
            _ => Err(DecodeError::new(
                DecodeErrorKind::UnionIndex { index: i, branches },
                start,
            )),
        }
    }

    /// Reads an enum symbol index, checked against the number of symbols.
    #[inline]
    pub fn read_enum_index(&mut self, symbols: usize) -> Result<usize, DecodeError> {
        let start = self.pos;
        let i = self.read_long()?;
        match usize::try_from(i) {
            Ok(u) if u < symbols => Ok(u),
            _ => Err(DecodeError::new(
                DecodeErrorKind::EnumIndex { index: i, symbols },
                start,
            )),
        }
    }

    /// Reads the item count of the next array/map block (0 ends the array/map).
    ///
    /// A negative count is followed by the block size in bytes, which is checked and ignored.
    /// The count is bounded by the remaining input divided by `min_item_size` (the minimum
    /// encoded size of one item); for zero-size items, `items_so_far + count` is capped at
    /// [`MAX_ZERO_SIZE_ITEMS`].
    #[inline(always)]
    pub fn read_block_count(
        &mut self,
        min_item_size: usize,
        items_so_far: usize,
    ) -> Result<usize, DecodeError> {
        // fast path: a one-byte count of 0..=63 items that fit into the remaining input
        if let Some(&b) = self.buf.get(self.pos)
            && b < 0x80
            && b & 1 == 0
        {
            let count = usize::from(b >> 1);
            let rest = self.remaining().saturating_sub(1);
            if min_item_size != 0 && count <= rest / min_item_size {
                self.pos += 1;
                return Ok(count);
            }
        }
        self.read_block_count_slow(min_item_size, items_so_far)
    }

    #[inline(never)]
    fn read_block_count_slow(
        &mut self,
        min_item_size: usize,
        items_so_far: usize,
    ) -> Result<usize, DecodeError> {
        let start = self.pos;
        let raw = self.read_long()?;
        if raw == 0 {
            return Ok(0);
        }
        let count = raw.unsigned_abs();
        if raw < 0 {
            let size_start = self.pos;
            let size = self.read_long()?;
            let remaining = self.remaining();
            let fits = u64::try_from(size).is_ok_and(|s| s <= remaining as u64);
            if !fits {
                return Err(DecodeError::new(
                    DecodeErrorKind::LengthExceedsInput {
                        length: size.unsigned_abs(),
                        remaining,
                    },
                    size_start,
                ));
            }
        }
        let remaining = self.remaining();
        if min_item_size == 0 {
            let total = count.saturating_add(items_so_far as u64);
            if total > MAX_ZERO_SIZE_ITEMS {
                return Err(DecodeError::new(DecodeErrorKind::TooManyItems, start));
            }
        } else if count > (remaining / min_item_size) as u64 {
            return Err(DecodeError::new(
                DecodeErrorKind::BlockCountExceedsInput {
                    count: raw,
                    remaining,
                },
                start,
            ));
        }
        usize::try_from(count).map_err(|_| {
            DecodeError::new(
                DecodeErrorKind::BlockCountExceedsInput {
                    count: raw,
                    remaining,
                },
                start,
            )
        })
    }

    /// Reads a `timestamp-millis` value.
    #[inline]
    pub fn read_timestamp_millis(&mut self) -> Result<chrono::DateTime<chrono::Utc>, DecodeError> {
        let start = self.pos;
        let v = self.read_long()?;
        timestamp(v, 1_000)
            .ok_or_else(|| DecodeError::new(DecodeErrorKind::TimestampOutOfRange(v), start))
    }

    /// Reads a `timestamp-micros` value.
    #[inline]
    pub fn read_timestamp_micros(&mut self) -> Result<chrono::DateTime<chrono::Utc>, DecodeError> {
        let start = self.pos;
        let v = self.read_long()?;
        timestamp(v, 1_000_000)
            .ok_or_else(|| DecodeError::new(DecodeErrorKind::TimestampOutOfRange(v), start))
    }
}

/// Days from 0001-01-01 (day 1 of the common era in chrono's count) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i64 = 719_163;

thread_local! {
    // The date of the last timestamp decoded on this thread, by day number since the Unix epoch:
    // the timestamps of a message and of a stream mostly fall on the same day, and the calendar
    // computation is the costliest part of a timestamp.
    static LAST_DATE: std::cell::Cell<(i64, chrono::NaiveDate)> = const {
        std::cell::Cell::new((0, match chrono::NaiveDate::from_epoch_days(0) {
            Some(d) => d,
            None => chrono::NaiveDate::MIN,
        }))
    };
}

/// `units` since the Unix epoch (`per_second` of them per second) as a UTC date and time, or
/// `None` outside chrono's range: the same value as `chrono::DateTime::from_timestamp_millis`
/// / `from_timestamp_micros`.
#[inline]
fn timestamp(units: i64, per_second: i64) -> Option<chrono::DateTime<chrono::Utc>> {
    let secs = units.div_euclid(per_second);
    let sub = units.rem_euclid(per_second);
    let days = secs.div_euclid(86_400);
    let second_of_day = u32::try_from(secs.rem_euclid(86_400)).ok()?;
    let nanos = u32::try_from(sub * (1_000_000_000 / per_second)).ok()?;
    let (last, date) = LAST_DATE.get();
    let date = if last == days {
        date
    } else {
        let ce = i32::try_from(days.checked_add(UNIX_EPOCH_DAYS_FROM_CE)?).ok()?;
        let date = chrono::NaiveDate::from_num_days_from_ce_opt(ce)?;
        LAST_DATE.set((days, date));
        date
    };
    let time = chrono::NaiveTime::from_num_seconds_from_midnight_opt(second_of_day, nanos)?;
    Some(date.and_time(time).and_utc())
}

/// Length of the ASCII prefix of `b` (32 bytes per step while they are all ASCII).
#[inline]
fn ascii_prefix(b: &[u8]) -> usize {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let (blocks, _) = b.as_chunks::<32>();
    let mut i = 0;
    for block in blocks {
        let (words, _) = block.as_chunks::<8>();
        let any = words.iter().fold(0, |acc, w| acc | u64::from_le_bytes(*w));
        if any & HIGH != 0 {
            break;
        }
        i += 32;
    }
    let (words, _) = b.get(i..).unwrap_or_default().as_chunks::<8>();
    for w in words {
        let high = u64::from_le_bytes(*w) & HIGH;
        if high != 0 {
            return i + (high.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while b.get(i).is_some_and(u8::is_ascii) {
        i += 1;
    }
    i
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap
)]
mod tests {
    use super::*;

    fn long_bytes(v: i64) -> Vec<u8> {
        let mut out = Vec::new();
        write_long(&mut out, v);
        out
    }

    #[test]
    fn zigzag_varints_follow_the_spec() {
        assert_eq!(long_bytes(0), [0]);
        assert_eq!(long_bytes(-1), [1]);
        assert_eq!(long_bytes(1), [2]);
        assert_eq!(long_bytes(-64), [0x7f]);
        assert_eq!(long_bytes(64), [0x80, 0x01]);
        let mut max = vec![0xfe];
        max.extend([0xff; 8]);
        max.push(0x01);
        assert_eq!(long_bytes(i64::MAX), max);
        let mut min = vec![0xff; 9];
        min.push(0x01);
        assert_eq!(long_bytes(i64::MIN), min);
        for v in [
            0,
            1,
            -1,
            63,
            -64,
            64,
            8191,
            -8192,
            i64::from(i32::MAX),
            i64::MIN,
            i64::MAX,
        ] {
            let b = long_bytes(v);
            let mut r = Reader::new(&b);
            assert_eq!(r.read_long().unwrap(), v);
            r.finish().unwrap();
        }
    }

    #[test]
    fn varints_read_the_same_with_and_without_ten_bytes_at_hand() {
        let mut values = vec![0, 1, -1, 64, -65, i64::MIN, i64::MAX, 1_700_000_000_123];
        // every length from 1 to 10 bytes, both signs
        values.extend((0..63).flat_map(|s| [1i64 << s, -(1i64 << s), (1i64 << s) - 1]));
        for v in values {
            let exact = long_bytes(v);
            let mut padded = exact.clone();
            padded.extend([0x7f; 12]);
            for buf in [&exact, &padded] {
                let mut r = Reader::new(buf);
                assert_eq!(r.read_long().unwrap(), v, "{buf:02x?}");
                assert_eq!(r.pos(), exact.len(), "{buf:02x?}");
            }
        }
        // the tenth byte may only hold the top bit, with or without more input
        for tail in [&[][..], &[0u8; 5][..]] {
            for tenth in [0x02u8, 0x7f, 0x80] {
                let mut buf = vec![0xff; 9];
                buf.push(tenth);
                buf.extend(tail);
                let e = Reader::new(&buf).read_long().unwrap_err();
                assert_eq!(
                    (e.kind(), e.offset()),
                    (&DecodeErrorKind::VarintOverflow, 0)
                );
            }
        }
    }

    #[test]
    fn timestamps_equal_chrono_and_survive_the_date_cache() {
        let mut values = vec![
            0,
            -1,
            1,
            86_399_999,
            86_400_000,
            -86_400_000,
            -86_400_001,
            1_700_000_000_123,
            1_700_000_000_000,
            253_402_300_799_999,
            -62_135_596_800_000,
            i64::MIN,
            i64::MAX,
            i64::MIN / 1_000,
            i64::MAX / 1_000,
        ];
        // a pseudo-random walk over far-apart and same-day values
        let mut x: i64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..5_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            values.push(x >> 20);
            values.push((x >> 20) % 100_000_000);
        }
        for v in values {
            assert_eq!(
                timestamp(v, 1_000),
                chrono::DateTime::from_timestamp_millis(v),
                "millis {v}"
            );
            assert_eq!(
                timestamp(v, 1_000_000),
                chrono::DateTime::from_timestamp_micros(v),
                "micros {v}"
            );
        }
    }

    #[test]
    fn ascii_prefix_finds_the_first_other_byte() {
        for len in 0..100 {
            let ascii = vec![b'a'; len];
            assert_eq!(ascii_prefix(&ascii), len);
            for at in 0..len {
                for b in [0x80u8, 0xc3, 0xff] {
                    let mut v = ascii.clone();
                    v[at] = b;
                    assert_eq!(ascii_prefix(&v), at, "len {len} at {at} byte {b:#x}");
                }
            }
        }
    }

    #[test]
    fn strings_read_exactly_as_std_validates_them() {
        // pieces: ASCII, 2/3/4-byte chars, invalid bytes (a lone continuation, a truncated
        // lead, an over-long form, a surrogate), in pseudo-random strings between varints
        let pieces: [&[u8]; 9] = [
            b"a",
            b"audit-",
            "\u{e4}".as_bytes(),
            "\u{20ac}".as_bytes(),
            "\u{1f600}".as_bytes(),
            &[0x80],
            &[0xe2, 0x82],
            &[0xc0, 0xaf],
            &[0xed, 0xa0, 0x80],
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |m: u64| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            usize::try_from((x >> 33) % m).unwrap()
        };
        let (mut valid, mut invalid) = (0, 0);
        for _ in 0..3_000 {
            let mut datum = Vec::new();
            let mut expected = Vec::new();
            for _ in 0..next(6) + 1 {
                let mut s = Vec::new();
                for _ in 0..next(40) {
                    // mostly ASCII, as real commands are
                    let piece = if next(4) == 0 { next(9) } else { next(2) };
                    s.extend_from_slice(pieces[piece]);
                }
                write_long(&mut datum, i64::try_from(s.len()).unwrap());
                datum.extend_from_slice(&s);
                expected.push((Some(s), datum.len()));
                // a timestamp-like varint between strings ends a run of valid text
                if next(2) == 0 {
                    write_long(&mut datum, 1_700_000_000_123);
                    expected.push((None, datum.len()));
                }
            }
            let mut r = Reader::new(&datum);
            for (e, end) in &expected {
                let Some(s) = e else {
                    r.read_long().unwrap();
                    continue;
                };
                let (want, got) = (std::str::from_utf8(s), r.read_str());
                assert_eq!(got.is_ok(), want.is_ok(), "{s:02x?}: {got:?}");
                if let Ok(want) = want {
                    assert_eq!(got.unwrap(), want);
                    valid += 1;
                } else {
                    assert_eq!(got.unwrap_err().kind(), &DecodeErrorKind::InvalidUtf8);
                    invalid += 1;
                    // go on after the string the reader refused (with a new run)
                    r = Reader::new(&datum);
                    r.pos = *end;
                }
            }
            r.finish().unwrap();
        }
        assert!(
            valid > 1_000 && invalid > 1_000,
            "{valid} valid, {invalid} invalid"
        );
    }

    #[test]
    fn reads_are_bounded() {
        let mut r = Reader::new(&[0x80]);
        assert_eq!(
            r.read_long().unwrap_err().kind(),
            &DecodeErrorKind::UnexpectedEof
        );
        let mut r = Reader::new(&[0x80; 10]);
        assert_eq!(
            r.read_long().unwrap_err().kind(),
            &DecodeErrorKind::VarintOverflow
        );
        let mut r = Reader::new(&[6, b'a']);
        assert!(matches!(
            r.read_string().unwrap_err().kind(),
            DecodeErrorKind::LengthExceedsInput {
                length: 3,
                remaining: 1
            }
        ));
        let mut r = Reader::new(&[2, 0xff]);
        assert_eq!(
            r.read_string().unwrap_err().kind(),
            &DecodeErrorKind::InvalidUtf8
        );
        let mut r = Reader::new(&[4]);
        assert_eq!(r.read_int().unwrap(), 2);
        let b = long_bytes(i64::from(i32::MAX) + 1);
        assert!(matches!(
            Reader::new(&b).read_int().unwrap_err().kind(),
            DecodeErrorKind::IntOutOfRange(_)
        ));
    }

    #[test]
    fn block_counts_are_bounded_by_input_or_cap() {
        // 3 items of at least 2 bytes need 6 bytes
        let mut r = Reader::new(&[6, 0, 0, 0, 0]);
        assert!(matches!(
            r.read_block_count(2, 0).unwrap_err().kind(),
            DecodeErrorKind::BlockCountExceedsInput {
                count: 3,
                remaining: 4
            }
        ));
        let mut r = Reader::new(&[6, 0, 0, 0, 0, 0, 0]);
        assert_eq!(r.read_block_count(2, 0).unwrap(), 3);
        // negative count: the byte size follows and must fit
        let mut r = Reader::new(&[3, 4, 0, 0, 0, 0]);
        assert_eq!(r.read_block_count(2, 0).unwrap(), 2);
        let mut r = Reader::new(&[3, 40, 0, 0]);
        assert!(matches!(
            r.read_block_count(2, 0).unwrap_err().kind(),
            DecodeErrorKind::LengthExceedsInput { length: 20, .. }
        ));
        // zero-size items: capped in total
        let b = long_bytes(MAX_ZERO_SIZE_ITEMS as i64);
        assert_eq!(
            Reader::new(&b).read_block_count(0, 0).unwrap(),
            MAX_ZERO_SIZE_ITEMS as usize
        );
        assert_eq!(
            Reader::new(&b).read_block_count(0, 1).unwrap_err().kind(),
            &DecodeErrorKind::TooManyItems
        );
        let b = long_bytes(i64::MIN);
        assert!(Reader::new(&b).read_block_count(1, 0).is_err());
    }

    type Reads = Vec<Result<String, DecodeError>>;

    /// Reads strings until the first error: the amortised UTF-8 runs must give exactly what
    /// validating every string on its own gives.
    fn strings_both_ways(buf: &[u8]) -> (Reads, Reads) {
        let mut ours = Vec::new();
        let mut r = Reader::new(buf);
        loop {
            let res = r.read_str().map(str::to_owned);
            let stop = res.is_err();
            ours.push(res);
            if stop {
                break;
            }
        }
        let mut reference = Vec::new();
        let mut r = Reader::new(buf);
        loop {
            let res = r.read_len().and_then(|(b, _, start)| {
                std::str::from_utf8(b)
                    .map(str::to_owned)
                    .map_err(|_| DecodeError::new(DecodeErrorKind::InvalidUtf8, start))
            });
            let stop = res.is_err();
            reference.push(res);
            if stop {
                break;
            }
        }
        (ours, reference)
    }

    #[test]
    fn utf8_runs_agree_with_validating_each_string() {
        // a string whose bytes continue a multi-byte char begun before it, one that ends
        // inside a char the next bytes complete, valid strings after invalid bytes
        let cases: &[&[u8]] = &[
            &[4, b'a', b'b', 2, b'c', 0],
            &[2, 0xc3, 2, 0xa9, 0],
            &[2, 0xa9, 0],
            &[4, 0xc3, 0xa9, 2, b'x', 0],
            &[2, 0xff, 2, b'x'],
            &[6, b'a', 0xe2, 0x82, 2, 0xac, 0],
            &[8, 0xe2, 0x82, 0xac, b'z', 0],
        ];
        for case in cases {
            let (ours, reference) = strings_both_ways(case);
            assert_eq!(ours, reference, "{case:02x?}");
        }
        // random buffers over lengths and bytes that make runs start, end and overlap
        const ALPHABET: &[u8] = &[
            0, 2, 4, 6, b'a', 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0xff,
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            let mut buf = Vec::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 24) as usize;
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                buf.push(
                    ALPHABET
                        .get((seed % ALPHABET.len() as u64) as usize)
                        .copied()
                        .unwrap_or(0),
                );
            }
            let (ours, reference) = strings_both_ways(&buf);
            assert_eq!(ours, reference, "{buf:02x?}");
        }
    }

    #[test]
    fn error_paths_read_outside_in() {
        let e = DecodeError::new(DecodeErrorKind::InvalidUtf8, 7)
            .field("value")
            .index(2)
            .field("objectData")
            .field("auditedData");
        assert_eq!(e.path().to_string(), "auditedData.objectData[2].value");
        assert_eq!(
            e.to_string(),
            "at auditedData.objectData[2].value (byte 7): string is not valid UTF-8"
        );
        assert_eq!(
            EncodeError::new("x").key("k").field("m").path.to_string(),
            "m[\"k\"]"
        );
    }
}
