//! Decodes arbitrary bytes through the generic writer-schema path of audit-schema
//! (`WriterSchema::decode` with a writer that is not a known version, so apache-avro's schema
//! resolution runs), and records the peak heap use per input. Never a panic; the peak is
//! reported, and asserted against a generous linear bound.
#![no_main]

#[path = "peak_alloc.rs"]
mod peak_alloc;

use std::sync::OnceLock;

use audit_schema::WriterSchema;
use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOC: peak_alloc::Counting = peak_alloc::Counting;

const MAX_PEAK_PER_BYTE: usize = 1024;
const MAX_PEAK_BASE: usize = 256 * 1024;

/// 1.0.1 with two event-type symbols the reader does not know (a fixture of audit-schema).
const UNKNOWN_WRITER: &str =
    include_str!("../../crates/audit-schema/tests/fixtures/python-avro/v1.0.1-extra-symbol/writer.avsc");

fn writer() -> &'static WriterSchema {
    static WRITER: OnceLock<WriterSchema> = OnceLock::new();
    WRITER.get_or_init(|| {
        // one-time set-up (schemas parsed once per process) stays out of the per-input peaks
        audit_schema::prepare_decoders();
        match WriterSchema::parse(UNKNOWN_WRITER) {
            Ok(w) => w,
            Err(e) => panic!("the fixture writer schema must parse: {e}"),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let writer = writer();
    let baseline = peak_alloc::reset();
    let decoded = writer.decode(data).is_ok();
    let peak = peak_alloc::peak_since(baseline);
    peak_alloc::record("decode_generic", usize::from(decoded), data.len(), peak);
    assert!(
        peak <= MAX_PEAK_BASE + MAX_PEAK_PER_BYTE * data.len(),
        "decoding {} bytes allocated {peak} bytes at peak",
        data.len()
    );
});
