//! The generic writer-schema path: the only module that uses apache-avro.
//!
//! Writer schemas whose Parsing Canonical Form matches a known version take the generated fast
//! path; any other writer schema is parsed by apache-avro, checked for compatibility with the
//! newest schema, and its data resolved by apache-avro into the newest schema, re-encoded and
//! decoded by the generated decoder (so the result is always the typed value).

use std::collections::HashMap;
use std::sync::OnceLock;

use apache_avro::Schema;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::schema_compatibility::SchemaCompatibility;
use apache_avro::types::Value;
use apache_avro::writer::datum::GenericDatumWriter;
use audit_avro_model::{Prim, promotion};

use crate::rt::{DecodeError, DecodeErrorKind, Reader};
use crate::{CreateAuditRecordCommand, Error, SchemaVersion, canonical};

/// A writer schema, e.g. fetched from a schema registry for a message's schema id.
///
/// ```
/// use audit_schema::{SchemaVersion, WriterSchema};
///
/// let writer = WriterSchema::parse(SchemaVersion::V1_0_0.schema_json())?;
/// // 1.0.0 and 1.0.1 differ only in an enum default, which the canonical form strips
/// assert_eq!(writer.known_version(), Some(SchemaVersion::V1_0_1));
/// assert_eq!(writer.fingerprint(), SchemaVersion::V1_0_0.fingerprint());
/// # Ok::<(), audit_schema::Error>(())
/// ```
#[derive(Debug)]
pub struct WriterSchema {
    fingerprint: u64,
    known: Option<SchemaVersion>,
    generic: Option<Schema>,
}

fn boxed(e: apache_avro::Error) -> Box<dyn std::error::Error + Send + Sync> {
    Box::new(e)
}

/// The newest schema, parsed once by apache-avro.
fn reader_schema() -> Result<&'static Schema, Error> {
    static READER: OnceLock<Result<Schema, String>> = OnceLock::new();
    READER
        .get_or_init(|| {
            Schema::parse_str(SchemaVersion::LATEST.schema_json()).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|message| Error::IncompatibleSchema {
            reader: SchemaVersion::LATEST,
            message: format!("the built-in schema does not parse: {message}"),
            source: None,
        })
}

impl WriterSchema {
    /// Parses a writer schema (the raw `.avsc` / registry text).
    ///
    /// # Errors
    /// [`Error::Canonical`] / [`Error::InvalidSchema`] for an invalid schema,
    /// [`Error::IncompatibleSchema`] when data written with it cannot be read into the types.
    pub fn parse(json: &str) -> Result<Self, Error> {
        let pcf = canonical::parsing_canonical_form(json)?;
        let fingerprint = canonical::fingerprint(&pcf);
        if let Some(v) = SchemaVersion::from_fingerprint(fingerprint) {
            return Ok(Self {
                fingerprint,
                known: Some(v),
                generic: None,
            });
        }
        let writer = Schema::parse_str(json).map_err(|e| Error::InvalidSchema {
            message: e.to_string(),
            source: boxed(e),
        })?;
        let reader = reader_schema()?;
        SchemaCompatibility::can_read(&writer, reader).map_err(|e| Error::IncompatibleSchema {
            reader: SchemaVersion::LATEST,
            message: e.to_string(),
            source: Some(Box::new(e)),
        })?;
        Ok(Self {
            fingerprint,
            known: None,
            generic: Some(writer),
        })
    }

    /// The known version with the same Parsing Canonical Form, if any (the newest of the
    /// wire-identical versions).
    #[must_use]
    pub fn known_version(&self) -> Option<SchemaVersion> {
        self.known
    }

    /// The CRC-64-AVRO fingerprint of the schema's Parsing Canonical Form.
    #[must_use]
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Decodes a datum written with this schema into the newest types.
    ///
    /// # Errors
    /// [`Error::Decode`] (known versions; on the generic path for lengths, indexes and
    /// trailing bytes), or [`Error::GenericDecode`] on the generic path.
    pub fn decode(&self, datum: &[u8]) -> Result<CreateAuditRecordCommand, Error> {
        match (&self.known, &self.generic) {
            (Some(v), _) => CreateAuditRecordCommand::from_avro_datum_as(datum, *v),
            (None, Some(writer)) => decode_generic(writer, datum),
            (None, None) => Err(Error::IncompatibleSchema {
                reader: SchemaVersion::LATEST,
                message: "no writer schema".into(),
                source: None,
            }),
        }
    }
}

fn decode_generic(writer: &Schema, datum: &[u8]) -> Result<CreateAuditRecordCommand, Error> {
    let reader = reader_schema()?;
    let generic = |e: apache_avro::Error| Error::GenericDecode {
        message: e.to_string(),
        source: boxed(e),
    };
    // first walk the datum with the bounded reader: apache-avro allocates what a length claims
    // (up to 512 MiB) before reading, so it only gets data whose every length the input backs
    let writer_names = names(writer);
    let mut r = Reader::new(datum);
    validate(writer, &writer_names, &mut r, 0, DecodeError::name)?;
    r.finish()?;
    // apache-avro only decodes with the writer schema: its own resolution (0.22) matches a
    // union of records by value shape instead of by name, so resolution is done below
    let mut input = datum;
    let written = GenericDatumReader::builder(writer)
        .build()
        .map_err(generic)?
        .read_value(&mut input)
        .map_err(generic)?;
    if !input.is_empty() {
        return Err(Error::Decode(DecodeError::new(
            DecodeErrorKind::TrailingBytes(input.len()),
            datum.len() - input.len(),
        )));
    }
    let resolver = Resolver {
        writer_names,
        reader_names: names(reader),
    };
    let resolved = resolver
        .resolve(written, writer, reader, "")
        .map_err(|message| Error::IncompatibleSchema {
            reader: SchemaVersion::LATEST,
            message,
            source: None,
        })?;
    let bytes = GenericDatumWriter::builder(reader)
        .build()
        .map_err(generic)?
        .write_value_to_vec(resolved)
        .map_err(generic)?;
    CreateAuditRecordCommand::from_avro_datum(&bytes)
}

/// Nesting limit of the generic path (schemas from outside may be recursive).
const MAX_DEPTH: usize = 64;

fn deref<'s>(names: &HashMap<String, &'s Schema>, s: &'s Schema) -> Option<&'s Schema> {
    match s {
        Schema::Ref { name } => names.get(&name.fullname(None)).copied(),
        other => Some(other),
    }
}

/// Minimum encoded size of a value of `s` (0 inside a recursion).
fn min_size(names: &HashMap<String, &Schema>, s: &Schema, depth: usize) -> usize {
    let Some(s) = deref(names, s) else { return 0 };
    if depth > MAX_DEPTH {
        return 0;
    }
    match s {
        Schema::Null => 0,
        Schema::Float => 4,
        Schema::Double => 8,
        Schema::Fixed(f) | Schema::Duration(f) => f.size,
        Schema::Record(r) => r
            .fields
            .iter()
            .map(|f| min_size(names, &f.schema, depth + 1))
            .sum(),
        Schema::Union(u) => {
            1 + u
                .variants()
                .iter()
                .map(|b| min_size(names, b, depth + 1))
                .min()
                .unwrap_or(0)
        }
        _ => 1,
    }
}

/// The built-in schema versions (in [`SchemaVersion::ALL`] order), parsed once, with their names.
fn known_schemas() -> &'static [(&'static Schema, HashMap<String, &'static Schema>)] {
    static SCHEMAS: OnceLock<Vec<Schema>> = OnceLock::new();
    static NAMED: OnceLock<Vec<(&'static Schema, HashMap<String, &'static Schema>)>> =
        OnceLock::new();
    NAMED.get_or_init(|| {
        SCHEMAS
            .get_or_init(|| {
                SchemaVersion::ALL
                    .iter()
                    .filter_map(|v| Schema::parse_str(v.schema_json()).ok())
                    .collect()
            })
            .iter()
            .map(|s| (s, names(s)))
            .collect()
    })
}

/// Parses the built-in schemas for [`validate_known`] now.
pub(crate) fn prepare() {
    let _ = known_schemas();
    let _ = reader_schema();
}

/// Index of `version` in [`SchemaVersion::ALL`] (the tag of [`validate_known`]).
pub(crate) fn version_tag(version: SchemaVersion) -> usize {
    SchemaVersion::ALL
        .iter()
        .position(|v| *v == version)
        .unwrap_or(usize::MAX)
}

/// Validates a whole datum written with the built-in version of index `tag` without
/// allocating: the [`Validator`](crate::rt::Validator) of the bounded decoders.
pub(crate) fn validate_known(datum: &[u8], tag: usize) -> Result<(), DecodeError> {
    let Some((schema, names)) = known_schemas()
        .get(tag)
        .filter(|_| known_schemas().len() == SchemaVersion::ALL.len())
    else {
        return Err(DecodeError::new(DecodeErrorKind::Unvalidated, 0));
    };
    let mut r = Reader::new(datum);
    validate(schema, names, &mut r, 0, DecodeError::field)?;
    r.finish()
}

/// Walks one value of writer schema `s` with the bounded reader (no allocation), with the same
/// checks as the generated decoders; `field` adds a record field to an error's path.
fn validate<'s>(
    s: &'s Schema,
    names: &HashMap<String, &'s Schema>,
    r: &mut Reader<'_>,
    depth: usize,
    field: fn(DecodeError, &'s str) -> DecodeError,
) -> Result<(), DecodeError> {
    if depth > MAX_DEPTH {
        return Err(r.error(DecodeErrorKind::NestingTooDeep(MAX_DEPTH)));
    }
    let Some(s) = deref(names, s) else {
        return Err(r.error(DecodeErrorKind::NoMatchingBranch("undefined name")));
    };
    match s {
        Schema::Null => Ok(()),
        Schema::Boolean => r.skip(1),
        Schema::Float => r.skip(4),
        Schema::Double => r.skip(8),
        Schema::Fixed(f) | Schema::Duration(f) => r.skip(f.size),
        Schema::String | Schema::Uuid(apache_avro::schema::UuidSchema::String) => {
            r.read_str().map(|_| ())
        }
        Schema::Bytes | Schema::BigDecimal | Schema::Uuid(_) => r.skip_bytes(),
        Schema::Decimal(d) => match &d.inner {
            apache_avro::schema::InnerDecimalSchema::Fixed(f) => r.skip(f.size),
            apache_avro::schema::InnerDecimalSchema::Bytes => r.skip_bytes(),
        },
        Schema::Enum(e) => r.read_enum_index(e.symbols.len()).map(|_| ()),
        Schema::Union(u) => {
            let i = r.read_union_index(u.variants().len())?;
            match u.variants().get(i) {
                Some(b) => validate(b, names, r, depth + 1, field),
                None => Err(r.error(DecodeErrorKind::UnionIndex {
                    index: i64::try_from(i).unwrap_or(i64::MAX),
                    branches: u.variants().len(),
                })),
            }
        }
        Schema::Record(rec) => rec.fields.iter().try_for_each(|f| {
            validate(&f.schema, names, r, depth + 1, field).map_err(|e| field(e, &f.name))
        }),
        Schema::Array(a) => {
            let min = min_size(names, &a.items, depth + 1);
            let mut count = 0usize;
            loop {
                let n = r.read_block_count(min, count)?;
                if n == 0 {
                    return Ok(());
                }
                for _ in 0..n {
                    validate(&a.items, names, r, depth + 1, field).map_err(|e| e.index(count))?;
                    count += 1;
                }
            }
        }
        Schema::Map(m) => {
            let min = 1 + min_size(names, &m.types, depth + 1);
            let mut count = 0usize;
            loop {
                let n = r.read_block_count(min, count)?;
                if n == 0 {
                    return Ok(());
                }
                for _ in 0..n {
                    let k = r.read_str()?;
                    validate(&m.types, names, r, depth + 1, field).map_err(|e| e.key(k))?;
                    count += 1;
                }
            }
        }
        Schema::TimestampMillis => r.read_timestamp_millis().map(|_| ()),
        Schema::TimestampMicros => r.read_timestamp_micros().map(|_| ()),
        // int, long and their other logical types
        _ => r.read_long().map(|_| ()),
    }
}

/// Full name -> definition of every named type in `schema`.
fn names(schema: &Schema) -> HashMap<String, &Schema> {
    fn walk<'a>(s: &'a Schema, out: &mut HashMap<String, &'a Schema>) {
        match s {
            Schema::Record(r) => {
                let first = out.insert(r.name.fullname(None), s).is_none();
                r.fields
                    .iter()
                    .filter(|_| first)
                    .for_each(|f| walk(&f.schema, out));
            }
            Schema::Enum(e) => {
                out.insert(e.name.fullname(None), s);
            }
            Schema::Fixed(f) => {
                out.insert(f.name.fullname(None), s);
            }
            Schema::Array(a) => walk(&a.items, out),
            Schema::Map(m) => walk(&m.types, out),
            Schema::Union(u) => u.variants().iter().for_each(|b| walk(b, out)),
            _ => {}
        }
    }
    let mut out = HashMap::new();
    walk(schema, &mut out);
    out
}

/// The wire kind of a schema (logical types reduced to their base type).
fn kind(s: &Schema) -> &'static str {
    match s {
        Schema::Null => "null",
        Schema::Boolean => "boolean",
        Schema::Int | Schema::Date | Schema::TimeMillis => "int",
        Schema::Long
        | Schema::TimeMicros
        | Schema::TimestampMillis
        | Schema::TimestampMicros
        | Schema::TimestampNanos
        | Schema::LocalTimestampMillis
        | Schema::LocalTimestampMicros
        | Schema::LocalTimestampNanos => "long",
        Schema::Float => "float",
        Schema::Double => "double",
        Schema::Bytes => "bytes",
        Schema::String | Schema::Uuid(_) => "string",
        Schema::Record(_) => "record",
        Schema::Enum(_) => "enum",
        Schema::Array(_) => "array",
        Schema::Map(_) => "map",
        Schema::Union(_) => "union",
        _ => "fixed",
    }
}

/// The model's promotion rule on the kind names of [`kind`].
fn promotable(w: &str, r: &str) -> bool {
    matches!(
        (Prim::from_name(w), Prim::from_name(r)),
        (Some(w), Some(r)) if promotion::promotes(w, r)
    )
}

/// Avro schema resolution on apache-avro `Value`s, with union branches matched by name.
struct Resolver<'a> {
    writer_names: HashMap<String, &'a Schema>,
    reader_names: HashMap<String, &'a Schema>,
}

impl<'a> Resolver<'a> {
    fn deref<'s>(names: &HashMap<String, &'s Schema>, s: &'s Schema) -> Result<&'s Schema, String> {
        match s {
            Schema::Ref { name } => names
                .get(&name.fullname(None))
                .copied()
                .ok_or_else(|| format!("undefined name {}", name.fullname(None))),
            other => Ok(other),
        }
    }

    /// Writer branch `w` and reader branch `r` are the same type (named: same short name).
    fn same_type(&self, w: &Schema, r: &Schema) -> Result<bool, String> {
        let w = Self::deref(&self.writer_names, w)?;
        let r = Self::deref(&self.reader_names, r)?;
        Ok(kind(w) == kind(r)
            && match (w.name(), r.name()) {
                (Some(a), Some(b)) => a.name() == b.name(),
                _ => true,
            })
    }

    fn pick(&self, w: &Schema, branches: &'a [Schema]) -> Result<(usize, &'a Schema), String> {
        for (j, b) in branches.iter().enumerate() {
            if self.same_type(w, b)? {
                return Ok((j, b));
            }
        }
        let wk = kind(Self::deref(&self.writer_names, w)?);
        for (j, b) in branches.iter().enumerate() {
            if promotable(wk, kind(Self::deref(&self.reader_names, b)?)) {
                return Ok((j, b));
            }
        }
        Err(format!("no reader union branch for writer type {wk}"))
    }

    fn resolve(
        &self,
        v: Value,
        ws: &'a Schema,
        rs: &'a Schema,
        path: &str,
    ) -> Result<Value, String> {
        let ws = Self::deref(&self.writer_names, ws)?;
        let rs = Self::deref(&self.reader_names, rs)?;
        let at = |what: &str| {
            format!(
                "{what} at {}",
                if path.is_empty() { "<root>" } else { path }
            )
        };
        match (ws, rs, v) {
            (Schema::Union(wu), _, Value::Union(i, inner)) => {
                let wb = wu
                    .variants()
                    .get(i as usize)
                    .ok_or_else(|| at("union index outside the writer union"))?;
                self.resolve(*inner, wb, rs, path)
            }
            (_, Schema::Union(ru), v) => {
                let (j, rb) = self.pick(ws, ru.variants()).map_err(|e| at(&e))?;
                let j = u32::try_from(j).map_err(|_| at("union too large"))?;
                Ok(Value::Union(j, Box::new(self.resolve(v, ws, rb, path)?)))
            }
            (Schema::Record(wr), Schema::Record(rr), Value::Record(fields)) => {
                let mut written: HashMap<String, Value> = fields.into_iter().collect();
                let mut out = Vec::with_capacity(rr.fields.len());
                for rf in &rr.fields {
                    let sub = if path.is_empty() {
                        rf.name.clone()
                    } else {
                        format!("{path}.{}", rf.name)
                    };
                    let wf = wr
                        .fields
                        .iter()
                        .find(|wf| wf.name == rf.name || rf.aliases.contains(&wf.name));
                    let value = match (wf, wf.and_then(|wf| written.remove(&wf.name))) {
                        (Some(wf), Some(v)) => self.resolve(v, &wf.schema, &rf.schema, &sub)?,
                        _ => {
                            let d = rf.default.as_ref().ok_or_else(|| {
                                format!(
                                    "reader field {sub} is missing in the writer and has no default"
                                )
                            })?;
                            self.default_value(d, &rf.schema, &sub)?
                        }
                    };
                    out.push((rf.name.clone(), value));
                }
                Ok(Value::Record(out))
            }
            (Schema::Enum(_), Schema::Enum(re), Value::Enum(_, symbol)) => {
                let target = if re.symbols.contains(&symbol) {
                    symbol
                } else {
                    re.default
                        .clone()
                        .ok_or_else(|| at(&format!("enum symbol {symbol} unknown to the reader")))?
                };
                let i = re
                    .symbols
                    .iter()
                    .position(|s| *s == target)
                    .unwrap_or_default();
                Ok(Value::Enum(u32::try_from(i).unwrap_or_default(), target))
            }
            (Schema::Array(wa), Schema::Array(ra), Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(i, x)| self.resolve(x, &wa.items, &ra.items, &format!("{path}[{i}]")))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            (Schema::Map(wm), Schema::Map(rm), Value::Map(items)) => items
                .into_iter()
                .map(|(k, x)| {
                    let sub = format!("{path}[{k:?}]");
                    Ok((k, self.resolve(x, &wm.types, &rm.types, &sub)?))
                })
                .collect::<Result<HashMap<_, _>, String>>()
                .map(Value::Map),
            (_, _, v) => Self::primitive(v, rs).ok_or_else(|| {
                at(&format!(
                    "cannot read writer type {} as {}",
                    kind(ws),
                    kind(rs)
                ))
            }),
        }
    }

    /// Primitive values, with the Avro promotions and logical timestamps.
    #[allow(clippy::cast_precision_loss)] // Avro's promotions int/long -> float/double round, by specification
    fn primitive(v: Value, rs: &Schema) -> Option<Value> {
        Some(match (v, rs) {
            (Value::Null, Schema::Null) => Value::Null,
            (Value::Boolean(b), Schema::Boolean) => Value::Boolean(b),
            (Value::Int(n), Schema::Int) => Value::Int(n),
            (Value::Int(n), Schema::Long) => Value::Long(i64::from(n)),
            (Value::Int(n), Schema::Float) => Value::Float(n as f32),
            (Value::Int(n), Schema::Double) => Value::Double(f64::from(n)),
            (Value::Long(n) | Value::TimestampMillis(n), Schema::Long) => Value::Long(n),
            (Value::Long(n) | Value::TimestampMillis(n), Schema::TimestampMillis) => {
                Value::TimestampMillis(n)
            }
            (Value::Long(n), Schema::Float) => Value::Float(n as f32),
            (Value::Long(n), Schema::Double) => Value::Double(n as f64),
            (Value::Float(x), Schema::Float) => Value::Float(x),
            (Value::Float(x), Schema::Double) => Value::Double(f64::from(x)),
            (Value::Double(x), Schema::Double) => Value::Double(x),
            (Value::String(s), Schema::String) => Value::String(s),
            (Value::String(s), Schema::Bytes) => Value::Bytes(s.into_bytes()),
            (Value::Bytes(b), Schema::Bytes) => Value::Bytes(b),
            (Value::Bytes(b), Schema::String) => Value::String(String::from_utf8(b).ok()?),
            (Value::Fixed(n, b), Schema::Fixed(f)) if f.size == n => Value::Fixed(n, b),
            _ => return None,
        })
    }

    /// The `Value` of a JSON field default for reader schema `rs`.
    #[allow(clippy::cast_possible_truncation)] // a JSON number as a `float` default: the nearest f32
    fn default_value(
        &self,
        d: &serde_json::Value,
        rs: &'a Schema,
        path: &str,
    ) -> Result<Value, String> {
        use serde_json::Value as J;
        let rs = Self::deref(&self.reader_names, rs)?;
        let bad = || format!("default of {path} does not fit its schema");
        Ok(match (rs, d) {
            (Schema::Union(u), _) => {
                // null when the default is null and there is a null branch, else the first branch
                let (j, b) = u
                    .variants()
                    .iter()
                    .enumerate()
                    .find(|(_, b)| d.is_null() == matches!(b, Schema::Null))
                    .ok_or_else(bad)?;
                let j = u32::try_from(j).map_err(|_| bad())?;
                Value::Union(j, Box::new(self.default_value(d, b, path)?))
            }
            (Schema::Null, J::Null) => Value::Null,
            (Schema::Boolean, J::Bool(b)) => Value::Boolean(*b),
            (Schema::Int, J::Number(n)) => Value::Int(
                n.as_i64()
                    .and_then(|n| i32::try_from(n).ok())
                    .ok_or_else(bad)?,
            ),
            (Schema::Long, J::Number(n)) => Value::Long(n.as_i64().ok_or_else(bad)?),
            (Schema::TimestampMillis, J::Number(n)) => {
                Value::TimestampMillis(n.as_i64().ok_or_else(bad)?)
            }
            (Schema::Float, J::Number(n)) => Value::Float(n.as_f64().ok_or_else(bad)? as f32),
            (Schema::Double, J::Number(n)) => Value::Double(n.as_f64().ok_or_else(bad)?),
            (Schema::String, J::String(s)) => Value::String(s.clone()),
            (Schema::Bytes, J::String(s)) => {
                Value::Bytes(s.chars().map(|c| (u32::from(c) & 0xff) as u8).collect())
            }
            (Schema::Enum(e), J::String(s)) => {
                let i = e.symbols.iter().position(|x| x == s).ok_or_else(bad)?;
                Value::Enum(u32::try_from(i).map_err(|_| bad())?, s.clone())
            }
            (Schema::Array(a), J::Array(items)) => Value::Array(
                items
                    .iter()
                    .map(|x| self.default_value(x, &a.items, path))
                    .collect::<Result<_, _>>()?,
            ),
            (Schema::Map(m), J::Object(o)) => Value::Map(
                o.iter()
                    .map(|(k, x)| Ok((k.clone(), self.default_value(x, &m.types, path)?)))
                    .collect::<Result<_, String>>()?,
            ),
            (Schema::Record(r), J::Object(o)) => Value::Record(
                r.fields
                    .iter()
                    .map(|f| {
                        let x = o.get(&f.name).or(f.default.as_ref()).ok_or_else(bad)?;
                        Ok((f.name.clone(), self.default_value(x, &f.schema, path)?))
                    })
                    .collect::<Result<_, String>>()?,
            ),
            _ => return Err(bad()),
        })
    }
}
