//! What each rule kind and action does where, the report and the metric.

use audit_sanitize::{
    Action, CHANGES_TOTAL, MASK, RuleConfig, Sanitizer, SanitizerConfig, ValuePattern,
};
use audit_schema::{AuditSystemComponent, AuditTrigger};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

use crate::support::*;

const KEY: [u8; 32] = *b"test-key-test-key-test-key-test-";

fn keyed(rules: Vec<RuleConfig>) -> Sanitizer {
    let mut config = SanitizerConfig::default().pseudonym_key(KEY);
    config.rules = rules;
    Sanitizer::new(&config).unwrap()
}

#[test]
fn pseudonyms_are_the_first_16_bytes_of_hmac_sha256_in_hex() {
    // RFC 4231 test case 1: key 20 x 0x0b, data "Hi There"
    let sanitizer = Sanitizer::new(&SanitizerConfig::default().pseudonym_key([0x0b; 20])).unwrap();
    assert_eq!(
        sanitizer.pseudonym("Hi There").unwrap(),
        "pseud:b0344c61d8db38535ca8afceaf0bf12b"
    );
    assert_eq!(Sanitizer::with_defaults().pseudonym("Hi There"), None);
}

#[test]
fn key_rules_act_on_event_data_and_object_data_of_every_kind() {
    let sanitizer = keyed(vec![
        RuleConfig::keys("drop-pin", ["pin"], Action::Drop),
        RuleConfig::keys("pseudo-customer", ["customer*"], Action::Pseudonymize),
    ]);
    let original = with_data(
        command("u1"),
        vec![
            event("PIN", "1234"),
            event("channel", "web"),
            event("X-API-KEY", "k-1"),
            event("customer_no", "C-77"),
        ],
        vec![
            value("password", "hunter2"),
            s3("sessionCookie", "s3://bucket/c"),
            json("authorization", r#"{"scheme":"Bearer","token":"t"}"#),
            value("pin", "9"),
            value("status", "PAID"),
        ],
    );
    let mut command = original.clone();
    let report = sanitizer.sanitize(&mut command);
    let customer = sanitizer.pseudonym("C-77").unwrap();
    assert_eq!(
        events(&command),
        [
            ("channel".to_owned(), "web".to_owned()),
            ("X-API-KEY".to_owned(), MASK.to_owned()),
            ("customer_no".to_owned(), customer),
        ]
    );
    assert_eq!(value_of(&command, "password"), Some(Some(MASK.to_owned())));
    assert!(matches!(&objects(&command)[1],
        audit_schema::AuditObjectData::AuditObjectDataS3(s) if s.object_reference == MASK));
    assert_eq!(
        json_of(&command, "authorization").unwrap(),
        format!("\"{MASK}\"")
    );
    assert_eq!(value_of(&command, "pin"), None);
    assert_eq!(value_of(&command, "status"), Some(Some("PAID".to_owned())));
    assert_eq!(report.count("drop-pin"), 2);
    assert_eq!(report.count("pseudo-customer"), 1);
    assert_eq!(report.count("default-secret-keys"), 4);
    assert_eq!(report.total(), 7);
    // nothing else changed
    let mut expected = original;
    expected.payload.event.event_data = command.payload.event.event_data.clone();
    expected.payload.audited_data.as_mut().unwrap().object_data = command
        .payload
        .audited_data
        .as_ref()
        .unwrap()
        .object_data
        .clone();
    assert_eq!(command, expected);
}

#[test]
fn lists_left_empty_become_absent() {
    let sanitizer = keyed(vec![RuleConfig::keys("all", ["*"], Action::Drop)]);
    let mut command = with_data(command("u1"), vec![event("a", "1")], vec![value("b", "2")]);
    sanitizer.sanitize(&mut command);
    assert_eq!(command.payload.event.event_data, None);
    assert_eq!(command.payload.audited_data.unwrap().object_data, None);
}

#[test]
fn json_object_data_is_walked_through_nested_objects_and_arrays() {
    let doc = r#"{"customer":{"name":"Alice","contacts":[{"type":"mail","value":"alice@example.org"},{"type":"card","value":4111111111111111}],"credentials":{"password":"x","hint":null}},"items":[[{"accessToken":"t-1"}],"call 756.9217.0769.85"],"amount":12.50}"#;
    let mut command = with_data(command("u1"), vec![], vec![json("order", doc)]);
    let report = Sanitizer::with_defaults().sanitize(&mut command);
    let out: serde_json::Value =
        serde_json::from_str(&json_of(&command, "order").unwrap()).unwrap();
    assert_eq!(
        out,
        serde_json::json!({"customer":{"name":"Alice","contacts":[{"type":"mail","value":MASK},{"type":"card","value":MASK}],"credentials":MASK},"items":[[{"accessToken":MASK}],format!("call {MASK}")],"amount":12.50})
    );
    assert_eq!(report.count("default-secret-keys"), 2);
    assert_eq!(report.count("default-email"), 1);
    assert_eq!(report.count("default-payment-card"), 1);
    assert_eq!(report.count("default-ahv"), 1);
}

#[test]
fn value_patterns_that_drop_remove_the_json_member_or_element_that_holds_them() {
    let sanitizer = keyed(vec![RuleConfig::value(
        "no-mail",
        ValuePattern::Email,
        Action::Drop,
    )]);
    let doc = r#"{"a":"x","mails":["one@example.org","keep",{"m":"two@example.org"}]}"#;
    let mut command = with_data(
        command("u1"),
        vec![
            event("note", "write to three@example.org"),
            event("other", "ok"),
        ],
        vec![json("d", doc)],
    );
    let report = sanitizer.sanitize(&mut command);
    assert_eq!(
        json_of(&command, "d").unwrap(),
        r#"{"a":"x","mails":["keep",{}]}"#
    );
    assert_eq!(events(&command), [("other".to_owned(), "ok".to_owned())]);
    assert_eq!(report.count("no-mail"), 3);
}

#[test]
fn json_pointers_select_members_with_wildcards_and_indexes() {
    let sanitizer = keyed(vec![
        RuleConfig::pointer("names", Some("people"), "/*/name", Action::Pseudonymize),
        RuleConfig::pointer("first-tag", None, "/0/tags/0", Action::Drop),
        RuleConfig::pointer("escaped", None, "/0/a~1b~0c", Action::Mask),
        RuleConfig::pointer("whole", Some("hidden"), "", Action::Drop),
    ]);
    let people = r#"[{"name":"Alice","tags":["x","y"],"a/b~c":1},{"name":"Bob"}]"#;
    let mut command = with_data(
        command("u1"),
        vec![],
        vec![
            json("people", people),
            json("others", people),
            json("hidden", "{}"),
        ],
    );
    let report = sanitizer.sanitize(&mut command);
    let alice = sanitizer.pseudonym("Alice").unwrap();
    let bob = sanitizer.pseudonym("Bob").unwrap();
    assert_eq!(
        json_of(&command, "people").unwrap(),
        format!(r#"[{{"name":"{alice}","tags":["y"],"a/b~c":"{MASK}"}},{{"name":"{bob}"}}]"#)
    );
    // "names" applies to the object data "people" only
    assert_eq!(
        json_of(&command, "others").unwrap(),
        format!(r#"[{{"name":"Alice","tags":["y"],"a/b~c":"{MASK}"}},{{"name":"Bob"}}]"#)
    );
    assert_eq!(json_of(&command, "hidden"), None);
    assert_eq!(report.count("names"), 2);
    assert_eq!(report.count("first-tag"), 2);
    assert_eq!(report.count("whole"), 1);
}

#[test]
fn unchanged_json_keeps_its_bytes_and_changed_json_is_rewritten_compact() {
    let untouched = "{ \"amount\" : 12.50,\n  \"currency\": \"CHF\", \"n\": 1e3 }";
    let changed = "{ \"amount\" : 12.50, \"mail\": \"a@example.org\" }";
    let mut command = with_data(
        command("u1"),
        vec![],
        vec![json("a", untouched), json("b", changed)],
    );
    Sanitizer::with_defaults().sanitize(&mut command);
    assert_eq!(json_of(&command, "a").unwrap(), untouched);
    assert_eq!(
        json_of(&command, "b").unwrap(),
        format!(r#"{{"amount":12.5,"mail":"{MASK}"}}"#)
    );
}

#[test]
fn json_that_does_not_parse_is_taken_whole_by_the_first_rule_that_matched() {
    let broken = r#"{"mail": "a@example.org", "#;
    let harmless_broken = r#"{"status": "PAID", "#;
    let mut command = with_data(
        command("u1"),
        vec![],
        vec![json("a", broken), json("b", harmless_broken)],
    );
    let report = Sanitizer::with_defaults().sanitize(&mut command);
    assert_eq!(json_of(&command, "a").unwrap(), format!("\"{MASK}\""));
    assert_eq!(json_of(&command, "b").unwrap(), harmless_broken);
    assert_eq!(report.count("default-email"), 1);
    // escapes are decoded before matching
    let escaped = r#"{"note":"alice\u0040example.org"}"#;
    let mut command = with_data(command_u1(), vec![], vec![json("c", escaped)]);
    Sanitizer::with_defaults().sanitize(&mut command);
    assert_eq!(
        json_of(&command, "c").unwrap(),
        format!(r#"{{"note":"{MASK}"}}"#)
    );
}

fn command_u1() -> audit_schema::CreateAuditRecordCommand {
    command("u1")
}

#[test]
fn the_envelope_and_the_user_id_stay_unless_a_user_rule_says_so() {
    let original = with_data(
        command("alice@example.org"),
        vec![event("password", "x")],
        vec![],
    );
    let mut command = original.clone();
    Sanitizer::with_defaults().sanitize(&mut command);
    // the user id looks like an e-mail address, but only a user_id rule touches it
    assert_eq!(user_id(&command), "alice@example.org");
    assert_eq!(command.identity, original.identity);
    assert_eq!(command.r#type, original.r#type);
    assert_eq!(command.publisher, original.publisher);
    assert_eq!(command.process_id, original.process_id);
    assert_eq!(command.command_version, original.command_version);
    assert_eq!(command.payload.trigger, original.payload.trigger);

    let sanitizer = keyed(vec![RuleConfig::user_id("user")]);
    let mut first = original.clone();
    let mut second = with_data(command_for("alice@example.org"), vec![], vec![]);
    let report = sanitizer.sanitize(&mut first);
    sanitizer.sanitize(&mut second);
    assert_eq!(report.count("user"), 1);
    assert_eq!(
        user_id(&first),
        sanitizer.pseudonym("alice@example.org").unwrap()
    );
    assert_eq!(user_id(&first), user_id(&second));
    assert_eq!(
        sanitizer.user_id_pseudonym("alice@example.org"),
        Some(user_id(&first))
    );
    assert_eq!(
        first.identity, original.identity,
        "the idempotence id is never touched"
    );

    // system components are never touched
    let mut system = original;
    system.payload.trigger = AuditTrigger::AuditSystemComponent(AuditSystemComponent {
        department: "IT".into(),
        system: "BILLING".into(),
        component: "alice@example.org".into(),
    });
    let before = system.payload.trigger.clone();
    sanitizer.sanitize(&mut system);
    assert_eq!(system.payload.trigger, before);
}

fn command_for(user: &str) -> audit_schema::CreateAuditRecordCommand {
    command(user)
}

#[test]
fn the_report_and_the_metric_count_per_rule_and_action_never_values() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let sanitizer = keyed(vec![RuleConfig::value(
        "mail",
        ValuePattern::Email,
        Action::Pseudonymize,
    )]);
    let mut command = with_data(
        command("u1"),
        vec![
            event("a", "x@example.org and y@example.org"),
            event("token", "secret-value"),
            event("b", "nothing"),
        ],
        vec![json("j", r#"{"iban":"CH9300762011623852957"}"#)],
    );
    let report = metrics::with_local_recorder(&recorder, || sanitizer.sanitize(&mut command));
    assert_eq!(report.count("mail"), 2);
    assert_eq!(report.count("default-secret-keys"), 2);
    assert_eq!(report.changes().len(), 2);
    assert_eq!(report.changes()[0].action, Action::Pseudonymize);
    assert!(!format!("{report:?}").contains("example.org"));
    assert!(!format!("{report:?}").contains("secret-value"));
    let mut seen = Vec::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        assert_eq!(key.key().name(), CHANGES_TOTAL);
        let labels: Vec<String> = key
            .key()
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        let DebugValue::Counter(count) = value else {
            panic!("not a counter")
        };
        seen.push((labels.join(","), count));
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            ("rule=default-secret-keys,action=mask".to_owned(), 2),
            ("rule=mail,action=pseudonymize".to_owned(), 2),
        ]
    );
    // a command with nothing to change: empty report, no metric
    let mut clean = with_data(command_u1(), vec![event("b", "nothing")], vec![]);
    let report = metrics::with_local_recorder(&recorder, || sanitizer.sanitize(&mut clean));
    assert!(report.is_empty());
    assert!(
        snapshotter
            .snapshot()
            .into_vec()
            .iter()
            .all(|(_, _, _, v)| !matches!(v, DebugValue::Counter(c) if *c > 0))
    );
}
