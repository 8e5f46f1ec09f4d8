//! Malformed input: every case is a typed error naming the value and offset, never a panic,
//! never an allocation driven by a length the input cannot back, and never more heap than the
//! input's size plus `DECODE_ALLOC_SLACK` (plus the error itself).

use audit_schema::*;
use proptest::prelude::*;

use crate::codec::command;

/// The smallest command: all strings empty, timestamps 0, every optional part null, a user
/// trigger. Every byte of its encoding is 0.
const MINIMAL_LEN: usize = 18;
const AT_ID: usize = 0; // identity.id length
const AT_EVENT_TYPE: usize = 9;
const AT_EVENT_DATA: usize = 11;
const AT_TRIGGER: usize = 12;

fn minimal() -> Vec<u8> {
    vec![0; MINIMAL_LEN]
}

fn decode(bytes: &[u8]) -> Result<CreateAuditRecordCommand, Error> {
    CreateAuditRecordCommand::from_avro_datum(bytes)
}

/// The kind, path and offset of a decode error (`None` for other errors).
fn parts(err: &Error) -> Option<(&DecodeErrorKind, String, usize)> {
    match err {
        Error::Decode(e) => Some((e.kind(), e.path().to_string(), e.offset())),
        _ => None,
    }
}

fn splice(at: usize, remove: usize, insert: &[u8]) -> Vec<u8> {
    let mut b = minimal();
    b.splice(at..at + remove, insert.iter().copied());
    b
}

fn varint(v: i64) -> Vec<u8> {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    let mut out = Vec::new();
    loop {
        if z < 0x80 {
            out.push(z as u8);
            return out;
        }
        out.push((z as u8 & 0x7f) | 0x80);
        z >>= 7;
    }
}

#[test]
fn minimal_datum_is_all_zero_bytes() {
    let cmd = decode(&minimal()).expect("valid");
    assert_eq!(cmd.to_avro_datum(), minimal());
    assert_eq!(cmd.payload.event.r#type, AuditEventType::Created);
    assert!(matches!(cmd.payload.trigger, AuditTrigger::AuditUser(_)));
}

#[test]
fn string_length_2_pow_62_is_rejected_before_allocating() {
    let err = decode(&splice(AT_ID, 1, &varint(1 << 62))).unwrap_err();
    match parts(&err) {
        Some((DecodeErrorKind::LengthExceedsInput { length, .. }, path, offset)) => {
            assert_eq!(
                (path.as_str(), offset, *length),
                ("identity.id", 0, 1 << 62)
            );
        }
        _ => panic!("unexpected {err}"),
    }
    assert_eq!(err.path().as_deref(), Some("identity.id"));
    assert!(err.to_string().contains("identity.id"), "{err}");
}

#[test]
fn negative_length() {
    let err = decode(&splice(AT_ID, 1, &varint(-1))).unwrap_err();
    assert!(
        matches!(parts(&err), Some((DecodeErrorKind::NegativeLength(-1), path, 0)) if path == "identity.id"),
        "{err}"
    );
    let err = decode(&splice(AT_ID, 1, &varint(i64::MIN))).unwrap_err();
    assert!(
        matches!(parts(&err), Some((DecodeErrorKind::NegativeLength(_), ..))),
        "{err}"
    );
}

#[test]
fn bad_union_index() {
    for index in [2i64, -1, 1 << 40] {
        let err = decode(&splice(AT_TRIGGER, 1, &varint(index))).unwrap_err();
        assert!(
            matches!(parts(&err), Some((DecodeErrorKind::UnionIndex { index: i, branches: 2 }, path, offset))
                if path == "payload.trigger" && offset == AT_TRIGGER && *i == index),
            "{err}"
        );
    }
}

#[test]
fn bad_enum_index() {
    for index in [8i64, -3] {
        let err = decode(&splice(AT_EVENT_TYPE, 1, &varint(index))).unwrap_err();
        assert!(
            matches!(parts(&err), Some((DecodeErrorKind::EnumIndex { index: i, symbols: 8 }, path, offset))
                if path == "payload.event.type" && offset == AT_EVENT_TYPE && *i == index),
            "{err}"
        );
    }
}

#[test]
fn varint_overflow() {
    let err = decode(&splice(AT_ID, 1, &[0xff; 11])).unwrap_err();
    assert!(
        matches!(parts(&err), Some((DecodeErrorKind::VarintOverflow, path, 0)) if path == "identity.id"),
        "{err}"
    );
    // 10 bytes whose last one carries more than the 64th bit
    let mut ten = vec![0xff; 9];
    ten.push(0x02);
    let err = decode(&splice(AT_ID, 1, &ten)).unwrap_err();
    assert!(
        matches!(parts(&err), Some((DecodeErrorKind::VarintOverflow, ..))),
        "{err}"
    );
}

#[test]
fn huge_block_count_is_rejected_before_allocating() {
    // eventData = branch 1 (array), then a block of 2^40 items
    let mut insert = varint(1);
    insert.extend(varint(1 << 40));
    let err = decode(&splice(AT_EVENT_DATA, 1, &insert)).unwrap_err();
    assert!(
        matches!(parts(&err), Some((DecodeErrorKind::BlockCountExceedsInput { count, .. }, path, _))
            if path == "payload.event.eventData" && *count == 1 << 40),
        "{err}"
    );
    // negative count of 2^40 with a byte size beyond the input
    let mut insert = varint(1);
    insert.extend(varint(-(1 << 40)));
    insert.extend(varint(1 << 50));
    let err = decode(&splice(AT_EVENT_DATA, 1, &insert)).unwrap_err();
    assert!(
        matches!(
            parts(&err),
            Some((DecodeErrorKind::LengthExceedsInput { .. }, ..))
        ),
        "{err}"
    );
}

#[test]
fn negative_block_count_with_byte_size_is_read_per_spec() {
    // eventData = [ {key: "k", value: ""} ] written as one block of count -1 and size 3
    let mut insert = varint(1);
    insert.extend(varint(-1));
    insert.extend(varint(3));
    insert.extend([2, b'k', 0]);
    insert.push(0); // end of array
    let cmd = decode(&splice(AT_EVENT_DATA, 1, &insert)).expect("valid");
    let items = cmd.payload.event.event_data.expect("present");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].key, "k");
}

#[test]
fn trailing_bytes_and_truncation() {
    let mut longer = minimal();
    longer.push(7);
    let err = decode(&longer).unwrap_err();
    assert!(
        matches!(
            parts(&err),
            Some((DecodeErrorKind::TrailingBytes(1), _, MINIMAL_LEN))
        ),
        "{err}"
    );
    let err = decode(&minimal()[..MINIMAL_LEN - 1]).unwrap_err();
    assert!(
        matches!(parts(&err), Some((DecodeErrorKind::UnexpectedEof, path, offset)) if path == "commandVersion" && offset == MINIMAL_LEN - 1),
        "{err}"
    );
    let err = decode(&[]).unwrap_err();
    assert!(
        matches!(parts(&err), Some((DecodeErrorKind::UnexpectedEof, ..))),
        "{err}"
    );
}

#[test]
fn invalid_utf8() {
    let err = decode(&splice(AT_ID, 1, &[4, 0xff, 0xfe])).unwrap_err();
    assert!(
        matches!(parts(&err), Some((DecodeErrorKind::InvalidUtf8, path, 0)) if path == "identity.id"),
        "{err}"
    );
}

#[test]
fn error_paths_name_array_items() {
    // auditedData with objectData [S3 with a bad role index]
    let mut b = minimal();
    b.truncate(15); // up to auditedData
    b.extend([2, 0, 0, 0]); // auditedData present; type "", id "", version null
    b.extend([2, 2, 4]); // objectData present, 1 item, branch 2 (S3)
    b.extend([2, 9]); // role present, symbol index -5
    b.extend([0, 0, 0]); // name, objectReference, end of array, processId, commandVersion
    let err = decode(&b).unwrap_err();
    assert!(
        matches!(parts(&err), Some((DecodeErrorKind::EnumIndex { .. }, path, _)) if path == "payload.auditedData.objectData[0].role"),
        "{err}"
    );
}

/// An unknown writer schema (generic path): 1.0.2 with one more enum symbol.
fn generic_writer() -> WriterSchema {
    let text =
        SchemaVersion::LATEST
            .schema_json()
            .replacen(r#""UNKNOWN""#, r#""UNKNOWN", "ARCHIVED""#, 1);
    let w = WriterSchema::parse(&text).expect("compatible");
    assert_eq!(w.known_version(), None);
    w
}

#[test]
fn generic_path_checks_lengths_before_apache_avro_allocates() {
    let w = generic_writer();
    assert_eq!(
        w.decode(&minimal()).expect("valid"),
        decode(&minimal()).expect("valid")
    );
    let err = w.decode(&splice(AT_ID, 1, &varint(400 << 20))).unwrap_err();
    assert!(
        matches!(parts(&err), Some((DecodeErrorKind::LengthExceedsInput { .. }, path, 0)) if path == "identity.id"),
        "{err}"
    );
    let err = w.decode(&splice(AT_TRIGGER, 1, &varint(2))).unwrap_err();
    assert!(
        matches!(parts(&err), Some((DecodeErrorKind::UnionIndex { .. }, path, _)) if path == "payload.trigger"),
        "{err}"
    );
    let mut insert = varint(1);
    insert.extend(varint(1 << 40));
    let err = w.decode(&splice(AT_EVENT_DATA, 1, &insert)).unwrap_err();
    assert!(
        matches!(
            parts(&err),
            Some((DecodeErrorKind::BlockCountExceedsInput { .. }, ..))
        ),
        "{err}"
    );
    let mut longer = minimal();
    longer.push(0);
    let err = w.decode(&longer).unwrap_err();
    assert!(
        matches!(parts(&err), Some((DecodeErrorKind::TrailingBytes(_), ..))),
        "{err}"
    );
}

/// Heap of the error value itself (a boxed decode error with its path, then `Error` with the
/// path as a string), on top of the decoder's bound.
const ERROR_ALLOWANCE: usize = 512;

/// Runs `decode` and returns whether it succeeded and the peak of heap bytes it held (this
/// thread only, result included).
fn peak_heap<T, E>(decode: impl FnOnce() -> Result<T, E>) -> (bool, usize) {
    // the schemas whole-input validation uses are parsed once per process, not per decode
    prepare_decoders();
    let mut ok = false;
    let info = allocation_counter::measure(|| ok = decode().is_ok());
    (ok, usize::try_from(info.bytes_max).unwrap_or(usize::MAX))
}

/// Every decoder of a datum: failures stay within the bound; returns the largest peak of the
/// ones that succeeded.
fn assert_failures_within_bound(bytes: &[u8]) -> Result<usize, TestCaseError> {
    let bound = bytes.len() + DECODE_ALLOC_SLACK + ERROR_ALLOWANCE;
    let mut runs = vec![
        peak_heap(|| decode(bytes)),
        peak_heap(|| CreateAuditRecordCommandRef::from_avro_datum(bytes)),
    ];
    for &v in SchemaVersion::ALL {
        runs.push(peak_heap(|| {
            CreateAuditRecordCommand::from_avro_datum_as(bytes, v)
        }));
    }
    let mut ok_peak = 0;
    for (i, (ok, peak)) in runs.into_iter().enumerate() {
        if ok {
            ok_peak = ok_peak.max(peak);
        } else {
            prop_assert!(
                peak <= bound,
                "decoder {i}: {} bytes of malformed input held {peak} bytes of heap (bound {bound})",
                bytes.len()
            );
        }
    }
    Ok(ok_peak)
}

/// A command whose event data holds `n` entries with empty strings: 2 bytes each on the wire,
/// 48 bytes each decoded.
fn with_empty_event_data(n: usize) -> CreateAuditRecordCommand {
    let mut cmd = decode(&minimal()).expect("valid");
    cmd.payload.event.event_data = Some(vec![
        AuditEventDataElement {
            key: "".into(),
            value: "".into(),
        };
        n
    ]);
    cmd
}

#[test]
fn a_valid_prefix_cannot_buy_heap_for_a_bad_tail() {
    let cmd = with_empty_event_data(300);
    let good = cmd.to_avro_datum();
    // valid input decodes whatever it takes: here far more than its size plus the slack
    let (ok, peak) = peak_heap(|| decode(&good));
    assert!(ok);
    assert!(
        peak > good.len() + DECODE_ALLOC_SLACK + ERROR_ALLOWANCE,
        "{peak} bytes for {} bytes of input",
        good.len()
    );
    // the same datum with a bad tail (commandVersion claims a byte more than is left): the
    // decoder validates before it outgrows the bound, and fails there
    let mut bad = good.clone();
    let last = bad.len() - 1;
    bad[last] = 2;
    let (ok, peak) = peak_heap(|| decode(&bad));
    assert!(!ok);
    assert!(
        peak <= bad.len() + DECODE_ALLOC_SLACK + ERROR_ALLOWANCE,
        "{peak} bytes for {} bytes of malformed input",
        bad.len()
    );
    // the error is the one the input has, with its full path
    let err = decode(&bad).unwrap_err();
    assert!(
        matches!(parts(&err), Some((DecodeErrorKind::LengthExceedsInput { .. }, path, _)) if path == "commandVersion"),
        "{err}"
    );
    assert_failures_within_bound(&bad).unwrap();
    // and the view and every writer version agree on the outcome
    assert_eq!(
        CreateAuditRecordCommandRef::from_avro_datum(&bad)
            .unwrap_err()
            .to_string(),
        err.to_string()
    );
}

/// An array in two blocks: the second block grows the vector, and a growing vector holds its
/// old and its new buffer at once. Found by the heap-bound property (CI, 2026-12-01): the
/// view's 20-item first block (640 bytes), then a second 20-item block, reallocated to 1,280
/// bytes while the old 640 were still held, 89 bytes beyond the bound for 295 bytes of input.
#[test]
fn a_second_array_block_is_charged_for_both_buffers() {
    let mut cmd = with_empty_event_data(20);
    // sized so that the added capacity alone (640 bytes for the view) fits the budget but the
    // reallocation peak (640 + 1,280 bytes) does not fit the bound; after the array, so that
    // there is input enough for a second block of 20
    cmd.command_version = "x".repeat(250).into();
    let good = cmd.to_avro_datum();
    // event data: count 20 (zig-zag 40), 20 x (empty key, empty value), end of array
    let at = good.iter().position(|&b| b == 40).expect("block count");
    assert!(good[at + 1..=at + 41].iter().all(|&b| b == 0));
    // valid in two blocks of 10 decodes to the same command
    let mut split = good.clone();
    split[at] = 20;
    split[at + 21] = 20;
    split.insert(at + 42, 0);
    assert_eq!(decode(&split).expect("two blocks"), cmd);
    // the end of the array replaced by a second block of 20 that runs out of input
    let mut bad = good.clone();
    bad[at + 41] = 40;
    assert!(decode(&bad).is_err());
    assert!(CreateAuditRecordCommandRef::from_avro_datum(&bad).is_err());
    assert_failures_within_bound(&bad).unwrap();
}

fn is_truncation(e: &Error) -> bool {
    // the old flattened `InvalidBlockCount` covered both block-count kinds
    matches!(
        parts(e),
        Some((
            DecodeErrorKind::UnexpectedEof
                | DecodeErrorKind::LengthExceedsInput { .. }
                | DecodeErrorKind::BlockCountExceedsInput { .. }
                | DecodeErrorKind::TooManyItems,
            ..
        ))
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn every_truncation_is_an_error(cmd in command(), cut in any::<prop::sample::Index>()) {
        let bytes = cmd.to_avro_datum();
        let n = cut.index(bytes.len());
        let err = decode(&bytes[..n]).unwrap_err();
        prop_assert!(is_truncation(&err), "{}", err);
        for &v in SchemaVersion::ALL {
            if let Ok(old) = cmd.to_avro_datum_as(v) {
                let n = cut.index(old.len());
                let err = CreateAuditRecordCommand::from_avro_datum_as(&old[..n], v).unwrap_err();
                prop_assert!(is_truncation(&err), "{}", err);
            }
        }
    }

    #[test]
    fn malformed_input_stays_within_the_heap_bound(
        cmd in command(),
        n in 0usize..400,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut cmd = cmd;
        if n > 0 {
            cmd.payload.event.event_data = with_empty_event_data(n).payload.event.event_data;
        }
        let mut bytes = cmd.to_avro_datum();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        assert_failures_within_bound(&bytes)?;
        let n = cut.index(bytes.len());
        assert_failures_within_bound(&bytes[..n])?;
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = CreateAuditRecordCommandRef::from_avro_datum(&bytes);
        for &v in SchemaVersion::ALL {
            if let Err(e) = CreateAuditRecordCommand::from_avro_datum_as(&bytes, v) {
                prop_assert!(!e.to_string().is_empty());
            }
        }
        let _ = generic_writer().decode(&bytes);
        let _ = confluent::unframe(&bytes);
        let _ = single_object::unframe(&bytes);
    }

    #[test]
    fn mutated_datums_never_panic(
        cmd in command(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut bytes = cmd.to_avro_datum();
        for (at, b) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        // the zero-copy view reads exactly like the owned decoder, errors included
        prop_assert_eq!(
            CreateAuditRecordCommandRef::from_avro_datum(&bytes)
                .map(CreateAuditRecordCommandRef::into_owned)
                .map_err(|e| e.to_string()),
            decode(&bytes).map_err(|e| e.to_string())
        );
        match decode(&bytes) {
            Ok(c) => {
                // whatever decodes must re-encode and decode to the same value
                let again = c.to_avro_datum();
                prop_assert_eq!(decode(&again).expect("re-decodes"), c);
            }
            Err(e) => prop_assert!(e.offset().is_some(), "{}", e),
        }
        for &v in SchemaVersion::ALL {
            let _ = CreateAuditRecordCommand::from_avro_datum_as(&bytes, v);
        }
    }
}
