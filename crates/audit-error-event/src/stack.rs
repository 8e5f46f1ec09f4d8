//! The cause chain as `payload.stackTrace` and its hash as `payload.stackTraceHash`.
//!
//! jEAP writes Java's `printStackTrace` of the handler exception (class and message per
//! throwable, its frames, `Caused by:` per cause) and hashes the exception with
//! logstash-logback-encoder's `StackHasher`: from the root cause up, `h = 31 * h +
//! className.hashCode()` and, per stack frame that passes the exclusion filter, `h = 31 * h +
//! frameHash`; rendered as `%08x` of the 32-bit result. Rust errors have no class names and no
//! frames, so here:
//! - the "class name" of each error of the chain is its *kind*: the leading identifier of its
//!   `Debug` form (the variant or struct name: `Decode` for `Decode { .. }`, `Custom` for an
//!   `io::Error`), `Error` when that form starts with no identifier; the top of the chain is the
//!   error code (e.g. `DESERIALIZATION_FAILED`);
//! - there are no frame terms.
//!
//! The hash thus stays the same for recurring failures of the same kind whatever their data (ids,
//! offsets, lengths in the messages), like jEAP's, and differs when the kinds of the chain differ.

use std::error::Error as StdError;
use std::fmt::Write as _;

use crate::ErrorInfo;

/// Causes followed at most (a guard against pathological `source()` chains).
const MAX_CHAIN: usize = 64;

/// Java's `String.hashCode()`: `s[0]*31^(n-1) + ... + s[n-1]` over the UTF-16 code units,
/// wrapping in 32 bits.
#[must_use]
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// The kind of an error: the leading identifier of its `Debug` form, `Error` when there is none.
pub(crate) fn kind(e: &(dyn StdError + 'static)) -> String {
    let debug = format!("{e:?}");
    let ident: String = debug
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if ident.is_empty() || ident.starts_with(|c: char| c.is_ascii_digit()) {
        "Error".to_owned()
    } else {
        ident
    }
}

/// The causes of `error`, outermost first.
pub(crate) fn chain<'e>(error: &ErrorInfo<'e>) -> Vec<&'e (dyn StdError + 'static)> {
    let mut out = Vec::new();
    let mut next = error.cause;
    while let Some(e) = next {
        if out.len() == MAX_CHAIN {
            break;
        }
        out.push(e);
        next = e.source();
    }
    out
}

/// The text of `payload.stackTrace` (before truncation): `{code}: {message}` and, per cause,
/// outermost first, `Caused by: {kind}: {cause}`, every line ending with `\n` (as Java's
/// `printStackTrace` ends every line).
#[must_use]
pub fn stack_trace(error: &ErrorInfo<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", error.code, error.message);
    for cause in chain(error) {
        let _ = writeln!(out, "Caused by: {}: {cause}", kind(cause));
    }
    out
}

/// The `payload.stackTraceHash` of `error`: jEAP's `StackHasher` formula (see the module docs)
/// over the kinds of the cause chain, root cause first, then the error code; 8 lowercase hex
/// digits.
#[must_use]
pub fn stack_trace_hash(error: &ErrorInfo<'_>) -> String {
    let mut h = 0i32;
    for cause in chain(error).iter().rev() {
        h = h
            .wrapping_mul(31)
            .wrapping_add(java_string_hash(&kind(*cause)));
    }
    h = h
        .wrapping_mul(31)
        .wrapping_add(java_string_hash(error.code));
    format!("{:08x}", h.cast_unsigned())
}

/// Java's `truncateStackTrace`: at most `max` UTF-16 code units, `...` appended when cut. A
/// surrogate pair that would be split is dropped whole (Java would keep its first half, which
/// the Avro encoder then writes as `?`).
pub(crate) fn truncate(text: String, max: usize) -> String {
    if text.encode_utf16().count() <= max {
        return text;
    }
    let mut units = 0usize;
    let mut end = 0usize;
    for (i, c) in text.char_indices() {
        if units + c.len_utf16() > max {
            break;
        }
        units += c.len_utf16();
        end = i + c.len_utf8();
    }
    let mut out = String::with_capacity(end + 3);
    out.push_str(text.get(..end).unwrap_or_default());
    out.push_str("...");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_hash_code_of_known_strings() {
        // String.hashCode() values printed by Java 17 for these strings
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        assert_eq!(java_string_hash("hello"), 99_162_322);
        assert_eq!(java_string_hash("java.lang.Exception"), 72_706_427);
        assert_eq!(java_string_hash("DESERIALIZATION_FAILED"), -768_256_627);
        // beyond the BMP: two UTF-16 units (0xD83D 0xDE00)
        assert_eq!(java_string_hash("\u{1F600}"), 0xD83D * 31 + 0xDE00);
    }

    #[test]
    fn truncation_counts_utf16_units() {
        assert_eq!(truncate("abcdef".into(), 6), "abcdef");
        assert_eq!(truncate("abcdef".into(), 4), "abcd...");
        assert_eq!(truncate("äöü".into(), 2), "äö...");
        // the emoji takes two units: with one left it is dropped whole
        assert_eq!(truncate("a\u{1F600}b".into(), 2), "a...");
        assert_eq!(truncate("a\u{1F600}b".into(), 3), "a\u{1F600}...");
        assert_eq!(truncate("abc".into(), 0), "...");
    }
}
