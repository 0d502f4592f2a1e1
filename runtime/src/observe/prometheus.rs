//! The Prometheus text exposition (format 0.0.4) of a registry's breakers, written as
//! Micrometer's Prometheus registry (1.13+, Prometheus client_java 1.x) writes
//! resilience4j-micrometer's meters, plus fusebox's own series.
//!
//! What "as Micrometer writes them" means here:
//! * metric families sorted by name, series within a family sorted by label values, labels
//!   within a series sorted by name;
//! * `# HELP` is the meter's description, `# TYPE` is `gauge`, `counter` (named `..._total` on
//!   both lines) or `summary` (a timer: `_count` as an integer, `_sum` in seconds, and a separate
//!   `_max` gauge family);
//! * values as Java's `Double.toString` (`0.0`, `50.0`, `1.0E-4`), so a gauge of an `int` reads
//!   `3.0` and a `float` rate reads as the `double` it widens to (`33.33333206176758`);
//! * every series exists from the breaker's first scrape, zero until something happens.
//!
//! One thing is not reproducible: when the series of one family have different descriptions
//! (`buffered_calls`, `slow_calls`, `calls_seconds`, `timelimiter_calls`), Micrometer's HELP
//! line is the description of whichever series its hash map yields first. fusebox writes the
//! description of the first series Resilience4j registers (`failed`, `successful`,
//! `successful`, `successful`).

use super::format::prometheus_double;
use super::tap::{CallKind, TapCounts};
use crate::breaker::CallStats;
use crate::breaker::CircuitBreaker;
use crate::state::State;
use std::fmt::Write as _;

/// The content type of the exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FamilyType {
    Gauge,
    Counter,
    Summary,
}

/// A series' value.
#[derive(Debug)]
pub(crate) enum Value {
    Double(f64),
    /// A whole number (counts), written as a double.
    Count(u64),
    Summary {
        count: u64,
        sum: f64,
    },
}

/// One series of a family: its labels (registry tags included) and value.
#[derive(Debug)]
pub(crate) struct Series {
    /// Sorted by label name.
    pub(crate) labels: Vec<(String, String)>,
    pub(crate) value: Value,
}

/// One metric family of a scrape.
#[derive(Debug)]
pub(crate) struct Family {
    /// The name without `_total` for counters (client_java's metadata name).
    pub(crate) name: &'static str,
    pub(crate) kind: FamilyType,
    pub(crate) help: &'static str,
    pub(crate) series: Vec<Series>,
}

/// Everything a scrape needs about one breaker.
#[derive(Debug)]
pub(crate) struct BreakerSample<'a> {
    pub(crate) breaker: &'a CircuitBreaker,
    pub(crate) counts: TapCounts,
}

/// The families of one scrape, in registration order.
#[derive(Debug)]
pub(crate) struct Families {
    tags: Vec<(String, String)>,
    pub(crate) families: Vec<Family>,
}

impl Families {
    fn family(&mut self, name: &'static str, kind: FamilyType, help: &'static str) -> usize {
        if let Some(i) = self.families.iter().position(|f| f.name == name) {
            return i;
        }
        self.families.push(Family {
            name,
            kind,
            help,
            series: Vec::new(),
        });
        self.families.len() - 1
    }

    /// The registry's tags and `labels`, sorted by name (Micrometer's order).
    fn labels(&self, labels: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = self.tags.clone();
        all.extend(
            labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// Adds a series to `family` (created with `kind` and `help` on first use).
    pub(crate) fn add(
        &mut self,
        name: &'static str,
        kind: FamilyType,
        help: &'static str,
        labels: &[(&str, &str)],
        value: Value,
    ) {
        let all = self.labels(labels);
        let i = self.family(name, kind, help);
        self.families[i].series.push(Series { labels: all, value });
    }

    /// Adds a count to `family`, summed into the series with the same labels if there is one
    /// (a breaker's `timeout` and a registry time limiter of the same name both count as
    /// Resilience4j's time limiter of that name).
    pub(crate) fn add_summed(
        &mut self,
        name: &'static str,
        kind: FamilyType,
        help: &'static str,
        labels: &[(&str, &str)],
        n: u64,
    ) {
        let all = self.labels(labels);
        let i = self.family(name, kind, help);
        let family = &mut self.families[i];
        match family.series.iter_mut().find(|s| s.labels == all) {
            Some(Series {
                value: Value::Count(existing),
                ..
            }) => *existing += n,
            _ => family.series.push(Series {
                labels: all,
                value: Value::Count(n),
            }),
        }
    }

    /// The text exposition.
    pub(crate) fn render(mut self) -> String {
        self.families.sort_by(|a, b| a.name.cmp(b.name));
        let mut out = String::with_capacity(256 * self.families.len());
        for family in &mut self.families {
            if family.series.is_empty() {
                continue;
            }
            family.series.sort_by(|a, b| {
                let names = a
                    .labels
                    .iter()
                    .map(|l| &l.0)
                    .cmp(b.labels.iter().map(|l| &l.0));
                names.then_with(|| {
                    a.labels
                        .iter()
                        .map(|l| &l.1)
                        .cmp(b.labels.iter().map(|l| &l.1))
                })
            });
            let (suffix, type_name) = match family.kind {
                FamilyType::Gauge => ("", "gauge"),
                FamilyType::Counter => ("_total", "counter"),
                FamilyType::Summary => ("", "summary"),
            };
            let _ = writeln!(
                out,
                "# HELP {}{suffix} {}",
                family.name,
                escape_help(family.help)
            );
            let _ = writeln!(out, "# TYPE {}{suffix} {type_name}", family.name);
            for series in &family.series {
                match series.value {
                    Value::Double(v) => {
                        write_sample(&mut out, family.name, suffix, &series.labels);
                        out.push_str(&prometheus_double(v));
                        out.push('\n');
                    }
                    Value::Count(n) => {
                        write_sample(&mut out, family.name, suffix, &series.labels);
                        out.push_str(&prometheus_double(n as f64));
                        out.push('\n');
                    }
                    Value::Summary { count, sum } => {
                        write_sample(&mut out, family.name, "_count", &series.labels);
                        let _ = writeln!(out, "{count}");
                        write_sample(&mut out, family.name, "_sum", &series.labels);
                        out.push_str(&prometheus_double(sum));
                        out.push('\n');
                    }
                }
            }
        }
        out
    }
}

fn write_sample(out: &mut String, name: &str, suffix: &str, labels: &[(String, String)]) {
    out.push_str(name);
    out.push_str(suffix);
    if !labels.is_empty() {
        out.push('{');
        for (i, (key, value)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(key);
            out.push_str("=\"");
            escape_label_value(out, value);
            out.push('"');
        }
        out.push('}');
    }
    out.push(' ');
}

fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

fn escape_label_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn seconds(nanos: u128) -> f64 {
    // Micrometer: `TimeUtils.nanosToUnit(nanos, SECONDS)`, a double division.
    nanos as f64 / 1_000_000_000.0
}

pub(crate) fn count(n: impl Into<u64>) -> Value {
    Value::Count(n.into())
}

/// The automatic transitions: their series exist from the first scrape, so that
/// `increase(...[5m])` sees their first occurrence. Other transitions appear when they happen.
const AUTOMATIC_TRANSITIONS: [(State, State); 4] = [
    (State::Closed, State::Open),
    (State::Open, State::HalfOpen),
    (State::HalfOpen, State::Closed),
    (State::HalfOpen, State::Open),
];

/// The families of `samples` with the registry-wide `tags`.
pub(crate) fn collect(tags: &[(String, String)], samples: &[BreakerSample<'_>]) -> Families {
    let mut f = Families {
        tags: tags.to_vec(),
        families: Vec::new(),
    };
    for sample in samples {
        breaker_families(&mut f, sample);
    }
    f
}

fn breaker_families(f: &mut Families, sample: &BreakerSample<'_>) {
    use FamilyType::{Counter, Gauge};
    let name = sample.breaker.name();
    let metrics = sample.breaker.metrics();
    let state = metrics.state();
    let counts = &sample.counts;

    // resilience4j-micrometer, in its registration order (AbstractCircuitBreakerMetrics).
    for s in State::ALL {
        f.add(
            "resilience4j_circuitbreaker_state",
            Gauge,
            "The states of the circuit breaker",
            &[("name", name), ("state", s.as_tag())],
            Value::Double(if s == state { 1.0 } else { 0.0 }),
        );
    }
    const BUFFERED: &str = "resilience4j_circuitbreaker_buffered_calls";
    f.add(
        BUFFERED,
        Gauge,
        "The number of buffered failed calls stored in the ring buffer",
        &[("kind", "failed"), ("name", name)],
        count(metrics.number_of_failed_calls()),
    );
    f.add(
        BUFFERED,
        Gauge,
        "The number of buffered successful calls stored in the ring buffer",
        &[("kind", "successful"), ("name", name)],
        count(metrics.number_of_successful_calls()),
    );
    const SLOW: &str = "resilience4j_circuitbreaker_slow_calls";
    f.add(
        SLOW,
        Gauge,
        "The number of slow successful which were slower than a certain threshold",
        &[("kind", "successful"), ("name", name)],
        count(metrics.number_of_slow_successful_calls()),
    );
    f.add(
        SLOW,
        Gauge,
        "The number of slow failed calls which were slower than a certain threshold",
        &[("kind", "failed"), ("name", name)],
        count(metrics.number_of_slow_failed_calls()),
    );
    f.add(
        "resilience4j_circuitbreaker_failure_rate",
        Gauge,
        "The failure rate of the circuit breaker",
        &[("name", name)],
        Value::Double(f64::from(metrics.failure_rate().unwrap_or(-1.0))),
    );
    f.add(
        "resilience4j_circuitbreaker_slow_call_rate",
        Gauge,
        "The slow call of the circuit breaker",
        &[("name", name)],
        Value::Double(f64::from(metrics.slow_call_rate().unwrap_or(-1.0))),
    );
    // From the breaker's call stats; left out when its config turned them off.
    if let Some(stats) = &counts.stats {
        calls_families(f, name, stats);
    }

    // resilience4j-micrometer's TimeLimiter meters, for breakers with a time limit.
    if let (Some(tl), true) = (
        counts.time_limiter,
        sample.breaker.config().timeout().is_some(),
    ) {
        const TL: &str = "resilience4j_timelimiter_calls";
        for (kind, help, value) in [
            (
                "successful",
                "The number of successful calls",
                tl.successful,
            ),
            ("failed", "The number of failed calls", tl.failed),
            ("timeout", "The number of timed out calls", tl.timeout),
        ] {
            f.add(
                TL,
                Counter,
                help,
                &[("kind", kind), ("name", name)],
                count(value),
            );
        }
    }

    // fusebox's own series (not Resilience4j meters).
    if let Some(stats) = &counts.stats {
        const TRANSITIONS: &str = "fusebox_circuitbreaker_transitions";
        const TRANSITIONS_HELP: &str =
            "fusebox: state transitions of the circuit breaker (not a Resilience4j meter)";
        for from in State::ALL {
            for to in State::ALL {
                let n = stats.transitions.get(from, to);
                if n > 0 || AUTOMATIC_TRANSITIONS.contains(&(from, to)) {
                    f.add(
                        TRANSITIONS,
                        Counter,
                        TRANSITIONS_HELP,
                        &[("from", from.as_tag()), ("name", name), ("to", to.as_tag())],
                        count(n),
                    );
                }
            }
        }
    }
    const REJECTED: &str = "fusebox_circuitbreaker_rejected_calls";
    const REJECTED_HELP: &str = "fusebox: calls rejected by the circuit breaker, by the state that rejected them (not a Resilience4j meter)";
    for (reason, n) in [
        ("half_open", counts.rejected_half_open),
        ("open", counts.rejected_open),
    ] {
        f.add(
            REJECTED,
            Counter,
            REJECTED_HELP,
            &[("name", name), ("reason", reason)],
            count(n),
        );
    }
    f.add(
        "fusebox_circuitbreaker_monitor_dropped_events",
        Counter,
        "fusebox: breaker events the monitor's queue dropped; the event-fed series above miss them (not a Resilience4j meter)",
        &[("name", name)],
        count(counts.dropped),
    );
}

/// Resilience4j's calls timer and not-permitted counter, from the breaker's call stats.
fn calls_families(f: &mut Families, name: &str, stats: &CallStats) {
    use FamilyType::{Counter, Gauge, Summary};
    const CALLS: &str = "resilience4j_circuitbreaker_calls_seconds";
    const CALLS_MAX: &str = "resilience4j_circuitbreaker_calls_seconds_max";
    for kind in CallKind::ALL {
        let help = match kind {
            CallKind::Successful => "Total number of successful calls",
            CallKind::Failed => "Total number of failed calls",
            CallKind::Ignored => "Total number of calls which failed but the exception was ignored",
        };
        let timer = kind.timer(stats);
        let labels = [("kind", kind.tag()), ("name", name)];
        f.add(
            CALLS,
            Summary,
            help,
            &labels,
            Value::Summary {
                count: timer.count,
                sum: seconds(timer.total.as_nanos()),
            },
        );
        f.add(
            CALLS_MAX,
            Gauge,
            help,
            &labels,
            Value::Double(seconds(timer.max.as_nanos())),
        );
    }
    f.add(
        "resilience4j_circuitbreaker_not_permitted_calls",
        Counter,
        "Total number of not permitted calls",
        &[("kind", "not_permitted"), ("name", name)],
        count(stats.not_permitted),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let mut out = String::new();
        escape_label_value(&mut out, "a\"b\\c\nd");
        assert_eq!(out, "a\\\"b\\\\c\\nd");
        assert_eq!(escape_help("x\\y\nz"), "x\\\\y\\nz");
    }
}
