//! The serde configuration ([`SanitizerConfig`]) and its rules.

use serde::{Deserialize, Serialize};

use crate::patterns::ValuePattern;

/// What a rule does to what it matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// Replace by [`MASK`](crate::MASK) (`****MASKED****`): the whole value for key and pointer
    /// rules, each match for value patterns.
    Mask,
    /// Remove the entry: the event-data entry, the object-data entry, or the JSON member or array
    /// element (for value patterns: the entry or JSON leaf that holds the match).
    Drop,
    /// Replace by a keyed pseudonym (see [`Sanitizer::pseudonym`](crate::Sanitizer::pseudonym)):
    /// stable for the same value and key, not reversible without the key.
    Pseudonymize,
}

impl Action {
    /// `mask`, `drop` or `pseudonymize` (the configuration's and the metric's label).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mask => "mask",
            Self::Drop => "drop",
            Self::Pseudonymize => "pseudonymize",
        }
    }
}

/// Where the HMAC key of the pseudonyms comes from (at least 16 bytes).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PseudonymKey {
    /// The key in hex (`{"hex": "00112233..."}`).
    Hex(String),
    /// The name of an environment variable holding the key in hex (`{"env": "AUDIT_PSEUDONYM_KEY"}`).
    Env(String),
    /// The key bytes (from code only).
    #[serde(skip)]
    Bytes(Vec<u8>),
}

impl std::fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Env(name) => f.debug_tuple("Env").field(name).finish(),
            Self::Hex(_) | Self::Bytes(_) => f.write_str("PseudonymKey(<redacted>)"),
        }
    }
}

/// The sanitizer's configuration: rules in order (the first rule that matches a value decides),
/// then the default rules unless `defaults` is `false`, and the pseudonym key.
///
/// From JSON (or any serde format):
///
/// ```
/// use audit_sanitize::{Sanitizer, SanitizerConfig};
/// let config: SanitizerConfig = serde_json::from_str(r#"{
///     "pseudonym_key": {"hex": "000102030405060708090a0b0c0d0e0f"},
///     "rules": [
///         {"name": "customer-email", "value": "email", "action": "pseudonymize"},
///         {"name": "pins", "keys": ["pin", "*_pin"], "action": "drop"},
///         {"name": "debtor-iban", "object_data": "payment", "pointer": "/debtor/*/iban", "action": "mask"},
///         {"name": "user", "user_id": true, "action": "pseudonymize"}
///     ]
/// }"#)?;
/// let sanitizer = Sanitizer::new(&config)?;
/// assert_eq!(sanitizer.rule_names().next(), Some("customer-email"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SanitizerConfig {
    /// Append the default rules ([`default_rules`](crate::default_rules)) after `rules`
    /// (default `true`).
    #[serde(default = "yes")]
    pub defaults: bool,
    /// The rules, tried in order before the defaults.
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    /// The HMAC key; needed by any rule that pseudonymizes.
    #[serde(default)]
    pub pseudonym_key: Option<PseudonymKey>,
}

fn yes() -> bool {
    true
}

impl Default for SanitizerConfig {
    /// The default rules, nothing else.
    fn default() -> Self {
        Self {
            defaults: true,
            rules: Vec::new(),
            pseudonym_key: None,
        }
    }
}

impl SanitizerConfig {
    /// Appends a rule (tried after those added before, before the defaults).
    #[must_use]
    pub fn rule(mut self, rule: RuleConfig) -> Self {
        self.rules.push(rule);
        self
    }

    /// Sets the pseudonym key from bytes (at least 16).
    #[must_use]
    pub fn pseudonym_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.pseudonym_key = Some(PseudonymKey::Bytes(key.into()));
        self
    }

    /// Whether to append the default rules.
    #[must_use]
    pub fn defaults(mut self, defaults: bool) -> Self {
        self.defaults = defaults;
        self
    }
}

/// One rule: a name (the report's and the metric's `rule` label), exactly one target and an
/// action.
///
/// Targets (set exactly one):
/// * `keys`: key-name patterns (see the crate docs) matched against event-data keys, object-data
///   names and the member names inside JSON object data, at any depth;
/// * `pointer` (optionally with `object_data`, a key-name pattern of the object-data entries it
///   applies to; all JSON entries when absent): an RFC 6901 JSON pointer into JSON object data;
///   the segment `*` stands for any member or array index; `""` is the whole document; array
///   indexes count in the original document;
/// * `value`: a [`ValuePattern`] searched inside values;
/// * `user_id: true`: the user id of a user trigger (action `pseudonymize` only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// The rule's name: not blank, unique.
    pub name: String,
    /// Key-name patterns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
    /// The object-data names a `pointer` applies to (a key-name pattern).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_data: Option<String>,
    /// A JSON pointer into JSON object data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// A value pattern.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<ValuePattern>,
    /// The user id of a user trigger.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub user_id: bool,
    /// What to do with a match.
    pub action: Action,
}

impl RuleConfig {
    fn empty(name: impl Into<String>, action: Action) -> Self {
        Self {
            name: name.into(),
            keys: Vec::new(),
            object_data: None,
            pointer: None,
            value: None,
            user_id: false,
            action,
        }
    }

    /// A rule on key names.
    ///
    /// ```
    /// use audit_sanitize::{Action, RuleConfig};
    /// let rule = RuleConfig::keys("pins", ["pin", "*_pin"], Action::Drop);
    /// assert_eq!(rule.keys, ["pin", "*_pin"]);
    /// ```
    #[must_use]
    pub fn keys<S: Into<String>>(
        name: impl Into<String>,
        patterns: impl IntoIterator<Item = S>,
        action: Action,
    ) -> Self {
        Self {
            keys: patterns.into_iter().map(Into::into).collect(),
            ..Self::empty(name, action)
        }
    }

    /// A rule on a JSON pointer inside the JSON object data whose names match `object_data`
    /// (`None`: every JSON entry).
    #[must_use]
    pub fn pointer(
        name: impl Into<String>,
        object_data: Option<&str>,
        pointer: impl Into<String>,
        action: Action,
    ) -> Self {
        Self {
            object_data: object_data.map(str::to_owned),
            pointer: Some(pointer.into()),
            ..Self::empty(name, action)
        }
    }

    /// A rule on a value pattern.
    #[must_use]
    pub fn value(name: impl Into<String>, pattern: ValuePattern, action: Action) -> Self {
        Self {
            value: Some(pattern),
            ..Self::empty(name, action)
        }
    }

    /// The rule that pseudonymizes the user id of user triggers.
    #[must_use]
    pub fn user_id(name: impl Into<String>) -> Self {
        Self {
            user_id: true,
            ..Self::empty(name, Action::Pseudonymize)
        }
    }
}

/// The key names the default rule `default-secret-keys` masks (key-name patterns).
pub const DEFAULT_SECRET_KEYS: &[&str] = &[
    "*password*",
    "*passwd*",
    "*secret*",
    "*token*",
    "*authorization*",
    "*cookie*",
    "*api_key*",
    "*credential*",
    "*private_key*",
    "*iban*",
];

/// The default rules, all with action `mask`: `default-secret-keys` (the key names of
/// [`DEFAULT_SECRET_KEYS`]), `default-email`, `default-payment-card`, `default-ahv` and
/// `default-iban` (the [`ValuePattern`]s).
#[must_use]
pub fn default_rules() -> Vec<RuleConfig> {
    vec![
        RuleConfig::keys(
            "default-secret-keys",
            DEFAULT_SECRET_KEYS.iter().copied(),
            Action::Mask,
        ),
        RuleConfig::value("default-email", ValuePattern::Email, Action::Mask),
        RuleConfig::value(
            "default-payment-card",
            ValuePattern::PaymentCard,
            Action::Mask,
        ),
        RuleConfig::value("default-ahv", ValuePattern::Ahv, Action::Mask),
        RuleConfig::value("default-iban", ValuePattern::Iban, Action::Mask),
    ]
}
