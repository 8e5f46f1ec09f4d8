//! Malformed error-event datums: typed errors, and no more heap than the input's size plus
//! `DECODE_ALLOC_SLACK` before the whole input is validated (the headers map is where a small
//! input would otherwise make the decoder allocate most: a B-tree entry per two input bytes).

use audit_error_event::{
    ErrorEventConfig, ErrorInfo, FailedRecord, MessageProcessingFailedEvent, Temporality,
};
use audit_schema::DECODE_ALLOC_SLACK;

use crate::cases::{SERVICE, SYSTEM, TOPIC, identity};

/// Heap of the error value itself, on top of the decoder's bound.
const ERROR_ALLOWANCE: usize = 512;

fn peak_heap<T, E>(decode: impl FnOnce() -> Result<T, E>) -> (bool, usize) {
    let mut ok = false;
    let info = allocation_counter::measure(|| ok = decode().is_ok());
    (ok, usize::try_from(info.bytes_max).unwrap_or(usize::MAX))
}

/// An event whose metadata holds `n` preserved headers with one-byte values.
fn many_headers(n: usize) -> Vec<u8> {
    let names: Vec<String> = (0..n).map(|i| format!("h{i}")).collect();
    let headers: Vec<(&str, Option<&[u8]>)> = names
        .iter()
        .map(|k| (k.as_str(), Some(&b"v"[..])))
        .collect();
    let config = ErrorEventConfig::new(SYSTEM, SERVICE)
        .unwrap()
        .with_preserved_headers(names.iter().cloned());
    let record = FailedRecord::new(TOPIC, 0, 0).with_headers(&headers);
    let error = ErrorInfo::new("E", Temporality::Permanent, "m");
    let event = config.build_event(&record, &error, identity(1));
    assert_eq!(
        event
            .event
            .payload
            .failed_message_metadata
            .as_ref()
            .unwrap()
            .headers
            .len(),
        n
    );
    event.value_datum()
}

#[test]
fn a_valid_event_that_needs_more_heap_than_the_slack_decodes() {
    let datum = many_headers(2000);
    let (ok, peak) = peak_heap(|| MessageProcessingFailedEvent::from_avro_datum(&datum));
    assert!(ok);
    // the B-tree needs far more than input + slack: the validator ran and lifted the bound
    assert!(peak > datum.len() + DECODE_ALLOC_SLACK, "{peak}");
    let event = MessageProcessingFailedEvent::from_avro_datum(&datum).unwrap();
    assert_eq!(event.to_avro_datum(), datum);
}

#[test]
fn a_truncated_event_fails_within_the_bound() {
    let datum = many_headers(2000);
    let bound = datum.len() + DECODE_ALLOC_SLACK + ERROR_ALLOWANCE;
    // cut inside the headers map (its end is near the end of the datum) and at other places
    for cut in [datum.len() - 20, datum.len() - 1, datum.len() / 2, 10] {
        let (ok, peak) = peak_heap(|| MessageProcessingFailedEvent::from_avro_datum(&datum[..cut]));
        assert!(!ok, "{cut}");
        assert!(peak <= bound, "cut {cut}: peak {peak} > bound {bound}");
    }
    let err =
        MessageProcessingFailedEvent::from_avro_datum(&datum[..datum.len() - 20]).unwrap_err();
    assert!(
        err.to_string()
            .contains("payload.failedMessageMetadata.headers"),
        "{err}"
    );
}
