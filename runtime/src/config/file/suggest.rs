//! "Did you mean ...?" for unknown keys: the nearest valid key by edit distance.
//!
//! The rule is the one the macros use for their options: optimal string alignment distance
//! (insertions, deletions, substitutions, and a swap of two adjacent characters each count as one
//! edit), and a candidate is suggested only within `max(1, len / 3)` edits of the key.

/// The candidate nearest to `key` by the distance between `normalize`d forms, if it is close
/// enough to be a plausible typo (at most a third of the key's length, and at least 1 allowed).
/// Of equally near candidates, the first wins.
pub(crate) fn nearest<'a>(
    key: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    normalize: impl Fn(&str) -> String,
) -> Option<&'a str> {
    let wanted = normalize(key);
    let limit = (wanted.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (strsim::osa_distance(&wanted, &normalize(c)), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_only_close_keys() {
        let keys = ["failure_rate_threshold", "sliding_window_size"];
        assert_eq!(
            nearest("failure_rate_treshold", keys, str::to_owned),
            Some("failure_rate_threshold")
        );
        assert_eq!(nearest("colour", keys, str::to_owned), None);
    }

    #[test]
    fn a_swap_of_adjacent_letters_is_one_edit() {
        // Levenshtein counts `nmae` -> `name` as two edits, more than a 4-letter key allows.
        assert_eq!(
            nearest("nmae", ["name", "base"], str::to_owned),
            Some("name")
        );
        assert_eq!(
            nearest("tiemout", ["timeout"], str::to_owned),
            Some("timeout")
        );
    }

    #[test]
    fn the_limit_is_a_third_of_the_key_and_at_least_one() {
        // 6 characters: 2 edits allowed, 3 are not.
        assert_eq!(nearest("abcdxy", ["abcdef"], str::to_owned), Some("abcdef"));
        assert_eq!(nearest("abcxyz", ["abcdef"], str::to_owned), None);
        // 2 characters: still 1 edit allowed.
        assert_eq!(nearest("ab", ["ac"], str::to_owned), Some("ac"));
        // Ties go to the first candidate.
        assert_eq!(nearest("ab", ["ac", "ad"], str::to_owned), Some("ac"));
    }
}
