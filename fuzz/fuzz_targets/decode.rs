//! Decodes arbitrary bytes through every typed decoder of audit-schema: the newest schema (owned
//! and zero-copy view), each known writer version, Confluent-framed and single-object-framed
//! data. Every call must return (Ok or a typed error), never panic. A decoder that FAILS must
//! have held at most `input size + DECODE_ALLOC_SLACK + ERROR_ALLOWANCE` bytes of heap (asserted
//! per decoder call, so libFuzzer reports a violation as a crash); a decoder that succeeds holds
//! what the decoded message needs (asserted against a generous linear bound). New maxima are
//! printed to stderr.
#![no_main]

#[path = "peak_alloc.rs"]
mod peak_alloc;

use audit_schema::{
    CreateAuditRecordCommand, CreateAuditRecordCommandRef, DECODE_ALLOC_SLACK, SchemaVersion,
    confluent, single_object,
};
use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOC: peak_alloc::Counting = peak_alloc::Counting;

/// Heap of the error value itself (boxed decode error with its path, then `Error`).
const ERROR_ALLOWANCE: usize = 512;

/// A decoded message takes more room than its encoding (a 2-byte event-data entry becomes two
/// `CompactString`s, 48 bytes), so the bound for successful decodes is linear.
const MAX_PEAK_PER_BYTE: usize = 256;
const MAX_PEAK_BASE: usize = 16 * 1024;

/// Runs one decoder on `datum` (a part of `data`) and checks its peak heap use.
fn check<'a, T, E>(data: &[u8], datum: &'a [u8], decode: impl FnOnce(&'a [u8]) -> Result<T, E>) {
    // parsed once per process (not per input): keep it out of the measurement
    audit_schema::prepare_decoders();
    let baseline = peak_alloc::reset();
    let ok = decode(datum).is_ok();
    let peak = peak_alloc::peak_since(baseline);
    if ok {
        peak_alloc::record("decode", 1, data.len(), peak);
        assert!(
            peak <= MAX_PEAK_BASE + MAX_PEAK_PER_BYTE * data.len(),
            "decoding {} bytes allocated {peak} bytes at peak",
            data.len()
        );
    } else {
        peak_alloc::record("decode", 0, data.len(), peak);
        assert!(
            peak <= datum.len() + DECODE_ALLOC_SLACK + ERROR_ALLOWANCE,
            "failing to decode {} bytes held {peak} bytes of heap",
            datum.len()
        );
    }
}

fuzz_target!(|data: &[u8]| {
    check(data, data, CreateAuditRecordCommand::from_avro_datum);
    check(data, data, CreateAuditRecordCommandRef::from_avro_datum);
    for &version in SchemaVersion::ALL {
        check(data, data, |d| CreateAuditRecordCommand::from_avro_datum_as(d, version));
    }
    if let Ok((_schema_id, datum)) = confluent::unframe(data) {
        check(data, datum, CreateAuditRecordCommand::from_avro_datum);
    }
    if let Ok((fingerprint, datum)) = single_object::unframe(data) {
        if let Some(version) = SchemaVersion::from_fingerprint(fingerprint) {
            check(data, datum, |d| CreateAuditRecordCommand::from_avro_datum_as(d, version));
        }
    }
});
