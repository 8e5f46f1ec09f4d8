//! The crate's single error type.

/// A sanitizer configuration that cannot be used. Every variant names what is wrong; rule errors
/// name the rule (its `name`, or its position when the name itself is the problem).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A rule is not valid: no or several targets, a bad key pattern or JSON pointer, an action
    /// the target does not allow, a blank or repeated name.
    #[error("sanitizer rule {rule:?}: {reason}")]
    InvalidRule {
        /// The rule's name (or `#index` when the name is blank).
        rule: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A rule pseudonymizes but no pseudonym key is configured.
    #[error("sanitizer rule {rule:?}: action pseudonymize needs a pseudonym key")]
    MissingKey {
        /// The rule's name.
        rule: String,
    },
    /// The pseudonym key is not usable (not hex, shorter than 16 bytes).
    #[error("sanitizer pseudonym key: {reason}")]
    InvalidKey {
        /// What is wrong with it.
        reason: String,
    },
    /// The environment variable that should hold the pseudonym key cannot be read.
    #[error("sanitizer pseudonym key: environment variable {name}")]
    KeyEnvironment {
        /// The variable's name.
        name: String,
        /// Why it cannot be read.
        #[source]
        source: std::env::VarError,
    },
}
