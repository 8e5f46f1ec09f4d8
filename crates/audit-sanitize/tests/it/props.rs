//! Acceptance 1 (property tests): planted sensitive values never reach the encoded Avro datum,
//! values no rule matches stay byte-identical, pseudonyms are stable across commands and differ
//! across keys.

use audit_sanitize::{
    Action, DEFAULT_SECRET_KEYS, RuleConfig, Sanitizer, SanitizerConfig, ValuePattern,
};
use audit_schema::{AuditEventDataElement, AuditObjectData, CreateAuditRecordCommand};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::support::*;

/// A planted sensitive value: what is written, and the forms that must not appear afterwards.
#[derive(Debug, Clone)]
struct Planted {
    written: String,
    /// The normalized form (what a pseudonym is computed from).
    normalized: String,
}

const SECRET_KEYS: &[&str] = &[
    "password",
    "userPassword",
    "X-Api-Key",
    "api_key",
    "sessionToken",
    "Authorization",
    "Cookie",
    "clientSecret",
    "IBAN",
    "credentials",
    "PRIVATE_KEY",
];

const WORDS: &str = "[a-z]{2,8}";

fn digits(count: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0u32..10, count).prop_map(|d| {
        d.into_iter()
            .map(|x| char::from_digit(x, 10).unwrap())
            .collect()
    })
}

fn planted_pattern() -> impl Strategy<Value = Planted> {
    let email = (
        "[a-z]{1,8}",
        "[a-z0-9]{1,8}",
        "(ch|org|com|info)",
        any::<bool>(),
    )
        .prop_map(|(local, domain, tld, upper)| {
            let written = format!("{local}.x@{domain}.{tld}");
            let written = if upper {
                written.to_uppercase()
            } else {
                written
            };
            Planted {
                normalized: written.to_lowercase(),
                written,
            }
        });
    let card = (2u32..7, digits(14), 0..3usize).prop_map(|(first, rest, format)| {
        let number = card(&format!("{first}{rest}"), true);
        let written = match format {
            0 => number.clone(),
            1 => grouped(&number, 4, ' '),
            _ => grouped(&number, 4, '-'),
        };
        Planted {
            written,
            normalized: number,
        }
    });
    let ahv_number = (digits(9), 0..3usize).prop_map(|(nine, format)| {
        let dotted = ahv(&nine, true);
        let normalized = dotted.replace('.', "");
        let written = match format {
            0 => dotted,
            1 => normalized.clone(),
            _ => dotted.replace('.', " "),
        };
        Planted {
            written,
            normalized,
        }
    });
    let iban = (digits(17), any::<bool>()).prop_map(|(bban, spaced)| {
        let number = iban_ch(&bban, true);
        let written = if spaced {
            grouped(&number, 4, ' ')
        } else {
            number.clone()
        };
        Planted {
            written,
            normalized: number,
        }
    });
    prop_oneof![email, card, ahv_number, iban]
}

/// A secret planted under a secret key name: any letters (also non-ASCII), long enough to be
/// unique in the datum.
fn planted_secret() -> impl Strategy<Value = (String, Planted)> {
    (
        proptest::sample::select(SECRET_KEYS),
        "[A-Za-zäöüéß]{12,20}",
    )
        .prop_map(|(key, secret)| {
            (
                key.to_owned(),
                Planted {
                    normalized: secret.clone(),
                    written: secret,
                },
            )
        })
}

/// Text no rule matches: words, amounts, dates, and numbers whose check digits fail.
fn benign_text() -> impl Strategy<Value = String> {
    let words = proptest::collection::vec(WORDS, 1..4).prop_map(|w| w.join(" "));
    let order = (2u32..7, digits(14), any::<bool>()).prop_map(|(first, rest, spaced)| {
        let number = card(&format!("{first}{rest}"), false);
        if spaced {
            grouped(&number, 4, ' ')
        } else {
            number
        }
    });
    let bad_ahv = (digits(9), any::<bool>()).prop_map(|(nine, dots)| {
        let number = ahv(&nine, false);
        if dots {
            number
        } else {
            number.replace('.', "")
        }
    });
    let bad_iban = digits(17).prop_map(|bban| iban_ch(&bban, false));
    let misc = prop_oneof![
        Just("1250.50 CHF".to_owned()),
        Just("2026-05-28T08:00:00Z".to_owned()),
        Just("+41 79 123 45 67".to_owned()),
        Just("@home".to_owned()),
    ];
    (
        words,
        prop_oneof![order, bad_ahv, bad_iban, misc, Just(String::new())],
    )
        .prop_map(|(words, number)| {
            if number.is_empty() {
                words
            } else {
                format!("{words} ref {number}")
            }
        })
}

/// A JSON tree no rule matches (member names from a harmless list).
fn benign_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        benign_text().prop_map(Value::from),
        (0u32..100_000).prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
        Just(json!(12.5)),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec(
                (
                    proptest::sample::select(
                        &["status", "amount", "note", "city", "items", "ref"][..]
                    ),
                    inner
                ),
                0..4
            )
            .prop_map(|members| Value::Object(
                members
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect()
            )),
        ]
    })
}

/// Where a planted value sits in a JSON document: member names and array positions.
#[derive(Debug, Clone)]
enum Step {
    Member(&'static str),
    Element(usize),
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(
        prop_oneof![
            proptest::sample::select(&["data", "list", "customer", "x"][..]).prop_map(Step::Member),
            (0usize..3).prop_map(Step::Element),
        ],
        0..5,
    )
}

fn wrap(mut value: Value, steps: &[Step]) -> Value {
    for step in steps.iter().rev() {
        value = match step {
            Step::Member(name) => json!({ *name: value }),
            Step::Element(position) => {
                let mut items: Vec<Value> = (0..*position)
                    .map(|i| json!(format!("filler {i}")))
                    .collect();
                items.push(value);
                items.push(json!("tail"));
                Value::Array(items)
            }
        };
    }
    value
}

/// One planted value in a JSON document.
#[derive(Debug, Clone)]
enum JsonPlant {
    /// `{secret key: secret}` at the end of the path.
    Keyed(String, Planted, Vec<Step>),
    /// A string holding the pattern among words.
    Text(String, Planted, String, Vec<Step>),
    /// A card number as a JSON integer.
    Integer(Planted, Vec<Step>),
}

fn json_plant() -> impl Strategy<Value = JsonPlant> {
    prop_oneof![
        (planted_secret(), steps()).prop_map(|((k, p), s)| JsonPlant::Keyed(k, p, s)),
        (WORDS, planted_pattern(), WORDS, steps())
            .prop_map(|(a, p, b, s)| JsonPlant::Text(a, p, b, s)),
        (2u32..7, digits(14), steps()).prop_map(|(first, rest, s)| {
            let number = card(&format!("{first}{rest}"), true);
            JsonPlant::Integer(
                Planted {
                    written: number.clone(),
                    normalized: number,
                },
                s,
            )
        }),
    ]
}

impl JsonPlant {
    fn value(&self) -> (Value, &Planted) {
        match self {
            Self::Keyed(key, planted, steps) => (
                wrap(json!({ key.as_str(): planted.written }), steps),
                planted,
            ),
            Self::Text(a, planted, b, steps) => (
                wrap(json!(format!("{a} {} {b}", planted.written)), steps),
                planted,
            ),
            Self::Integer(planted, steps) => {
                let number: u64 = planted.written.parse().unwrap();
                (wrap(json!(number), steps), planted)
            }
        }
    }
}

/// An event-data entry or a value object-data entry.
#[derive(Debug, Clone)]
enum Entry {
    Benign(String),
    Secret(String, Planted),
    Text(String, Planted, String),
}

fn entry() -> impl Strategy<Value = Entry> {
    prop_oneof![
        benign_text().prop_map(Entry::Benign),
        planted_secret().prop_map(|(k, p)| Entry::Secret(k, p)),
        (WORDS, planted_pattern(), WORDS).prop_map(|(a, p, b)| Entry::Text(a, p, b)),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    user: String,
    events: Vec<Entry>,
    values: Vec<Entry>,
    /// JSON documents: a harmless part under "keep", the plants, and pretty-printed or not.
    docs: Vec<(Value, Vec<JsonPlant>, bool)>,
    /// Actions of: secret keys, e-mail, card, AHV, IBAN.
    actions: [Action; 5],
    user_rule: bool,
    key: [u8; 16],
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        Just(Action::Mask),
        Just(Action::Drop),
        Just(Action::Pseudonymize)
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        "[a-z0-9-]{3,12}",
        proptest::collection::vec(entry(), 0..6),
        proptest::collection::vec(entry(), 0..6),
        proptest::collection::vec(
            (
                benign_json(),
                proptest::collection::vec(json_plant(), 0..4),
                any::<bool>(),
            ),
            0..4,
        ),
        [action(), action(), action(), action(), action()],
        any::<bool>(),
        any::<[u8; 16]>(),
    )
        .prop_map(
            |(user, events, values, docs, actions, user_rule, key)| Case {
                user,
                events,
                values,
                docs,
                actions,
                user_rule,
                key,
            },
        )
}

fn sanitizer_of(case: &Case) -> Sanitizer {
    let [keys, email, card, ahv, iban] = case.actions;
    let mut config = SanitizerConfig::default()
        .defaults(false)
        .pseudonym_key(case.key)
        .rule(RuleConfig::keys(
            "secret-keys",
            DEFAULT_SECRET_KEYS.iter().copied(),
            keys,
        ))
        .rule(RuleConfig::value("email", ValuePattern::Email, email))
        .rule(RuleConfig::value("card", ValuePattern::PaymentCard, card))
        .rule(RuleConfig::value("ahv", ValuePattern::Ahv, ahv))
        .rule(RuleConfig::value("iban", ValuePattern::Iban, iban));
    if case.user_rule {
        config = config.rule(RuleConfig::user_id("user"));
    }
    Sanitizer::new(&config).unwrap()
}

/// The command of a case, the planted values, and the harmless entries by key.
fn build(case: &Case) -> (CreateAuditRecordCommand, Vec<Planted>) {
    let mut planted = Vec::new();
    let mut plant = |entry: &Entry, index: usize| -> (String, String) {
        match entry {
            Entry::Benign(text) => (format!("keep{index}"), text.clone()),
            Entry::Secret(key, p) => {
                planted.push(p.clone());
                (key.clone(), p.written.clone())
            }
            Entry::Text(a, p, b) => {
                planted.push(p.clone());
                (format!("text{index}"), format!("{a} {} {b}", p.written))
            }
        }
    };
    let events: Vec<AuditEventDataElement> = case
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let (k, v) = plant(e, i);
            event(&k, &v)
        })
        .collect();
    let mut objects: Vec<AuditObjectData> = case
        .values
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let (k, v) = plant(e, i);
            value(&k, &v)
        })
        .collect();
    objects.push(s3("keep-scan", "s3://invoices/2026/INV-1.pdf"));
    for (index, (keep, plants, pretty)) in case.docs.iter().enumerate() {
        let mut doc = serde_json::Map::new();
        doc.insert("keep".to_owned(), keep.clone());
        for (p, plant) in plants.iter().enumerate() {
            let (value, planted_value) = plant.value();
            planted.push(planted_value.clone());
            doc.insert(format!("p{p}"), value);
        }
        let doc = Value::Object(doc);
        let text = if *pretty {
            serde_json::to_string_pretty(&doc).unwrap()
        } else {
            doc.to_string()
        };
        objects.push(json(&format!("doc{index}"), &text));
    }
    (with_data(command(&case.user), events, objects), planted)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn planted_values_never_reach_the_datum_and_the_rest_is_unchanged(case in case()) {
        let sanitizer = sanitizer_of(&case);
        let (original, planted) = build(&case);
        let before = original.to_avro_datum();
        for p in &planted {
            prop_assert!(contains(&before, &p.written), "planted {:?} is in the datum before", p.written);
        }
        let mut command = original.clone();
        let report = sanitizer.sanitize(&mut command);
        let datum = command.to_avro_datum();
        for p in &planted {
            prop_assert!(!contains(&datum, &p.written), "{:?} leaked", p.written);
            prop_assert!(!contains(&datum, &p.normalized), "{:?} leaked (normalized)", p.normalized);
        }
        prop_assert!(report.total() >= u64::try_from(planted.len()).unwrap());

        // the envelope never changes; the user id only with the user rule
        prop_assert_eq!(&command.identity, &original.identity);
        prop_assert_eq!(&command.r#type, &original.r#type);
        prop_assert_eq!(&command.publisher, &original.publisher);
        prop_assert_eq!(&command.process_id, &original.process_id);
        prop_assert_eq!(&command.command_version, &original.command_version);
        prop_assert_eq!(&command.payload.event.context, &original.payload.event.context);
        if case.user_rule {
            prop_assert_eq!(Some(user_id(&command)), sanitizer.pseudonym(&case.user));
        } else {
            prop_assert_eq!(user_id(&command), case.user.clone());
        }

        // harmless entries: byte-identical, in order
        let keep = |c: &CreateAuditRecordCommand| -> Vec<(String, String)> {
            events(c).into_iter().filter(|(k, _)| k.starts_with("keep")).collect()
        };
        prop_assert_eq!(keep(&command), keep(&original));
        let kept_values = |c: &CreateAuditRecordCommand| -> Vec<AuditObjectData> {
            objects(c)
                .iter()
                .filter(|o| match o {
                    AuditObjectData::AuditObjectDataValue(v) => v.name.starts_with("keep"),
                    AuditObjectData::AuditObjectDataS3(_) => true,
                    AuditObjectData::AuditObjectDataJSON(_) => false,
                })
                .cloned()
                .collect()
        };
        prop_assert_eq!(kept_values(&command), kept_values(&original));
        // JSON documents: without plants byte-identical; with plants the harmless part equal
        for (index, (keep, plants, _)) in case.docs.iter().enumerate() {
            let name = format!("doc{index}");
            let before = json_of(&original, &name).unwrap();
            let after = json_of(&command, &name);
            prop_assert!(after.is_some(), "{} was dropped", name);
            let after = after.unwrap();
            if plants.is_empty() {
                prop_assert_eq!(after, before);
            } else {
                let parsed: Value = serde_json::from_str(&after).unwrap();
                prop_assert_eq!(&parsed["keep"], keep);
            }
        }
    }

    #[test]
    fn pseudonyms_are_stable_across_commands_and_differ_across_keys(
        p in planted_pattern(),
        (secret_key, secret) in planted_secret(),
        steps in steps(),
        key_a in any::<[u8; 16]>(),
        key_b in any::<[u8; 16]>(),
    ) {
        prop_assume!(key_a != key_b);
        let sanitizer = |key: [u8; 16]| {
            let all = Action::Pseudonymize;
            Sanitizer::new(&SanitizerConfig::default()
                .defaults(false)
                .pseudonym_key(key)
                .rule(RuleConfig::keys("secret-keys", DEFAULT_SECRET_KEYS.iter().copied(), all))
                .rule(RuleConfig::value("email", ValuePattern::Email, all))
                .rule(RuleConfig::value("card", ValuePattern::PaymentCard, all))
                .rule(RuleConfig::value("ahv", ValuePattern::Ahv, all))
                .rule(RuleConfig::value("iban", ValuePattern::Iban, all))
                .rule(RuleConfig::user_id("user"))).unwrap()
        };
        let (a, b) = (sanitizer(key_a), sanitizer(key_b));
        let pattern_pseudonym = a.pseudonym(&p.normalized).unwrap();
        let secret_pseudonym = a.pseudonym(&secret.written).unwrap();
        prop_assert_ne!(Some(pattern_pseudonym.clone()), b.pseudonym(&p.normalized));
        prop_assert_ne!(Some(secret_pseudonym.clone()), b.pseudonym(&secret.written));

        // command 1: in event data; command 2: nested in JSON object data, another user
        let text = format!("see {} now", p.written);
        let mut first = with_data(command("u-1"), vec![event("note", &text), event(&secret_key, &secret.written)], vec![]);
        let doc = wrap(json!({"note": text, secret_key.as_str(): secret.written}), &steps);
        let mut second = with_data(command("u-1"), vec![], vec![json("d", &doc.to_string())]);
        a.sanitize(&mut first);
        a.sanitize(&mut second);
        prop_assert_eq!(events(&first), vec![
            ("note".to_owned(), format!("see {pattern_pseudonym} now")),
            (secret_key.clone(), secret_pseudonym.clone()),
        ]);
        let second_json = json_of(&second, "d").unwrap();
        let expected_text = format!("\"see {pattern_pseudonym} now\"");
        let expected_secret = format!("\"{secret_pseudonym}\"");
        prop_assert!(second_json.contains(&expected_text), "{} in {}", expected_text, second_json);
        prop_assert!(second_json.contains(&expected_secret), "{} in {}", expected_secret, second_json);
        prop_assert_eq!(user_id(&first), user_id(&second));
        prop_assert_eq!(Some(user_id(&first)), a.pseudonym("u-1"));

        // the other key: other pseudonyms
        let mut third = with_data(command("u-1"), vec![event("note", &text)], vec![]);
        b.sanitize(&mut third);
        prop_assert_ne!(&events(&third)[0].1, &events(&first)[0].1);
        prop_assert_ne!(user_id(&third), user_id(&first));
    }
}
