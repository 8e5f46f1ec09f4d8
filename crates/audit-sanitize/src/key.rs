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
}
