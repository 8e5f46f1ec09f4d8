//! Acceptance 2: the value patterns with valid and invalid check digits.

use audit_sanitize::{MASK, Sanitizer, ValuePattern};

use crate::support::*;

/// What the default sanitizer makes of an event-data value under a harmless key.
fn sanitized(text: &str) -> String {
    let mut command = with_data(command("u1"), vec![event("note", text)], vec![]);
    Sanitizer::with_defaults().sanitize(&mut command);
    events(&command).remove(0).1
}

#[test]
fn card_numbers_are_masked_only_when_luhn_passes() {
    // well-known test numbers (Visa, Mastercard, Amex) and generated ones
    for valid in [
        "4111111111111111",
        "5555555555554444",
        "378282246310005",
        &card("400000000000000", true),
        &card("512345678901234", true),
        &card("400012341234123412", true),
    ] {
        assert_eq!(
            sanitized(&format!("order {valid} paid")),
            format!("order {MASK} paid")
        );
        assert_eq!(sanitized(valid), MASK);
        assert_eq!(
            sanitized(&grouped(valid, 4, ' ')),
            MASK,
            "{valid} grouped by spaces"
        );
        assert_eq!(
            sanitized(&grouped(valid, 4, '-')),
            MASK,
            "{valid} grouped by hyphens"
        );
    }
    // 16-digit order numbers that fail Luhn stay as they are
    for invalid in [
        "4111111111111112",
        &card("400000000000000", false),
        &card("512345678901234", false),
        &card("612345678901234", false),
    ] {
        let text = format!("order {invalid}");
        assert_eq!(sanitized(&text), text, "{invalid} fails Luhn: kept");
        assert_eq!(
            sanitized(&grouped(invalid, 4, ' ')),
            grouped(invalid, 4, ' ')
        );
    }
    // Luhn passes but not a card: too short, too long, not an issuer range, or part of a longer number
    let twelve = card("41111111111", true);
    assert_eq!(sanitized(&twelve), twelve);
    let twenty = card("4111111111111111111", true);
    assert_eq!(sanitized(&twenty), twenty);
    let issuer_9 = card("911111111111111", true);
    assert_eq!(sanitized(&issuer_9), issuer_9);
    assert_eq!(
        sanitized("1250.50 CHF on 2026-05-28"),
        "1250.50 CHF on 2026-05-28"
    );
}

#[test]
fn two_numbers_in_one_run_are_found_both() {
    let text = format!(
        "4111 1111 1111 1111 {}",
        ahv("123456789", true).replace('.', " ")
    );
    assert_eq!(sanitized(&text), format!("{MASK} {MASK}"));
}

#[test]
fn ahv_numbers_are_masked_only_when_the_ean13_check_digit_is_right() {
    // 756.9217.0769.85 is the example number of the Swiss social insurance
    for nine in ["921707698", "123456789", "000000000", "999999999"] {
        let valid = ahv(nine, true);
        assert_eq!(
            sanitized(&format!("AHV {valid}.")),
            format!("AHV {MASK}."),
            "{valid}"
        );
        assert_eq!(
            sanitized(&valid.replace('.', "")),
            MASK,
            "{valid} without dots"
        );
        assert_eq!(
            sanitized(&valid.replace('.', " ")),
            MASK,
            "{valid} with spaces"
        );
        let invalid = ahv(nine, false);
        assert_eq!(
            sanitized(&format!("AHV {invalid}")),
            format!("AHV {invalid}")
        );
        assert_eq!(
            sanitized(&invalid.replace('.', "")),
            invalid.replace('.', "")
        );
    }
    assert!(ValuePattern::Ahv.is_found_in("756.9217.0769.85"));
    assert!(!ValuePattern::Ahv.is_found_in("756.9217.0769.86"));
    // the right check digit but not 756, or another grouping
    assert!(!ValuePattern::Ahv.is_found_in("757.9217.0769.82"));
    assert!(!ValuePattern::Ahv.is_found_in("7569.2170.7698.5"));
}

#[test]
fn ibans_are_masked_only_when_mod_97_passes() {
    // the IBAN registry's examples (CH, DE, GB, FR, NL) and generated Swiss ones
    let examples = [
        "CH9300762011623852957",
        "DE89370400440532013000",
        "GB29NWBK60161331926819",
        "FR1420041010050500013M02606",
        "NL91ABNA0417164300",
    ];
    for valid in examples
        .iter()
        .map(|s| (*s).to_owned())
        .chain(["00762011623852957", "12345678901234567"].map(|b| iban_ch(b, true)))
    {
        assert_eq!(
            sanitized(&format!("pay to {valid} now")),
            format!("pay to {MASK} now")
        );
        assert_eq!(sanitized(&grouped(&valid, 4, ' ')), MASK, "{valid} grouped");
        assert_eq!(
            sanitized(&valid.to_lowercase()),
            MASK,
            "{valid} in lower case"
        );
    }
    for bban in ["00762011623852957", "12345678901234567"] {
        let invalid = iban_ch(bban, false);
        assert_eq!(sanitized(&invalid), invalid, "{invalid}: mod 97 fails");
        assert_eq!(
            sanitized(&grouped(&invalid, 4, ' ')),
            grouped(&invalid, 4, ' ')
        );
    }
    // mod 97 passes but the length is not Switzerland's
    assert!(!ValuePattern::Iban.is_found_in("CH930076201162385295"));
    assert!(!ValuePattern::Iban.is_found_in("DE8937040044053201300"));
    // glued to a word
    assert!(!ValuePattern::Iban.is_found_in("xCH9300762011623852957"));
    // a grouped IBAN followed by a word: the word is not part of it
    assert_eq!(
        sanitized("CH93 0076 2011 6238 5295 7 ab12"),
        format!("{MASK} ab12")
    );
}

#[test]
fn email_addresses_are_masked() {
    for (text, expected) in [
        ("alice@example.org", MASK.to_owned()),
        (
            "Mail: <Alice.Smith+audit@mail.example.co.uk>.",
            format!("Mail: <{MASK}>."),
        ),
        ("a@b.ch, c_d@e-f.com", format!("{MASK}, {MASK}")),
        (
            "end of sentence bob@example.org.",
            format!("end of sentence {MASK}."),
        ),
    ] {
        assert_eq!(sanitized(text), expected, "{text}");
    }
    for not_email in [
        "@home",
        "user@localhost",
        "a@b.c",
        "x@-a.ch",
        "first.@x.ch@",
        "a@@b.ch",
    ] {
        assert_eq!(sanitized(not_email), not_email, "{not_email}");
    }
}
