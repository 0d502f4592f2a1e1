//! Registry-wide metric tags (Spring's `management.metrics.tags.<k>` and
//! `resilience4j.circuitbreaker.tags.<k>`, fusebox's `[tags]`): the rule their names follow.

/// Labels the breaker series set themselves; registry-wide tags may not use them.
pub(crate) const RESERVED_LABELS: [&str; 8] = [
    "name", "kind", "state", "from", "to", "reason", "le", "quantile",
];

/// Why `name` cannot be a registry-wide tag, if it cannot: tags become Prometheus labels.
pub(crate) fn tag_name_problem(name: &str) -> Option<String> {
    let valid = name
        .chars()
        .enumerate()
        .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
    if name.is_empty() || !valid {
        return Some(format!(
            "the tag name `{name}` must match [a-zA-Z_][a-zA-Z0-9_]* (a Prometheus label name)"
        ));
    }
    if name.starts_with("__") {
        return Some(format!(
            "the tag name `{name}` starts with `__`, which Prometheus reserves"
        ));
    }
    if RESERVED_LABELS.contains(&name) {
        return Some(format!(
            "`{name}` is a label the breaker series set themselves (reserved: {})",
            RESERVED_LABELS.join(", ")
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_names_are_prometheus_label_names() {
        assert_eq!(tag_name_problem("application"), None);
        assert_eq!(tag_name_problem("_x9"), None);
        for bad in ["", "app-name", "app.name", "9lives", "__meta", "name", "le"] {
            assert!(tag_name_problem(bad).is_some(), "{bad}");
        }
        assert_eq!(
            tag_name_problem("app-name").as_deref(),
            Some(
                "the tag name `app-name` must match [a-zA-Z_][a-zA-Z0-9_]* (a Prometheus label name)"
            )
        );
    }
}
