//! Decodes arbitrary bytes through every typed decoder of audit-schema: the newest schema, each
//! known writer version, Confluent-framed and single-object-framed data. Every call must return
//! (Ok or a typed error), never panic, and the peak heap use of one input must stay within
//! `MAX_PEAK_PER_BYTE` bytes per input byte plus `MAX_PEAK_BASE` (asserted, so libFuzzer reports
//! a violation as a crash). New maxima are printed to stderr.
#![no_main]

#[path = "peak_alloc.rs"]
mod peak_alloc;

use audit_schema::{CreateAuditRecordCommand, SchemaVersion, confluent, single_object};
use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOC: peak_alloc::Counting = peak_alloc::Counting;

/// The decoded value takes more room than its encoding (a 2-byte event-data entry becomes two
/// `CompactString`s, 48 bytes, in a `Vec` that may have grown by doubling), so the bound is linear.
const MAX_PEAK_PER_BYTE: usize = 256;
const MAX_PEAK_BASE: usize = 16 * 1024;

/// Runs every decoder on `data`; true when one of them decoded a message. Each result is
/// dropped before the next decoder runs, so the peak is that of the hungriest decoder.
fn decode_all(data: &[u8]) -> bool {
    let mut decoded = CreateAuditRecordCommand::from_avro_datum(data).is_ok();
    for &version in SchemaVersion::ALL {
        decoded |= CreateAuditRecordCommand::from_avro_datum_as(data, version).is_ok();
    }
    if let Ok((_schema_id, datum)) = confluent::unframe(data) {
        decoded |= CreateAuditRecordCommand::from_avro_datum(datum).is_ok();
    }
    if let Ok((fingerprint, datum)) = single_object::unframe(data) {
        if let Some(version) = SchemaVersion::from_fingerprint(fingerprint) {
            decoded |= CreateAuditRecordCommand::from_avro_datum_as(datum, version).is_ok();
        }
    }
    decoded
}

fuzz_target!(|data: &[u8]| {
    let baseline = peak_alloc::reset();
    let decoded = decode_all(data);
    let peak = peak_alloc::peak_since(baseline);
    peak_alloc::record("decode", 0, data.len(), peak);
    if decoded {
        peak_alloc::record("decode", 1, data.len(), peak);
    }
    assert!(
        peak <= MAX_PEAK_BASE + MAX_PEAK_PER_BYTE * data.len(),
        "decoding {} bytes allocated {peak} bytes at peak",
        data.len()
    );
});
