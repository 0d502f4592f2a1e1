//! Draws one trace (Zipkin v2 JSON spans) as an indented waterfall in the terminal:
//!
//! ```text
//! user-service   GET /users/{id}  (server)              |████████████████████████| 41.2 ms ✗ ...
//!   user-service   get_orders  [orders: closed → failure]|  ████████████████████  | 39.0 ms ✗ ...
//! ```

use std::collections::HashMap;
use std::fmt::Write;

use serde_json::Value;

/// Width of the label column (indent, service, name, notes).
const LABEL: usize = 66;
/// Width of the time bar.
const BAR: usize = 24;

/// Renders the spans of one trace, roots first, children in start order; `indent` prefixes
/// every line.
pub(crate) fn render(spans: &[Value], indent: &str) -> String {
    let mut spans: Vec<&Value> = spans.iter().collect();
    spans.sort_by_key(|s| s["timestamp"].as_u64().unwrap_or(0));
    let ids: Vec<&str> = spans.iter().filter_map(|s| s["id"].as_str()).collect();
    let mut children: HashMap<&str, Vec<&Value>> = HashMap::new();
    let mut roots = Vec::new();
    for span in &spans {
        match span["parentId"].as_str() {
            Some(parent) if ids.contains(&parent) => children.entry(parent).or_default().push(span),
            _ => roots.push(*span),
        }
    }
    let start = spans
        .iter()
        .filter_map(|s| s["timestamp"].as_u64())
        .min()
        .unwrap_or(0);
    let end = spans
        .iter()
        .filter_map(|s| Some(s["timestamp"].as_u64()? + s["duration"].as_u64().unwrap_or(0)))
        .max()
        .unwrap_or(start);
    let frame = Frame {
        start,
        total: (end - start).max(1),
    };
    let mut out = String::new();
    for root in roots {
        line(&mut out, indent, root, 0, &children, &frame);
    }
    out
}

struct Frame {
    start: u64,
    total: u64,
}

fn line(
    out: &mut String,
    indent: &str,
    span: &Value,
    depth: usize,
    children: &HashMap<&str, Vec<&Value>>,
    frame: &Frame,
) {
    let tags = &span["tags"];
    let tag = |k: &str| tags[k].as_str();
    let service = span["localEndpoint"]["serviceName"].as_str().unwrap_or("?");
    let name = span["name"].as_str().unwrap_or("?");
    let mut label = format!("{}{service}  {name}", "  ".repeat(depth));
    match (
        span["kind"].as_str(),
        span["remoteEndpoint"]["serviceName"].as_str(),
    ) {
        (Some("CLIENT"), Some(remote)) => {
            let _ = write!(label, " (client → {remote})");
        }
        (Some(kind), _) => {
            let _ = write!(label, " ({})", kind.to_lowercase());
        }
        _ => {}
    }
    if let (Some(breaker), Some(state), Some(outcome)) = (
        tag("circuit_breaker.name"),
        tag("circuit_breaker.state"),
        tag("circuit_breaker.outcome"),
    ) {
        let _ = write!(label, " [{breaker}: {state} → {outcome}]");
    }

    let ts = span["timestamp"].as_u64().unwrap_or(frame.start);
    let dur = span["duration"].as_u64().unwrap_or(0);
    let from = (((ts - frame.start) * BAR as u64 / frame.total) as usize).min(BAR - 1);
    let len = ((dur * BAR as u64).div_ceil(frame.total) as usize).clamp(1, BAR - from);
    let bar = format!(
        "{}{}{}",
        " ".repeat(from),
        "█".repeat(len),
        " ".repeat(BAR - from - len)
    );

    let _ = write!(out, "{indent}{label:<LABEL$}|{bar}| {:>9}", millis(dur));
    if tags.get("error").is_some() {
        let _ = write!(
            out,
            "  ✗ {}",
            tag("error").filter(|e| !e.is_empty()).unwrap_or("error")
        );
    }
    out.push('\n');
    let id = span["id"].as_str().unwrap_or_default();
    for child in children.get(id).into_iter().flatten() {
        line(out, indent, child, depth + 1, children, frame);
    }
}

/// `1234` µs → `1.2 ms`.
fn millis(micros: u64) -> String {
    format!("{:.1} ms", micros as f64 / 1000.0)
}
