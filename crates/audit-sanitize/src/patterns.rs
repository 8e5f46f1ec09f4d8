//! Hand-written scanners for the value patterns: e-mail addresses, payment card numbers (Luhn),
//! Swiss AHV numbers (EAN-13) and IBANs (mod 97). One pass over the bytes each, no regex, no
//! allocation unless something is found.

use serde::{Deserialize, Serialize};

/// A value pattern: what is searched inside string values (event-data values, object-data values,
/// S3 references, string and integer leaves of JSON object data).
///
/// A value may contain several matches; each match is replaced (mask, pseudonym) and the rest of
/// the value is kept, or the whole entry is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ValuePattern {
    /// `local@domain.tld` (ASCII): local part of the RFC 5322 atom characters and dots, a domain
    /// of at least two labels of letters, digits and hyphens, a top-level label of two or more
    /// letters. Normalized (for pseudonyms) to lower case.
    Email,
    /// 13 to 19 digits, optionally grouped by single spaces or hyphens, starting with 2-6 (the
    /// issuer ranges of the card networks), whose Luhn check digit is right; not glued to a
    /// letter (`INV4111111111111111` is a word). Normalized to the digits.
    PaymentCard,
    /// The Swiss social security number `756.xxxx.xxxx.xx`: 13 digits starting with 756, grouped
    /// by dots or spaces (3-4-4-2) or not grouped, not glued to a letter, whose EAN-13 check digit
    /// is right. Normalized to
    /// the digits.
    Ahv,
    /// An IBAN: two letters, two check digits, then letters and digits, optionally grouped by
    /// single spaces; the length of the country (exact for the countries of the IBAN registry
    /// known here, 15 to 34 otherwise) and the mod-97 check (ISO 13616). Normalized to upper case
    /// without spaces.
    Iban,
}

impl ValuePattern {
    /// The pattern's name as in the configuration (`email`, `payment_card`, `ahv`, `iban`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::PaymentCard => "payment_card",
            Self::Ahv => "ahv",
            Self::Iban => "iban",
        }
    }

    /// Whether `text` contains the pattern anywhere.
    ///
    /// ```
    /// use audit_sanitize::ValuePattern;
    /// assert!(ValuePattern::PaymentCard.is_found_in("card 4111 1111 1111 1111"));
    /// assert!(!ValuePattern::PaymentCard.is_found_in("order 4111 1111 1111 1112")); // Luhn fails
    /// assert!(ValuePattern::Ahv.is_found_in("756.9217.0769.85"));
    /// assert!(ValuePattern::Iban.is_found_in("CH93 0076 2011 6238 5295 7"));
    /// assert!(ValuePattern::Email.is_found_in("mail alice@example.org now"));
    /// ```
    #[must_use]
    pub fn is_found_in(self, text: &str) -> bool {
        let mut found = false;
        scan(self, text.as_bytes(), &mut |_, _| found = true);
        found
    }
}

/// Byte `i` of `b`, if any.
fn at(b: &[u8], i: usize) -> Option<u8> {
    b.get(i).copied()
}

/// Whether `b` could hold any pattern at all (they all need a digit or an `@`).
pub(crate) fn may_match(b: &[u8]) -> bool {
    b.iter().any(|c| c.is_ascii_digit() || *c == b'@')
}

/// What one pass over a value tells about which patterns are possible in it.
#[derive(Clone, Copy)]
pub(crate) struct Profile {
    at: bool,
    digits: usize,
}

impl Profile {
    pub(crate) fn of(b: &[u8]) -> Self {
        let mut profile = Self {
            at: false,
            digits: 0,
        };
        for c in b {
            if c.is_ascii_digit() {
                profile.digits += 1;
            } else if *c == b'@' {
                profile.at = true;
            }
        }
        profile
    }

    /// Whether `pattern` can occur (e-mail needs an `@`, cards and AHV numbers 13 digits, IBANs
    /// 2 check digits).
    pub(crate) fn allows(self, pattern: ValuePattern) -> bool {
        match pattern {
            ValuePattern::Email => self.at,
            ValuePattern::PaymentCard | ValuePattern::Ahv => self.digits >= 13,
            ValuePattern::Iban => self.digits >= 2,
        }
    }
}

/// Calls `found(start, end)` for every match of `pattern` in `b` (byte ranges, left to right,
/// not overlapping each other). Ranges always fall on ASCII bytes, so on `char` boundaries.
pub(crate) fn scan(pattern: ValuePattern, b: &[u8], found: &mut dyn FnMut(usize, usize)) {
    match pattern {
        ValuePattern::Email => scan_email(b, found),
        ValuePattern::PaymentCard => scan_digit_groups(b, DigitKind::Card, found),
        ValuePattern::Ahv => scan_digit_groups(b, DigitKind::Ahv, found),
        ValuePattern::Iban => scan_iban(b, found),
    }
}

/// The normalized form of a match (for pseudonyms): what identifies the value whatever its
/// formatting.
pub(crate) fn normalize(pattern: ValuePattern, matched: &str) -> String {
    match pattern {
        ValuePattern::Email => matched.to_ascii_lowercase(),
        ValuePattern::PaymentCard | ValuePattern::Ahv => {
            matched.chars().filter(char::is_ascii_digit).collect()
        }
        ValuePattern::Iban => matched
            .chars()
            .filter(|c| *c != ' ')
            .map(|c| c.to_ascii_uppercase())
            .collect(),
    }
}

// ---- e-mail ----

fn is_local(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b".!#$%&'*+/=?^_`{|}~-".contains(&c)
}

fn is_domain(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'.' || c == b'-'
}

fn scan_email(b: &[u8], found: &mut dyn FnMut(usize, usize)) {
    let mut from = 0;
    let mut last_end = 0;
    while let Some(offset) = b
        .get(from..)
        .and_then(|rest| rest.iter().position(|c| *c == b'@'))
    {
        let at_pos = from + offset;
        from = at_pos + 1;
        // local part: back from the '@' (not into an earlier match)
        let mut start = at_pos;
        while start > last_end && at(b, start - 1).is_some_and(is_local) {
            start -= 1;
        }
        while start < at_pos && at(b, start) == Some(b'.') {
            start += 1;
        }
        // domain: forward from the '@'
        let mut end = at_pos + 1;
        while at(b, end).is_some_and(is_domain) {
            end += 1;
        }
        while end > at_pos + 1 && matches!(at(b, end - 1), Some(b'.' | b'-')) {
            end -= 1;
        }
        let (Some(local), Some(domain)) = (b.get(start..at_pos), b.get(at_pos + 1..end)) else {
            continue;
        };
        if local.is_empty() || local.len() > 64 || local.ends_with(b".") || !valid_domain(domain) {
            continue;
        }
        found(start, end);
        last_end = end;
        from = end;
    }
}

fn valid_domain(domain: &[u8]) -> bool {
    let mut labels = 0;
    let mut last: &[u8] = &[];
    for label in domain.split(|c| *c == b'.') {
        if label.is_empty() || label.starts_with(b"-") || label.ends_with(b"-") {
            return false;
        }
        labels += 1;
        last = label;
    }
    labels >= 2 && last.len() >= 2 && last.iter().all(u8::is_ascii_alphabetic)
}

// ---- digit groups: payment cards and AHV numbers ----

#[derive(Clone, Copy, PartialEq, Eq)]
enum DigitKind {
    Card,
    Ahv,
}

/// A run of digits in the text and the separator before it (`0` for the first of a run).
#[derive(Clone, Copy)]
struct Group {
    start: usize,
    end: usize,
    separator_before: u8,
    /// Preceded or followed by a letter: never part of a number.
    glued: bool,
}

/// Finds runs of digit groups separated by single spaces, hyphens or dots, then tries the
/// contiguous group ranges from the left, longest first, so `4111 1111 1111 1111 756...` finds
/// both numbers while a single 20-digit group holds no 16-digit card.
fn scan_digit_groups(b: &[u8], kind: DigitKind, found: &mut dyn FnMut(usize, usize)) {
    // both kinds need at least 13 digits
    if b.iter().filter(|c| c.is_ascii_digit()).count() < 13 {
        return;
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !at(b, i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
            continue;
        }
        groups.clear();
        let mut separator_before = 0;
        loop {
            let start = i;
            while at(b, i).is_some_and(|c| c.is_ascii_digit()) {
                i += 1;
            }
            // digits glued to a letter (`CH93...`, `INV4111...`) belong to a word, not a number
            let glued = (start > 0 && at(b, start - 1).is_some_and(|c| c.is_ascii_alphabetic()))
                || at(b, i).is_some_and(|c| c.is_ascii_alphabetic());
            groups.push(Group {
                start,
                end: i,
                separator_before,
                glued,
            });
            match (at(b, i), at(b, i + 1)) {
                (Some(sep @ (b' ' | b'-' | b'.')), Some(next)) if next.is_ascii_digit() => {
                    separator_before = sep;
                    i += 1;
                }
                _ => break,
            }
        }
        match_groups(b, &groups, kind, found);
    }
}

fn match_groups(b: &[u8], groups: &[Group], kind: DigitKind, found: &mut dyn FnMut(usize, usize)) {
    let mut first = 0;
    while first < groups.len() {
        let mut matched = None;
        let mut digits = 0;
        let mut last_fit = None;
        // the longest range first: find how far the digit count allows, then shrink
        for (index, group) in groups.iter().enumerate().skip(first) {
            digits += group.end - group.start;
            if digits > 19 {
                break;
            }
            last_fit = Some(index);
        }
        if let Some(last_fit) = last_fit {
            for last in (first..=last_fit).rev() {
                if let Some(range) = groups.get(first..=last)
                    && is_number(b, range, kind)
                {
                    matched = Some(last);
                    break;
                }
            }
        }
        match matched {
            Some(last) => {
                if let (Some(a), Some(z)) = (groups.get(first), groups.get(last)) {
                    found(a.start, z.end);
                }
                first = last + 1;
            }
            None => first += 1,
        }
    }
}

/// Whether the digit groups `range` form a number of `kind` (separators inside the range
/// allowed for it, length, prefix, check digit).
fn is_number(b: &[u8], range: &[Group], kind: DigitKind) -> bool {
    let allowed: &[u8] = match kind {
        DigitKind::Card => b" -",
        DigitKind::Ahv => b". ",
    };
    if range.iter().any(|g| g.glued)
        || range
            .iter()
            .skip(1)
            .any(|g| !allowed.contains(&g.separator_before))
    {
        return false;
    }
    let mut digits = [0u8; 19];
    let mut count = 0;
    for group in range {
        for c in b.get(group.start..group.end).unwrap_or_default() {
            let Some(slot) = digits.get_mut(count) else {
                return false;
            };
            *slot = c - b'0';
            count += 1;
        }
    }
    let digits = digits.get(..count).unwrap_or_default();
    match kind {
        DigitKind::Card => {
            (13..=19).contains(&count)
                && digits.first().is_some_and(|d| (2..=6).contains(d))
                && luhn_valid(digits)
        }
        DigitKind::Ahv => {
            count == 13
                && digits.starts_with(&[7, 5, 6])
                && (range.len() == 1 || ahv_grouping(range))
                && ean13_valid(digits)
        }
    }
}

/// AHV numbers grouped as 3-4-4-2 with one kind of separator.
fn ahv_grouping(range: &[Group]) -> bool {
    let lengths: Vec<usize> = range.iter().map(|g| g.end - g.start).collect();
    let separators = range.get(1..).unwrap_or_default();
    lengths == [3, 4, 4, 2]
        && separators
            .iter()
            .all(|g| Some(g.separator_before) == separators.first().map(|f| f.separator_before))
}

/// The Luhn check (ISO/IEC 7812-1) over the digits, check digit last.
pub(crate) fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(position, digit)| {
            let d = u32::from(*digit);
            if position % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The EAN-13 check (weights 1, 3, 1, 3, ... from the left over the first 12 digits).
pub(crate) fn ean13_valid(digits: &[u8]) -> bool {
    let [body @ .., check] = digits else {
        return false;
    };
    if body.len() != 12 {
        return false;
    }
    let sum: u32 = body
        .iter()
        .enumerate()
        .map(|(position, d)| u32::from(*d) * if position % 2 == 0 { 1 } else { 3 })
        .sum();
    (10 - sum % 10) % 10 == u32::from(*check)
}

// ---- IBAN ----

/// IBAN lengths of the IBAN registry's countries (SWIFT, ISO 13616).
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NL", 18),
    (b"NO", 15),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"SA", 24),
    (b"SC", 31),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
];

fn iban_length_ok(country: [u8; 2], length: usize) -> bool {
    let country = country.map(|c| c.to_ascii_uppercase());
    match IBAN_LENGTHS.iter().find(|(code, _)| **code == country) {
        Some((_, expected)) => length == *expected,
        None => (15..=34).contains(&length),
    }
}

fn scan_iban(b: &[u8], found: &mut dyn FnMut(usize, usize)) {
    let mut i = 0;
    // group ends (exclusive) and the alphanumeric count up to them
    let mut ends: Vec<(usize, usize)> = Vec::new();
    while i + 4 <= b.len() {
        let starts_here = at(b, i).is_some_and(|c| c.is_ascii_alphabetic())
            && at(b, i + 1).is_some_and(|c| c.is_ascii_alphabetic())
            && at(b, i + 2).is_some_and(|c| c.is_ascii_digit())
            && at(b, i + 3).is_some_and(|c| c.is_ascii_digit())
            && (i == 0 || !at(b, i - 1).is_some_and(|c| c.is_ascii_alphanumeric()));
        if !starts_here {
            i += 1;
            continue;
        }
        ends.clear();
        let mut j = i;
        let mut count = 0;
        loop {
            while at(b, j).is_some_and(|c| c.is_ascii_alphanumeric()) && count <= 34 {
                j += 1;
                count += 1;
            }
            if count > 34 {
                break;
            }
            ends.push((j, count));
            if at(b, j) == Some(b' ') && at(b, j + 1).is_some_and(|c| c.is_ascii_alphanumeric()) {
                j += 1;
            } else {
                break;
            }
        }
        let country = [at(b, i).unwrap_or(0), at(b, i + 1).unwrap_or(0)];
        let matched = ends.iter().rev().find(|(end, count)| {
            iban_length_ok(country, *count) && b.get(i..*end).is_some_and(iban_checksum_ok)
        });
        match matched {
            Some((end, _)) => {
                found(i, *end);
                i = *end;
            }
            None => i += 1,
        }
    }
}

/// The ISO 13616 check: the first four characters moved to the end, letters as 10..35, the
/// number mod 97 is 1. Spaces are skipped.
pub(crate) fn iban_checksum_ok(candidate: &[u8]) -> bool {
    let chars = candidate.iter().copied().filter(|c| *c != b' ');
    let rearranged = chars.clone().skip(4).chain(chars.take(4));
    let mut remainder: u32 = 0;
    for c in rearranged {
        remainder = match c {
            b'0'..=b'9' => (remainder * 10 + u32::from(c - b'0')) % 97,
            b'A'..=b'Z' => (remainder * 100 + u32::from(c - b'A') + 10) % 97,
            b'a'..=b'z' => (remainder * 100 + u32::from(c - b'a') + 10) % 97,
            _ => return false,
        };
    }
    remainder == 1
}
