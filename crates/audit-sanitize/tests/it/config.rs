//! The serde configuration and its validation errors (each names the bad rule).

use audit_sanitize::{
    Action, Error, PseudonymKey, RuleConfig, Sanitizer, SanitizerConfig, ValuePattern,
};

fn error_of(json: &str) -> Error {
    let config: SanitizerConfig = serde_json::from_str(json).unwrap();
    Sanitizer::new(&config).unwrap_err()
}

fn rule_error(json: &str) -> (String, String) {
    match error_of(json) {
        Error::InvalidRule { rule, reason } => (rule, reason),
        other => panic!("not an invalid rule: {other}"),
    }
}

#[test]
fn a_json_config_compiles_with_its_rules_first_then_the_defaults() {
    let config: SanitizerConfig = serde_json::from_str(
        r#"{
            "pseudonym_key": {"hex": "000102030405060708090a0b0c0d0e0f"},
            "rules": [
                {"name": "mail", "value": "email", "action": "pseudonymize"},
                {"name": "pins", "keys": ["pin"], "action": "drop"},
                {"name": "debtor", "object_data": "payment", "pointer": "/debtor/iban", "action": "mask"},
                {"name": "user", "user_id": true, "action": "pseudonymize"}
            ]
        }"#,
    )
    .unwrap();
    let sanitizer = Sanitizer::new(&config).unwrap();
    let names: Vec<_> = sanitizer.rule_names().collect();
    assert_eq!(
        names,
        [
            "mail",
            "pins",
            "debtor",
            "user",
            "default-secret-keys",
            "default-email",
            "default-payment-card",
            "default-ahv",
            "default-iban"
        ]
    );
    assert!(sanitizer.pseudonymizes_user_id());
    // the same from code
    let from_code = SanitizerConfig::default()
        .rule(RuleConfig::value(
            "mail",
            ValuePattern::Email,
            Action::Pseudonymize,
        ))
        .rule(RuleConfig::keys("pins", ["pin"], Action::Drop))
        .rule(RuleConfig::pointer(
            "debtor",
            Some("payment"),
            "/debtor/iban",
            Action::Mask,
        ))
        .rule(RuleConfig::user_id("user"));
    assert_eq!(from_code.rules, config.rules);
    let without_defaults: SanitizerConfig = serde_json::from_str(
        r#"{"defaults": false, "rules": [{"name": "k", "keys": ["x"], "action": "mask"}]}"#,
    )
    .unwrap();
    assert_eq!(
        Sanitizer::new(&without_defaults)
            .unwrap()
            .rule_names()
            .count(),
        1
    );
}

#[test]
fn bad_rules_are_named() {
    let (rule, reason) = rule_error(
        r#"{"rules": [{"name": "two", "keys": ["a"], "value": "iban", "action": "mask"}]}"#,
    );
    assert_eq!(rule, "two");
    assert!(reason.contains("exactly one"), "{reason}");
    let (rule, _) = rule_error(r#"{"rules": [{"name": "none", "action": "mask"}]}"#);
    assert_eq!(rule, "none");
    let (rule, reason) =
        rule_error(r#"{"rules": [{"name": "empty-key", "keys": ["a", "-_"], "action": "mask"}]}"#);
    assert_eq!(rule, "empty-key");
    assert!(reason.contains("\"-_\""), "{reason}");
    let (rule, reason) =
        rule_error(r#"{"rules": [{"name": "ptr", "pointer": "a/b", "action": "mask"}]}"#);
    assert_eq!(rule, "ptr");
    assert!(reason.contains("JSON pointer"), "{reason}");
    let (_, reason) =
        rule_error(r#"{"rules": [{"name": "tilde", "pointer": "/a~2", "action": "mask"}]}"#);
    assert!(reason.contains('~'), "{reason}");
    let (rule, reason) = rule_error(
        r#"{"rules": [{"name": "od", "object_data": "x", "keys": ["a"], "action": "mask"}]}"#,
    );
    assert_eq!(rule, "od");
    assert!(reason.contains("object_data"), "{reason}");
    let (rule, reason) =
        rule_error(r#"{"rules": [{"name": "user", "user_id": true, "action": "mask"}]}"#);
    assert_eq!(rule, "user");
    assert!(reason.contains("pseudonymize"), "{reason}");
    let (rule, reason) =
        rule_error(r#"{"rules": [{"name": "default-email", "keys": ["a"], "action": "mask"}]}"#);
    assert_eq!(rule, "default-email");
    assert!(reason.contains("earlier rule"), "{reason}");
    let (rule, _) = rule_error(
        r#"{"rules": [{"name": "a", "keys": ["a"], "action": "mask"}, {"name": " ", "keys": ["a"], "action": "mask"}]}"#,
    );
    assert_eq!(rule, "#1");
    match error_of(r#"{"rules": [{"name": "p", "keys": ["a"], "action": "pseudonymize"}]}"#) {
        Error::MissingKey { rule } => assert_eq!(rule, "p"),
        other => panic!("{other}"),
    }
    // unknown fields and actions are serde errors
    assert!(
        serde_json::from_str::<SanitizerConfig>(
            r#"{"rules": [{"name": "a", "key": ["a"], "action": "mask"}]}"#
        )
        .is_err()
    );
    assert!(
        serde_json::from_str::<SanitizerConfig>(
            r#"{"rules": [{"name": "a", "keys": ["a"], "action": "hash"}]}"#
        )
        .is_err()
    );
    assert!(serde_json::from_str::<SanitizerConfig>(r#"{"rule": []}"#).is_err());
}

#[test]
fn the_pseudonym_key_is_checked_and_never_printed() {
    for (hex, fragment) in [("0011", "at least 16"), ("zz", "not hex"), ("001", "odd")] {
        let config = SanitizerConfig {
            pseudonym_key: Some(PseudonymKey::Hex(hex.into())),
            ..SanitizerConfig::default()
        };
        match Sanitizer::new(&config) {
            Err(Error::InvalidKey { reason }) => assert!(reason.contains(fragment), "{reason}"),
            other => panic!("{other:?}"),
        }
    }
    let secret = "5ec7e75ec7e75ec7e75ec7e75ec7e75e";
    let config = SanitizerConfig {
        pseudonym_key: Some(PseudonymKey::Hex(secret.into())),
        ..SanitizerConfig::default()
    };
    let sanitizer = Sanitizer::new(&config).unwrap();
    assert!(!format!("{config:?}").contains(secret));
    assert!(!format!("{sanitizer:?}").contains("5ec7"));
    // from the environment (a name no other test uses)
    let name = "AUDIT_SANITIZE_TEST_KEY_MISSING";
    let config = SanitizerConfig {
        pseudonym_key: Some(PseudonymKey::Env(name.into())),
        ..SanitizerConfig::default()
    };
    match Sanitizer::new(&config) {
        Err(Error::KeyEnvironment { name: n, .. }) => assert_eq!(n, name),
        other => panic!("{other:?}"),
    }
    // the same key from hex and from bytes gives the same pseudonyms
    let bytes = SanitizerConfig::default().pseudonym_key(
        vec![0x5e, 0xc7, 0xe7]
            .into_iter()
            .cycle()
            .take(16)
            .collect::<Vec<u8>>(),
    );
    let hex = SanitizerConfig {
        pseudonym_key: Some(PseudonymKey::Hex("5ec7e75ec7e75ec7e75ec7e75ec7e75e".into())),
        ..SanitizerConfig::default()
    };
    assert_eq!(
        Sanitizer::new(&bytes).unwrap().pseudonym("x"),
        Sanitizer::new(&hex).unwrap().pseudonym("x")
    );
}
