//! "Did you mean ...?" for unknown keys: the nearest valid key by edit distance.

/// Levenshtein distance between `a` and `b`, by characters.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// The candidate nearest to `key` by the distance between `normalize`d forms, if it is close
/// enough to be a plausible typo (at most a third of the key's length, and at least 1 allowed).
pub(crate) fn nearest<'a>(
    key: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    normalize: impl Fn(&str) -> String,
) -> Option<&'a str> {
    let wanted = normalize(key);
    let limit = (wanted.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&wanted, &normalize(c)), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn suggests_only_close_keys() {
        let keys = ["failure_rate_threshold", "sliding_window_size"];
        assert_eq!(
            nearest("failure_rate_treshold", keys, str::to_owned),
            Some("failure_rate_threshold")
        );
        assert_eq!(nearest("colour", keys, str::to_owned), None);
    }
}
