//! JSON object data: a cheap pre-scan that decides whether anything can change, then (only
//! then) a parse, the walk over members and elements, and a compact rewrite if something changed.

use std::borrow::Cow;

use serde_json::Value;

use crate::config::Action;
use crate::key::normalize_into;
use crate::sanitizer::{Rule, Sanitizer, Segment, Target, ValueOutcome, Work};

/// Sanitizes the JSON document `doc` of the object-data entry `name`; `false` to drop the entry.
pub(crate) fn document(work: &mut Work<'_, '_>, name: &str, doc: &mut Vec<u8>) -> bool {
    let sanitizer = work.sanitizer;
    normalize_into(name, &mut work.name);
    let pointers: Vec<usize> = sanitizer
        .node_rules
        .iter()
        .copied()
        .filter(|index| {
            matches!(sanitizer.rule(*index), Some(Rule { target: Target::Pointer { object_data, .. }, .. })
                if object_data.as_ref().is_none_or(|p| p.matches(&work.name)))
        })
        .collect();
    let hit = prescan(sanitizer, doc, &mut work.name);
    if hit.is_none() && pointers.is_empty() {
        return true;
    }
    let Ok(mut value) = serde_json::from_slice::<Value>(doc) else {
        // Not JSON: it cannot be edited member by member, so the first rule that matched in it
        // (or the entry's first pointer rule) takes the whole document.
        let Some(rule) = hit.or_else(|| pointers.first().copied()) else {
            return true;
        };
        let Some(action) = sanitizer.rule(rule).map(|r| r.action) else {
            return true;
        };
        work.counts.bump(rule);
        if action == Action::Drop {
            return false;
        }
        let text = String::from_utf8_lossy(doc);
        *doc = Value::String(sanitizer.replacement(action, &text))
            .to_string()
            .into_bytes();
        return true;
    };
    let before = work.counts.total();
    if !node(work, &mut value, None, &pointers, 0) {
        return false;
    }
    if work.counts.total() != before {
        *doc = value.to_string().into_bytes();
    }
    true
}

/// One step of a path: a member name or an array index.
#[derive(Clone, Copy)]
enum Step<'a> {
    Member(&'a str),
    Index(usize),
}

fn segments(sanitizer: &Sanitizer, rule: usize) -> &[Segment] {
    match sanitizer.rule(rule) {
        Some(Rule {
            target: Target::Pointer { segments, .. },
            ..
        }) => segments,
        _ => &[],
    }
}

/// The pointer rules of `alive` (matching the path so far, `depth` steps) whose next segment
/// matches `step`.
fn advance(sanitizer: &Sanitizer, alive: &[usize], depth: usize, step: Step<'_>) -> Vec<usize> {
    if alive.is_empty() {
        return Vec::new();
    }
    alive
        .iter()
        .copied()
        .filter(|rule| match segments(sanitizer, *rule).get(depth) {
            Some(Segment::Any) => true,
            Some(Segment::Name(name, index)) => match step {
                Step::Member(member) => name == member,
                Step::Index(position) => *index == Some(position),
            },
            None => false,
        })
        .collect()
}

/// Sanitizes the node `value` (member `name` of its object, if it is a member) reached by a path
/// of `depth` steps that the pointer rules `alive` match so far; `false` to remove the node.
fn node(
    work: &mut Work<'_, '_>,
    value: &mut Value,
    name: Option<&str>,
    alive: &[usize],
    depth: usize,
) -> bool {
    let sanitizer = work.sanitizer;
    let mut hit = alive
        .iter()
        .copied()
        .find(|rule| segments(sanitizer, *rule).len() == depth);
    if let Some(name) = name {
        normalize_into(name, &mut work.name);
        if let Some(key_rule) = sanitizer.key_rule(&work.name) {
            hit = Some(hit.map_or(key_rule, |pointer_rule| pointer_rule.min(key_rule)));
        }
    }
    if let Some(rule) = hit
        && let Some(action) = sanitizer.rule(rule).map(|r| r.action)
    {
        work.counts.bump(rule);
        if action == Action::Drop {
            return false;
        }
        let text = match &*value {
            Value::String(text) => Cow::Borrowed(text.as_str()),
            other => Cow::Owned(other.to_string()),
        };
        let replacement = sanitizer.replacement(action, &text);
        *value = Value::String(replacement);
        return true;
    }
    match value {
        Value::Object(map) => {
            map.retain(|member, child| {
                let next = advance(sanitizer, alive, depth, Step::Member(member));
                node(work, child, Some(member), &next, depth + 1)
            });
            true
        }
        Value::Array(items) => {
            let mut position = 0;
            items.retain_mut(|child| {
                let next = advance(sanitizer, alive, depth, Step::Index(position));
                position += 1;
                node(work, child, None, &next, depth + 1)
            });
            true
        }
        Value::String(text) => match sanitizer.scan_value(text, work.counts) {
            ValueOutcome::Unchanged => true,
            ValueOutcome::Replaced(new) => {
                *text = new;
                true
            }
            ValueOutcome::Drop => false,
        },
        Value::Number(number) if number.is_i64() || number.is_u64() => {
            let text = number.to_string();
            match sanitizer.scan_value(&text, work.counts) {
                ValueOutcome::Unchanged => true,
                ValueOutcome::Replaced(new) => {
                    *value = Value::String(new);
                    true
                }
                ValueOutcome::Drop => false,
            }
        }
        _ => true,
    }
}

fn is_space(c: &u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// The first rule that can change something in `doc` (key rules on member names, value rules on
/// strings and integers), without parsing it: a lexer over the bytes that decodes only strings
/// with escapes. Finds everything the walk in [`node`] would change, except what pointer rules
/// change (the caller parses whenever pointer rules apply).
pub(crate) fn prescan(sanitizer: &Sanitizer, doc: &[u8], name: &mut Vec<u8>) -> Option<usize> {
    let mut i = 0;
    while let Some(c) = doc.get(i).copied() {
        match c {
            b'"' => {
                let start = i + 1;
                let mut j = start;
                let mut escaped = false;
                loop {
                    match doc.get(j) {
                        None | Some(b'"') => break,
                        Some(b'\\') => {
                            escaped = true;
                            j += 2;
                        }
                        Some(_) => j += 1,
                    }
                }
                let end = j.min(doc.len());
                let raw = doc.get(start..end).unwrap_or_default();
                let text: Cow<'_, str> = if escaped {
                    doc.get(i..=end)
                        .and_then(|quoted| serde_json::from_slice::<String>(quoted).ok())
                        .map_or_else(|| String::from_utf8_lossy(raw), Cow::Owned)
                } else {
                    String::from_utf8_lossy(raw)
                };
                i = end + 1;
                let mut k = i;
                while doc.get(k).is_some_and(is_space) {
                    k += 1;
                }
                if doc.get(k) == Some(&b':') {
                    normalize_into(&text, name);
                    if let Some(rule) = sanitizer.key_rule(name) {
                        return Some(rule);
                    }
                } else if let Some(rule) = sanitizer.value_hit(&text) {
                    return Some(rule);
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while doc.get(i).is_some_and(|c| {
                    c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E')
                }) {
                    i += 1;
                }
                let token = doc.get(start..i).unwrap_or_default();
                if !token.iter().any(|c| matches!(c, b'.' | b'e' | b'E'))
                    && let Ok(text) = std::str::from_utf8(token)
                    && let Some(rule) = sanitizer.value_hit(text)
                {
                    return Some(rule);
                }
            }
            _ => i += 1,
        }
    }
    None
}
