//! The JSON rendering: lossless bytes everywhere and the failed command decoded when it is one.

use audit_error_event::json::{to_json, to_json_with_failed_command};
use serde_json::json;

use crate::cases::{cases, command};

#[test]
fn the_failed_command_is_shown_when_the_value_is_one() {
    let all = cases();
    let rejected = &all[1];
    let v = to_json_with_failed_command(&rejected.event.event);
    assert_eq!(v["failedCommand"]["schemaId"], 7);
    assert_eq!(v["failedCommand"]["version"], "1.0.2");
    assert_eq!(
        v["failedCommand"]["command"],
        audit_schema::json::to_json(&command())
    );
    assert_eq!(v["failedCommandError"], serde_json::Value::Null);
    assert_eq!(
        v["errorEvent"]["payload"]["failedMessageMetadata"]["headers"],
        json!({"jeap-cert": {"text": "\u{5}"}})
    );
    assert_eq!(
        v["errorEvent"]["identity"]["created"],
        "2025-12-03T08:00:00.125Z"
    );

    let poison = &all[0];
    let v = to_json_with_failed_command(&poison.event.event);
    assert_eq!(v["failedCommand"], serde_json::Value::Null);
    assert!(
        v["failedCommandError"]
            .as_str()
            .unwrap()
            .starts_with("the failed record value is not a CreateAuditRecordCommand"),
        "{v}"
    );
    let payload = &v["errorEvent"]["payload"];
    assert_eq!(payload["originalKey"], json!({"base64": "gAD/aw=="}));
    assert_eq!(
        payload["failedMessageMetadata"]["headers"]["jeap-sign"],
        json!({"base64": "3q2+7w=="})
    );
    assert!(payload["originalMessage"]["base64"].is_string());
    assert_eq!(to_json(&poison.event.event), v["errorEvent"]);
}
