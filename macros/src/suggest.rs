//! "Did you mean ...?": the valid option nearest to a mistyped one.
//!
//! The rule is the one the runtime applies to config keys (`config/file/suggest.rs`): the nearest
//! candidate by optimal string alignment distance (a swap of two adjacent characters is one edit,
//! so `nmae` is one edit from `name`), if it is within a third of the typed word's length (at
//! least one edit). Before that rule, a few foreign names are recognised as such: Resilience4j's
//! annotation writes `fallbackMethod`, which is `fallback` here.

/// The valid word nearest to `word`, if it is close enough to be a typo, or if `word` is a foreign
/// name for it (`aliases`: `(normalized foreign name, valid word)`; see [`normalize`]).
pub(crate) fn nearest<'a>(
    word: &str,
    valid: &[&'a str],
    aliases: &[(&str, &'a str)],
) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    valid
        .iter()
        .map(|v| (strsim::osa_distance(&word, v), *v))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, v)| v)
        .or_else(|| {
            let word = normalize(&word);
            aliases
                .iter()
                .find(|(alias, _)| *alias == word)
                .map(|&(_, v)| v)
        })
}

/// `word` in lower case without `_` and `-`: `fallbackMethod`, `fallback_method` and
/// `fallback-method` are all `fallbackmethod`.
fn normalize(word: &str) -> String {
    word.chars()
        .filter(|c| !matches!(c, '_' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{
        BREAKER_ALIASES, BREAKER_KEYS, KINDS, RATE_LIMITER_KEYS, RETRY_KEYS, TIME_LIMITER_KEYS,
    };

    #[test]
    fn suggests_typos_within_a_third_of_the_length() {
        assert_eq!(nearest("fallbak", BREAKER_KEYS, &[]), Some("fallback"));
        assert_eq!(
            nearest("nmae", BREAKER_KEYS, &[]),
            Some("name"),
            "a swap is one edit"
        );
        assert_eq!(nearest("Name", BREAKER_KEYS, &[]), Some("name"));
        assert_eq!(nearest("clinet", KINDS, &[]), Some("client"));
        assert_eq!(nearest("knd", &["kind", "name"], &[]), Some("kind"));
        // 3 letters allow 1 edit, 6 allow 2: `rpc` is no typo of any kind.
        assert_eq!(nearest("rpc", KINDS, &[]), None);
        assert_eq!(nearest("regstr", BREAKER_KEYS, &[]), Some("registry"));
        assert_eq!(nearest("rgstr", BREAKER_KEYS, &[]), None);
        assert_eq!(nearest("zzzzzzzz", BREAKER_KEYS, &[]), None);
        // Not a typo: seven edits away. (Before the shared rule, a prefix counted as close.)
        assert_eq!(nearest("fallback_method", BREAKER_KEYS, &[]), None);
    }

    #[test]
    fn suggests_retry_keys() {
        assert_eq!(nearest("nmae", RETRY_KEYS, &[]), Some("name"));
        assert_eq!(nearest("ordr", RETRY_KEYS, &[]), Some("order"));
        assert_eq!(nearest("fallbak", RETRY_KEYS, &[]), Some("fallback"));
        assert_eq!(nearest("max_attempts", RETRY_KEYS, &[]), None);
    }

    #[test]
    fn suggests_limiter_keys() {
        assert_eq!(nearest("permit", RATE_LIMITER_KEYS, &[]), Some("permits"));
        assert_eq!(nearest("fallbak", RATE_LIMITER_KEYS, &[]), Some("fallback"));
        assert_eq!(
            nearest("regsitry", TIME_LIMITER_KEYS, &[]),
            Some("registry")
        );
        assert_eq!(nearest("permits", TIME_LIMITER_KEYS, &[]), None);
    }

    #[test]
    fn recognises_resilience4j_names() {
        for spelling in ["fallbackMethod", "fallback_method", "FALLBACK-METHOD"] {
            assert_eq!(
                nearest(spelling, BREAKER_KEYS, BREAKER_ALIASES),
                Some("fallback"),
                "{spelling}"
            );
        }
        assert_eq!(
            nearest("fallbackMethods", BREAKER_KEYS, BREAKER_ALIASES),
            None
        );
    }
}
