//! "Did you mean ...?": the valid word nearest to a mistyped one.

/// The valid word closest to `word` by edit distance, if it is close enough to be a typo.
pub(crate) fn nearest<'a>(word: &str, valid: &[&'a str]) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    valid
        .iter()
        .map(|v| (distance(&word, v), *v))
        .filter(|(d, v)| {
            *d <= (v.len().max(word.len()) / 3).max(1)
                || v.starts_with(&word)
                || word.starts_with(*v)
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, v)| v)
}

/// Edit distance counting a swap of two adjacent characters as one edit (optimal string
/// alignment), so that `nmae` is one edit away from `name`.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{BREAKER_KEYS, KINDS};

    #[test]
    fn nearest_suggests_typos_only() {
        assert_eq!(nearest("fallbak", BREAKER_KEYS), Some("fallback"));
        assert_eq!(nearest("nmae", BREAKER_KEYS), Some("name"));
        assert_eq!(nearest("fallback_method", BREAKER_KEYS), Some("fallback"));
        assert_eq!(nearest("clinet", KINDS), Some("client"));
        assert_eq!(nearest("zzzzzzzz", BREAKER_KEYS), None);
    }
}
