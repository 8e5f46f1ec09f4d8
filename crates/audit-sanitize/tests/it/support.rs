//! Commands and valid / invalid numbers for the tests (check digits computed here, independently
//! of the crate).

use audit_schema::*;

/// A command with a user trigger, an audited object and no event or object data.
pub fn command(user: &str) -> CreateAuditRecordCommand {
    let at = chrono::DateTime::from_timestamp_millis(1_779_955_200_120).unwrap();
    CreateAuditRecordCommand {
        identity: AvroMessageIdentity {
            id: "5f0c5a36-6a4e-4a53-9b0a-0f4b1c9e2d11".into(),
            idempotence_id: format!(
                "BILLING-invoice-service-MODIFIED-{user}-2026-05-28T08:00:00.120Z"
            )
            .into(),
            created: at,
        },
        r#type: AvroMessageType {
            name: "CreateAuditRecordCommand".into(),
            version: "1.0.2".into(),
            variant: None,
        },
        publisher: AvroMessagePublisher {
            system: "BILLING".into(),
            service: "invoice-service".into(),
        },
        references: CreateAuditRecordCommandReferences {},
        payload: CreateAuditRecordCommandPayload {
            timestamp: at,
            event: AuditEventDetails {
                r#type: AuditEventType::Modified,
                context: Some(AuditContext {
                    use_case: "pay-invoice".into(),
                    process_id: Some("process-4711".into()),
                }),
                event_data: None,
            },
            trigger: AuditTrigger::AuditUser(AuditUser {
                id: user.into(),
                identity_provider: "https://idp.example/realms/bit".into(),
            }),
            audited_data: Some(AuditObject {
                r#type: "Invoice".into(),
                id: "INV-2026-000123".into(),
                version: Some("7".into()),
                object_data: None,
            }),
        },
        process_id: Some("process-4711".into()),
        command_version: "1.3.0".into(),
    }
}

pub fn event(key: &str, value: &str) -> AuditEventDataElement {
    AuditEventDataElement {
        key: key.into(),
        value: value.into(),
    }
}

pub fn value(name: &str, value: &str) -> AuditObjectData {
    AuditObjectData::AuditObjectDataValue(AuditObjectDataValue {
        role: None,
        name: name.into(),
        value: Some(value.into()),
    })
}

pub fn json(name: &str, doc: &str) -> AuditObjectData {
    AuditObjectData::AuditObjectDataJSON(AuditObjectDataJSON {
        role: Some(AuditObjectDataRole::New),
        name: name.into(),
        json_as_utf8: doc.as_bytes().to_vec(),
    })
}

pub fn s3(name: &str, reference: &str) -> AuditObjectData {
    AuditObjectData::AuditObjectDataS3(AuditObjectDataS3 {
        role: None,
        name: name.into(),
        object_reference: reference.into(),
    })
}

pub fn with_data(
    mut command: CreateAuditRecordCommand,
    events: Vec<AuditEventDataElement>,
    objects: Vec<AuditObjectData>,
) -> CreateAuditRecordCommand {
    command.payload.event.event_data = (!events.is_empty()).then_some(events);
    if let Some(object) = &mut command.payload.audited_data {
        object.object_data = (!objects.is_empty()).then_some(objects);
    }
    command
}

pub fn events(command: &CreateAuditRecordCommand) -> Vec<(String, String)> {
    command
        .payload
        .event
        .event_data
        .iter()
        .flatten()
        .map(|e| (e.key.to_string(), e.value.to_string()))
        .collect()
}

pub fn objects(command: &CreateAuditRecordCommand) -> &[AuditObjectData] {
    command
        .payload
        .audited_data
        .as_ref()
        .and_then(|o| o.object_data.as_deref())
        .unwrap_or_default()
}

/// The JSON text of the JSON object-data entry `name`.
pub fn json_of(command: &CreateAuditRecordCommand, name: &str) -> Option<String> {
    objects(command).iter().find_map(|entry| match entry {
        AuditObjectData::AuditObjectDataJSON(j) if j.name == name => {
            Some(String::from_utf8(j.json_as_utf8.clone()).unwrap())
        }
        _ => None,
    })
}

/// The value of the value object-data entry `name`.
pub fn value_of(command: &CreateAuditRecordCommand, name: &str) -> Option<Option<String>> {
    objects(command).iter().find_map(|entry| match entry {
        AuditObjectData::AuditObjectDataValue(v) if v.name == name => {
            Some(v.value.as_ref().map(ToString::to_string))
        }
        _ => None,
    })
}

pub fn user_id(command: &CreateAuditRecordCommand) -> String {
    match &command.payload.trigger {
        AuditTrigger::AuditUser(u) => u.id.to_string(),
        AuditTrigger::AuditSystemComponent(_) => String::new(),
    }
}

fn digits(text: &str) -> Vec<u32> {
    text.chars().filter_map(|c| c.to_digit(10)).collect()
}

/// The Luhn check digit for `body` (digits without the check digit).
pub fn luhn_digit(body: &str) -> u32 {
    let sum: u32 = digits(body)
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                *d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

/// A card number with the right (or, `valid = false`, a wrong) Luhn check digit.
pub fn card(body: &str, valid: bool) -> String {
    let check = luhn_digit(body);
    let check = if valid { check } else { (check + 1) % 10 };
    format!("{body}{check}")
}

/// The EAN-13 check digit of 12 digits.
pub fn ean_digit(body: &str) -> u32 {
    let sum: u32 = digits(body)
        .iter()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { *d } else { d * 3 })
        .sum();
    (10 - sum % 10) % 10
}

/// An AHV number `756.xxxx.xxxx.xc` from 9 digits, right or wrong check digit.
pub fn ahv(nine: &str, valid: bool) -> String {
    let body = format!("756{nine}");
    let check = ean_digit(&body);
    let check = if valid { check } else { (check + 1) % 10 };
    let all = format!("{body}{check}");
    format!(
        "{}.{}.{}.{}",
        &all[..3],
        &all[3..7],
        &all[7..11],
        &all[11..]
    )
}

/// A Swiss IBAN (21 characters) from 17 BBAN digits, right or wrong check digits.
pub fn iban_ch(bban: &str, valid: bool) -> String {
    let rearranged = format!("{bban}CH00");
    let mut remainder: u64 = 0;
    for c in rearranged.chars() {
        let v = c.to_digit(36).unwrap() as u64;
        remainder = if v >= 10 {
            (remainder * 100 + v) % 97
        } else {
            (remainder * 10 + v) % 97
        };
    }
    let check = 98 - remainder;
    let check = if valid { check } else { (check % 97) + 1 };
    format!("CH{check:02}{bban}")
}

/// `text` grouped by `separator` every `size` characters.
pub fn grouped(text: &str, size: usize, separator: char) -> String {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(size)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(&separator.to_string())
}
