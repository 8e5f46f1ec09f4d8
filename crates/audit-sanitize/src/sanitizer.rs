//! The compiled [`Sanitizer`] and what it does to a command.

use std::collections::HashSet;
use std::sync::Arc;

use audit_schema::{
    AuditEventDataElement, AuditObjectData, AuditTrigger, CompactString, CreateAuditRecordCommand,
};
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

use crate::config::{Action, PseudonymKey, RuleConfig, SanitizerConfig, default_rules};
use crate::error::Error;
use crate::json;
use crate::key::{KeyIndex, KeyPattern, normalize_into};
use crate::patterns::{self, ValuePattern};
use crate::report::{Counts, SanitizeReport};

/// What replaces a masked value.
pub const MASK: &str = "****MASKED****";
/// The prefix of every pseudonym.
pub const PSEUDONYM_PREFIX: &str = "pseud:";
/// The metrics counter of changes, labels `rule` and `action`.
pub const CHANGES_TOTAL: &str = "audit_sanitizer_changes_total";

/// A JSON pointer segment.
#[derive(Debug, Clone)]
pub(crate) enum Segment {
    /// `*`: any member or index.
    Any,
    /// A member name (or an array index when it is a number).
    Name(String, Option<usize>),
}

#[derive(Debug, Clone)]
pub(crate) enum Target {
    Keys(Vec<KeyPattern>),
    Pointer {
        object_data: Option<KeyPattern>,
        segments: Vec<Segment>,
    },
    Value(ValuePattern),
    UserId,
}

#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub(crate) name: Arc<str>,
    pub(crate) target: Target,
    pub(crate) action: Action,
}

/// The keyed HMAC-SHA-256, ready to clone per pseudonym.
#[derive(Clone)]
struct Keyed(Hmac<Sha256>);

impl std::fmt::Debug for Keyed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PseudonymKey(<redacted>)")
    }
}

/// A compiled, validated set of rules; cheap to share (`Arc`) between threads and builders.
///
/// [`sanitize`](Self::sanitize) changes event data, object data and (only with a `user_id` rule)
/// the user id of a user trigger; the envelope (`identity` with the idempotence id, `type`,
/// `publisher`, `references`, `processId`, `commandVersion`), the timestamp, the event type and
/// context, the audited object's type, id and version, the object-data names and roles, the
/// event-data keys and system-component triggers are never touched.
#[derive(Debug, Clone)]
pub struct Sanitizer {
    pub(crate) rules: Vec<Rule>,
    /// Indexes of the key and pointer rules (in order).
    pub(crate) node_rules: Vec<usize>,
    /// Indexes of the key rules (in order).
    pub(crate) key_rules: Vec<usize>,
    /// Indexes of the value rules (in order).
    pub(crate) value_rules: Vec<usize>,
    /// Index of the user-id rule.
    user_rule: Option<usize>,
    /// The patterns of the key rules, for one pass over a name.
    key_index: KeyIndex,
    key: Option<Keyed>,
}

impl Sanitizer {
    /// Compiles and validates `config`.
    ///
    /// # Errors
    /// [`Error::InvalidRule`] naming the first bad rule (no or several targets, a bad pattern or
    /// pointer, `user_id` with another action than pseudonymize, `object_data` without `pointer`,
    /// a blank or repeated name), [`Error::MissingKey`] for a pseudonymizing rule without key,
    /// [`Error::InvalidKey`] / [`Error::KeyEnvironment`] for a bad key.
    ///
    /// ```
    /// use audit_sanitize::{Action, Error, RuleConfig, Sanitizer, SanitizerConfig};
    /// let config = SanitizerConfig::default().rule(RuleConfig::keys("empty", [" "], Action::Mask));
    /// assert!(matches!(Sanitizer::new(&config), Err(Error::InvalidRule { rule, .. }) if rule == "empty"));
    /// ```
    pub fn new(config: &SanitizerConfig) -> Result<Self, Error> {
        let key = config.pseudonym_key.as_ref().map(load_key).transpose()?;
        let defaults = if config.defaults {
            default_rules()
        } else {
            Vec::new()
        };
        let mut names = HashSet::new();
        let mut sanitizer = Self::empty(key);
        for (index, rule) in config.rules.iter().chain(defaults.iter()).enumerate() {
            let compiled = compile(index, rule)?;
            if !names.insert(compiled.name.clone()) {
                return Err(invalid(&rule.name, "the name is used by an earlier rule"));
            }
            if compiled.action == Action::Pseudonymize && sanitizer.key.is_none() {
                return Err(Error::MissingKey {
                    rule: rule.name.clone(),
                });
            }
            let position = sanitizer.rules.len();
            match &compiled.target {
                Target::Keys(patterns) => {
                    sanitizer.node_rules.push(position);
                    sanitizer.key_rules.push(position);
                    for pattern in patterns {
                        sanitizer.key_index.add(position, pattern);
                    }
                }
                Target::Pointer { .. } => sanitizer.node_rules.push(position),
                Target::Value(_) => sanitizer.value_rules.push(position),
                Target::UserId => {
                    if sanitizer.user_rule.is_some() {
                        return Err(invalid(&rule.name, "only one user_id rule is allowed"));
                    }
                    sanitizer.user_rule = Some(position);
                }
            }
            sanitizer.rules.push(compiled);
        }
        Ok(sanitizer)
    }

    /// The default rules (all masking), no pseudonym key.
    ///
    /// ```
    /// let sanitizer = audit_sanitize::Sanitizer::with_defaults();
    /// assert_eq!(sanitizer.rule_names().count(), 5);
    /// ```
    #[must_use]
    pub fn with_defaults() -> Self {
        // the default rules are valid and need no key: this cannot fail
        Self::new(&SanitizerConfig::default()).unwrap_or_else(|_| Self::empty(None))
    }

    fn empty(key: Option<Keyed>) -> Self {
        Self {
            rules: Vec::new(),
            node_rules: Vec::new(),
            key_rules: Vec::new(),
            value_rules: Vec::new(),
            user_rule: None,
            key_index: KeyIndex::default(),
            key,
        }
    }

    /// The rule names, in the order they are tried.
    pub fn rule_names(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|rule| &*rule.name)
    }

    /// Whether a rule pseudonymizes the user id of user triggers.
    #[must_use]
    pub fn pseudonymizes_user_id(&self) -> bool {
        self.user_rule.is_some()
    }

    /// The pseudonym of `value` with this sanitizer's key, `None` without key:
    /// `pseud:` followed by the first 16 bytes of HMAC-SHA-256(key, UTF-8 of `value`) in lower-case
    /// hex (38 characters). Key and pointer rules pseudonymize the whole value (a JSON member that
    /// is not a string: its compact JSON text); value patterns pseudonymize the normalized match
    /// (e-mail in lower case, card and AHV digits only, IBAN upper case without spaces), so an
    /// auditor with the key can find a known value's records.
    ///
    /// ```
    /// use audit_sanitize::{Sanitizer, SanitizerConfig};
    /// let sanitizer = Sanitizer::new(&SanitizerConfig::default().pseudonym_key([7u8; 32]))?;
    /// let pseudonym = sanitizer.pseudonym("alice@example.org").unwrap();
    /// assert!(pseudonym.starts_with("pseud:") && pseudonym.len() == 38);
    /// assert_eq!(sanitizer.pseudonym("alice@example.org"), Some(pseudonym));
    /// # Ok::<(), audit_sanitize::Error>(())
    /// ```
    #[must_use]
    pub fn pseudonym(&self, value: &str) -> Option<String> {
        let key = self.key.as_ref()?;
        let mut mac = key.0.clone();
        mac.update(value.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut out = String::with_capacity(PSEUDONYM_PREFIX.len() + 32);
        out.push_str(PSEUDONYM_PREFIX);
        for byte in digest.iter().take(16) {
            out.push(hex_digit(byte >> 4));
            out.push(hex_digit(byte & 0x0f));
        }
        Some(out)
    }

    /// The pseudonym a `user_id` rule gives `user_id`; `None` without such a rule. The builder
    /// uses it for the default idempotence id, so the clear user id never travels.
    #[must_use]
    pub fn user_id_pseudonym(&self, user_id: &str) -> Option<String> {
        self.user_rule?;
        self.pseudonym(user_id)
    }

    /// Sanitizes `command` in place and says what changed (counts per rule, never values); each
    /// change is also counted in the metrics counter [`CHANGES_TOTAL`]. Event-data and
    /// object-data lists left empty by `drop` become absent (as the builder writes them).
    /// A JSON document is rewritten (compact) only when something in it changed, otherwise its
    /// bytes stay as they are; a document that does not parse but holds a match is treated as
    /// one value by the first rule that matched in it.
    ///
    /// See the crate's quick start for an example.
    pub fn sanitize(&self, command: &mut CreateAuditRecordCommand) -> SanitizeReport {
        let mut counts = Counts::default();
        let mut work = Work {
            sanitizer: self,
            counts: &mut counts,
            name: Vec::with_capacity(32),
        };
        work.command(command);
        counts.into_report(self)
    }

    pub(crate) fn rule(&self, index: usize) -> Option<&Rule> {
        self.rules.get(index)
    }

    /// The replacement of a whole value by `rule`'s action (mask or pseudonym).
    pub(crate) fn replacement(&self, action: Action, value: &str) -> String {
        match action {
            Action::Pseudonymize => self.pseudonym(value).unwrap_or_else(|| MASK.to_owned()),
            Action::Mask | Action::Drop => MASK.to_owned(),
        }
    }

    /// The first key rule matching the normalized name `name`.
    pub(crate) fn key_rule(&self, name: &[u8]) -> Option<usize> {
        self.key_index.first_match(name)
    }

    /// Whether any value rule finds something in `text` (the first such rule).
    pub(crate) fn value_hit(&self, text: &str) -> Option<usize> {
        if !patterns::may_match(text.as_bytes()) {
            return None;
        }
        let profile = patterns::Profile::of(text.as_bytes());
        self.value_rules.iter().copied().find(|index| {
            matches!(self.rules.get(*index), Some(Rule { target: Target::Value(p), .. })
                if profile.allows(*p) && p.is_found_in(text))
        })
    }

    /// Applies the value rules to `text`.
    pub(crate) fn scan_value(&self, text: &str, counts: &mut Counts) -> ValueOutcome {
        let bytes = text.as_bytes();
        if self.value_rules.is_empty() {
            return ValueOutcome::Unchanged;
        }
        let profile = patterns::Profile::of(bytes);
        let mut found: Vec<(usize, usize, usize)> = Vec::new();
        for index in &self.value_rules {
            if let Some(Rule {
                target: Target::Value(pattern),
                ..
            }) = self.rules.get(*index)
                && profile.allows(*pattern)
            {
                patterns::scan(*pattern, bytes, &mut |start, end| {
                    found.push((start, end, *index));
                });
            }
        }
        if found.is_empty() {
            return ValueOutcome::Unchanged;
        }
        // earliest match first; at the same start the earlier rule wins; no overlaps
        found.sort_unstable_by_key(|(start, _, rule)| (*start, *rule));
        let mut kept = Vec::with_capacity(found.len());
        let mut last_end = 0;
        for (start, end, rule) in found {
            if start >= last_end {
                kept.push((start, end, rule));
                last_end = end;
            }
        }
        if let Some((_, _, rule)) = kept.iter().find(|(_, _, rule)| {
            self.rules
                .get(*rule)
                .is_some_and(|r| r.action == Action::Drop)
        }) {
            counts.bump(*rule);
            return ValueOutcome::Drop;
        }
        let mut out = String::with_capacity(text.len() + 16);
        let mut position = 0;
        for (start, end, rule) in kept {
            let (Some(before), Some(matched), Some(Rule { target, action, .. })) = (
                text.get(position..start),
                text.get(start..end),
                self.rules.get(rule),
            ) else {
                continue;
            };
            out.push_str(before);
            match (action, target) {
                (Action::Pseudonymize, Target::Value(pattern)) => {
                    out.push_str(&self.replacement(
                        Action::Pseudonymize,
                        &patterns::normalize(*pattern, matched),
                    ));
                }
                _ => out.push_str(MASK),
            }
            counts.bump(rule);
            position = end;
        }
        out.push_str(text.get(position..).unwrap_or_default());
        ValueOutcome::Replaced(out)
    }
}

/// What the value rules do to one value.
pub(crate) enum ValueOutcome {
    Unchanged,
    Replaced(String),
    Drop,
}

fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble), 16).unwrap_or('0')
}

fn invalid(rule: &str, reason: impl Into<String>) -> Error {
    Error::InvalidRule {
        rule: rule.to_owned(),
        reason: reason.into(),
    }
}

fn load_key(source: &PseudonymKey) -> Result<Keyed, Error> {
    let bytes = match source {
        PseudonymKey::Bytes(bytes) => bytes.clone(),
        PseudonymKey::Hex(hex) => decode_hex(hex)?,
        PseudonymKey::Env(name) => {
            let value = std::env::var(name).map_err(|source| Error::KeyEnvironment {
                name: name.clone(),
                source,
            })?;
            decode_hex(&value)?
        }
    };
    if bytes.len() < 16 {
        return Err(Error::InvalidKey {
            reason: format!("{} bytes, at least 16 needed", bytes.len()),
        });
    }
    Hmac::<Sha256>::new_from_slice(&bytes)
        .map(Keyed)
        .map_err(|_| Error::InvalidKey {
            reason: "not accepted by HMAC-SHA-256".to_owned(),
        })
}

fn decode_hex(text: &str) -> Result<Vec<u8>, Error> {
    let text = text.trim();
    let digits: Option<Vec<u8>> = text
        .chars()
        .map(|c| c.to_digit(16).and_then(|d| u8::try_from(d).ok()))
        .collect();
    let digits = digits.ok_or_else(|| Error::InvalidKey {
        reason: "not hex".to_owned(),
    })?;
    if digits.len() % 2 != 0 {
        return Err(Error::InvalidKey {
            reason: "odd number of hex digits".to_owned(),
        });
    }
    Ok(digits
        .chunks(2)
        .map(|pair| pair.iter().fold(0u8, |acc, d| (acc << 4) | d))
        .collect())
}

fn compile(index: usize, rule: &RuleConfig) -> Result<Rule, Error> {
    let label = if rule.name.trim().is_empty() {
        format!("#{index}")
    } else {
        rule.name.clone()
    };
    if rule.name.trim().is_empty() {
        return Err(invalid(&label, "the name is blank"));
    }
    let targets = usize::from(!rule.keys.is_empty())
        + usize::from(rule.pointer.is_some())
        + usize::from(rule.value.is_some())
        + usize::from(rule.user_id);
    if targets != 1 {
        return Err(invalid(
            &label,
            format!("exactly one of keys, pointer, value, user_id must be set ({targets} are set)"),
        ));
    }
    if rule.object_data.is_some() && rule.pointer.is_none() {
        return Err(invalid(&label, "object_data is only allowed with pointer"));
    }
    let target = if !rule.keys.is_empty() {
        let patterns = rule
            .keys
            .iter()
            .map(|source| {
                KeyPattern::new(source)
                    .ok_or_else(|| invalid(&label, format!("key pattern {source:?} names nothing")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Target::Keys(patterns)
    } else if let Some(pointer) = &rule.pointer {
        let object_data = rule
            .object_data
            .as_deref()
            .map(|source| {
                KeyPattern::new(source).ok_or_else(|| {
                    invalid(
                        &label,
                        format!("object_data pattern {source:?} names nothing"),
                    )
                })
            })
            .transpose()?;
        let segments = parse_pointer(pointer)
            .map_err(|reason| invalid(&label, format!("JSON pointer {pointer:?}: {reason}")))?;
        Target::Pointer {
            object_data,
            segments,
        }
    } else if let Some(pattern) = rule.value {
        Target::Value(pattern)
    } else {
        if rule.action != Action::Pseudonymize {
            return Err(invalid(
                &label,
                format!(
                    "user_id allows only the action pseudonymize (not {})",
                    rule.action.as_str()
                ),
            ));
        }
        Target::UserId
    };
    Ok(Rule {
        name: Arc::from(label.as_str()),
        target,
        action: rule.action,
    })
}

fn parse_pointer(pointer: &str) -> Result<Vec<Segment>, &'static str> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err("must be empty or start with '/'");
    };
    rest.split('/')
        .map(|raw| {
            if raw == "*" {
                return Ok(Segment::Any);
            }
            let mut name = String::with_capacity(raw.len());
            let mut chars = raw.chars();
            while let Some(c) = chars.next() {
                if c == '~' {
                    match chars.next() {
                        Some('0') => name.push('~'),
                        Some('1') => name.push('/'),
                        _ => return Err("'~' must be followed by 0 or 1"),
                    }
                } else {
                    name.push(c);
                }
            }
            let index = if name == "0" || !name.starts_with('0') {
                name.parse().ok()
            } else {
                None
            };
            Ok(Segment::Name(name, index))
        })
        .collect()
}

/// One sanitizing pass over a command.
pub(crate) struct Work<'s, 'c> {
    pub(crate) sanitizer: &'s Sanitizer,
    pub(crate) counts: &'c mut Counts,
    /// Scratch buffer for normalized names.
    pub(crate) name: Vec<u8>,
}

impl Work<'_, '_> {
    fn command(&mut self, command: &mut CreateAuditRecordCommand) {
        let payload = &mut command.payload;
        if let Some(data) = &mut payload.event.event_data {
            data.retain_mut(|entry| self.event_data(entry));
            if data.is_empty() {
                payload.event.event_data = None;
            }
        }
        if let Some(object) = &mut payload.audited_data
            && let Some(data) = &mut object.object_data
        {
            data.retain_mut(|entry| self.object_data(entry));
            if data.is_empty() {
                object.object_data = None;
            }
        }
        if let (Some(rule), AuditTrigger::AuditUser(user)) =
            (self.sanitizer.user_rule, &mut payload.trigger)
            && let Some(pseudonym) = self.sanitizer.pseudonym(&user.id)
        {
            user.id = CompactString::from(pseudonym);
            self.counts.bump(rule);
        }
    }

    /// Applies the first key rule matching `name`; `Some(keep)` when one matched.
    fn whole_value(&mut self, name: &str) -> Option<(usize, Action)> {
        normalize_into(name, &mut self.name);
        let rule = self.sanitizer.key_rule(&self.name)?;
        let action = self.sanitizer.rule(rule)?.action;
        self.counts.bump(rule);
        Some((rule, action))
    }

    /// Sanitizes a string value; `false` to drop its entry.
    fn string(&mut self, name: &str, value: &mut CompactString) -> bool {
        if let Some((_, action)) = self.whole_value(name) {
            if action == Action::Drop {
                return false;
            }
            *value = CompactString::from(self.sanitizer.replacement(action, value));
            return true;
        }
        match self.sanitizer.scan_value(value, self.counts) {
            ValueOutcome::Unchanged => true,
            ValueOutcome::Replaced(new) => {
                *value = CompactString::from(new);
                true
            }
            ValueOutcome::Drop => false,
        }
    }

    fn event_data(&mut self, entry: &mut AuditEventDataElement) -> bool {
        self.string(&entry.key, &mut entry.value)
    }

    fn object_data(&mut self, entry: &mut AuditObjectData) -> bool {
        match entry {
            AuditObjectData::AuditObjectDataValue(data) => match &mut data.value {
                Some(value) => self.string(&data.name, value),
                None => !matches!(self.whole_value(&data.name), Some((_, Action::Drop))),
            },
            AuditObjectData::AuditObjectDataS3(data) => {
                self.string(&data.name, &mut data.object_reference)
            }
            AuditObjectData::AuditObjectDataJSON(data) => {
                if let Some((_, action)) = self.whole_value(&data.name) {
                    if action == Action::Drop {
                        return false;
                    }
                    let text = String::from_utf8_lossy(&data.json_as_utf8);
                    let replacement = self.sanitizer.replacement(action, &text);
                    data.json_as_utf8 = serde_json::Value::String(replacement)
                        .to_string()
                        .into_bytes();
                    return true;
                }
                json::document(self, &data.name, &mut data.json_as_utf8)
            }
        }
    }
}
