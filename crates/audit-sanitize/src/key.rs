//! Key-name patterns: case-insensitive globs over normalized names.

/// A compiled key-name pattern.
///
/// Names and patterns are compared **normalized**: ASCII letters in lower case, `_`, `-`, `.`
/// and spaces removed, so `api_key` matches `apiKey`, `API-KEY` and `Api.Key`. `*` stands for
/// any run of characters (also none): `*token*` matches `accessToken` and `token_type`,
/// `pin` matches only `pin` (and `PIN`, `P_I_N`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyPattern {
    anchored_start: bool,
    anchored_end: bool,
    /// The normalized literal parts between the `*`s (none empty).
    parts: Vec<Vec<u8>>,
}

/// Appends the normalized form of `name` to `out` (cleared first).
pub(crate) fn normalize_into(name: &str, out: &mut Vec<u8>) {
    out.clear();
    out.extend(
        name.bytes()
            .filter(|c| !matches!(c, b'_' | b'-' | b'.' | b' '))
            .map(|c| c.to_ascii_lowercase()),
    );
}

impl KeyPattern {
    /// Compiles `source`; `None` if it names nothing (empty after normalization and no `*`).
    pub(crate) fn new(source: &str) -> Option<Self> {
        let mut normalized = Vec::new();
        normalize_into(source, &mut normalized);
        if normalized.is_empty() {
            return None;
        }
        let parts: Vec<Vec<u8>> = normalized
            .split(|c| *c == b'*')
            .filter(|part| !part.is_empty())
            .map(<[u8]>::to_vec)
            .collect();
        Some(Self {
            anchored_start: !normalized.starts_with(b"*"),
            anchored_end: !normalized.ends_with(b"*"),
            parts,
        })
    }

    /// Whether the normalized name `name` matches.
    pub(crate) fn matches(&self, name: &[u8]) -> bool {
        let mut rest = name;
        let count = self.parts.len();
        if count == 0 {
            // only stars
            return true;
        }
        for (index, part) in self.parts.iter().enumerate() {
            let first = index == 0;
            let last = index + 1 == count;
            if first && self.anchored_start {
                if !rest.starts_with(part) {
                    return false;
                }
                rest = rest.get(part.len()..).unwrap_or_default();
                if last && self.anchored_end {
                    return rest.is_empty();
                }
                continue;
            }
            if last && self.anchored_end {
                return rest.ends_with(part);
            }
            match find(rest, part) {
                Some(position) => rest = rest.get(position + part.len()..).unwrap_or_default(),
                None => return false,
            }
        }
        true
    }
}

impl KeyPattern {
    /// The literal of a `*literal*` pattern.
    fn as_contains(&self) -> Option<&[u8]> {
        match self.parts.as_slice() {
            [literal] if !self.anchored_start && !self.anchored_end => Some(literal),
            _ => None,
        }
    }
}

/// The key patterns of all key rules, indexed so that one pass over a name finds the first rule
/// that matches: `*literal*` patterns by the literal's first byte, the others tried one by one.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyIndex {
    /// 256 lists (or none): (rule, literal) by the literal's first byte.
    contains: Vec<Vec<(usize, Vec<u8>)>>,
    /// (rule, pattern) for the other patterns.
    general: Vec<(usize, KeyPattern)>,
}

impl KeyIndex {
    /// Adds `pattern` of rule `rule` (rules are added in order).
    pub(crate) fn add(&mut self, rule: usize, pattern: &KeyPattern) {
        match pattern.as_contains() {
            Some(literal) => {
                if self.contains.is_empty() {
                    self.contains = vec![Vec::new(); 256];
                }
                if let Some(list) = literal
                    .first()
                    .and_then(|first| self.contains.get_mut(usize::from(*first)))
                {
                    list.push((rule, literal.to_vec()));
                }
            }
            None => self.general.push((rule, pattern.clone())),
        }
    }

    /// The first rule (lowest index) with a pattern matching the normalized name `name`.
    pub(crate) fn first_match(&self, name: &[u8]) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (rule, pattern) in &self.general {
            if best.is_none_or(|b| *rule < b) && pattern.matches(name) {
                best = Some(*rule);
            }
        }
        if !self.contains.is_empty() {
            for (position, byte) in name.iter().enumerate() {
                let Some(list) = self.contains.get(usize::from(*byte)) else {
                    continue;
                };
                for (rule, literal) in list {
                    if best.is_none_or(|b| *rule < b)
                        && name
                            .get(position..)
                            .is_some_and(|rest| rest.starts_with(literal))
                    {
                        best = Some(*rule);
                    }
                }
            }
        }
        best
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() > haystack.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, name: &str) -> bool {
        let mut n = Vec::new();
        normalize_into(name, &mut n);
        KeyPattern::new(pattern).is_some_and(|p| p.matches(&n))
    }

    #[test]
    fn globs_match_normalized_names() {
        assert!(m("*token*", "accessToken"));
        assert!(m("*token*", "TOKEN"));
        assert!(!m("api_key", "X-Api-Key"));
        assert!(m("*api_key*", "X-Api-Key"));
        assert!(m("api_key", "apiKey"));
        assert!(m("pin", "PIN"));
        assert!(!m("pin", "pinned"));
        assert!(m("pin*", "pinned"));
        assert!(!m("pin*", "spin"));
        assert!(m("*pin", "spin"));
        assert!(!m("*pin", "pins"));
        assert!(m("a*b*c", "a-x-b-y-c"));
        assert!(!m("a*b*c", "a-x-c-y-b"));
        assert!(!m("ab*ba", "aba"));
        assert!(m("*", "anything"));
        assert!(KeyPattern::new(" _-.").is_none());
    }

    #[test]
    fn the_index_finds_the_first_rule_like_trying_them_in_order() {
        let rules: &[(usize, &[&str])] = &[
            (0, &["pin", "*ok*"]),
            (1, &["*token*", "a*b"]),
            (2, &["*en*", "*"]),
        ];
        let mut index = KeyIndex::default();
        let mut naive = Vec::new();
        for (rule, patterns) in rules {
            for source in *patterns {
                let pattern = KeyPattern::new(source).unwrap_or_else(|| unreachable!());
                index.add(*rule, &pattern);
                naive.push((*rule, pattern));
            }
        }
        for name in [
            "pin",
            "accessToken",
            "tokenizer",
            "axb",
            "pen",
            "x",
            "",
            "book",
            "PIN_CODE",
        ] {
            let mut n = Vec::new();
            normalize_into(name, &mut n);
            let expected = naive
                .iter()
                .find(|(_, p)| p.matches(&n))
                .map(|(rule, _)| *rule);
            assert_eq!(index.first_match(&n), expected, "{name}");
        }
    }
}
