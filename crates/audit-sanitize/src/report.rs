//! What a sanitizing pass changed: counts per rule, never values.

use std::sync::Arc;

use crate::config::Action;
use crate::sanitizer::{CHANGES_TOTAL, Sanitizer};

/// The changes of one rule in one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleChanges {
    /// The rule's name.
    pub rule: Arc<str>,
    /// The rule's action.
    pub action: Action,
    /// How many values it changed (matches replaced, entries or JSON members dropped).
    pub count: u64,
}

/// What [`Sanitizer::sanitize`] changed: the rules that changed something, in rule order, with
/// their counts. Holds no values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SanitizeReport {
    changes: Vec<RuleChanges>,
}

impl SanitizeReport {
    /// The rules that changed something, in rule order.
    #[must_use]
    pub fn changes(&self) -> &[RuleChanges] {
        &self.changes
    }

    /// How many values the rule `rule` changed (0 for an unknown rule).
    #[must_use]
    pub fn count(&self, rule: &str) -> u64 {
        self.changes
            .iter()
            .find(|change| &*change.rule == rule)
            .map_or(0, |change| change.count)
    }

    /// All changes together.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.changes.iter().map(|change| change.count).sum()
    }

    /// Whether nothing changed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// Counts per rule index; allocates at the first change only.
#[derive(Debug, Default)]
pub(crate) struct Counts(Vec<u64>);

impl Counts {
    pub(crate) fn bump(&mut self, rule: usize) {
        if self.0.len() <= rule {
            self.0.resize(rule + 1, 0);
        }
        if let Some(count) = self.0.get_mut(rule) {
            *count += 1;
        }
    }

    pub(crate) fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// The report, and the metric incremented for each rule that changed something.
    pub(crate) fn into_report(self, sanitizer: &Sanitizer) -> SanitizeReport {
        let mut changes = Vec::new();
        for (index, count) in self.0.into_iter().enumerate() {
            if count == 0 {
                continue;
            }
            let Some(rule) = sanitizer.rule(index) else {
                continue;
            };
            metrics::counter!(
                CHANGES_TOTAL,
                "rule" => rule.name.clone(),
                "action" => rule.action.as_str()
            )
            .increment(count);
            changes.push(RuleChanges {
                rule: rule.name.clone(),
                action: rule.action,
                count,
            });
        }
        SanitizeReport { changes }
    }
}
