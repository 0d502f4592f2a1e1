//! Numbers and times written the way the JVM writes them, so fusebox's output reads like
//! Resilience4j's: `Double.toString` / `Float.toString` (Prometheus values, `"50.0%"` rates)
//! and `ZonedDateTime.toString` (event `creationTime`).

use std::fmt::Write as _;
use std::time::SystemTime;

/// Java's `Double.toString(d)`: shortest round-trip digits, always with a fraction (`1.0`),
/// scientific outside `[1e-3, 1e7)` (`1.0E-4`, `1.2345E7`).
pub(crate) fn java_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".to_owned();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    let magnitude = d.abs();
    if magnitude == 0.0 || (1e-3..1e7).contains(&magnitude) {
        plain(format!("{d}"))
    } else {
        scientific(format!("{d:e}"))
    }
}

/// Java's `Float.toString(f)`: as [`java_double`], with the shortest digits of the `f32`.
pub(crate) fn java_float(f: f32) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    let magnitude = f.abs();
    if magnitude == 0.0 || (1e-3..1e7).contains(&magnitude) {
        plain(format!("{f}"))
    } else {
        scientific(format!("{f:e}"))
    }
}

/// A Prometheus sample value as client_java writes it: `+Inf` / `-Inf`, else `Double.toString`.
pub(crate) fn prometheus_double(d: f64) -> String {
    if d == f64::INFINITY {
        "+Inf".to_owned()
    } else if d == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        java_double(d)
    }
}

fn plain(mut digits: String) -> String {
    if !digits.contains('.') {
        digits.push_str(".0");
    }
    digits
}

fn scientific(rust: String) -> String {
    // Rust writes `1e7` / `1.2345e-5`; Java writes `1.0E7` / `1.2345E-5`.
    let (mantissa, exponent) = rust.split_once('e').unwrap_or((&rust, "0"));
    let mut out = String::with_capacity(rust.len() + 3);
    out.push_str(mantissa);
    if !mantissa.contains('.') {
        out.push_str(".0");
    }
    out.push('E');
    out.push_str(exponent);
    out
}

/// A rate or threshold as Resilience4j's endpoints print it: `metrics.getFailureRate() + "%"`.
pub(crate) fn percent(value: f32) -> String {
    let mut s = java_float(value);
    s.push('%');
    s
}

/// `ZonedDateTime.toString()` of `time` in the system time zone, e.g.
/// `2026-03-14T14:20:44.123+01:00[Europe/Berlin]`: seconds only when not zero, the fraction
/// in groups of three digits, `Z` for a zero offset, the zone's name when it has one.
pub(crate) fn java_zoned_time(time: SystemTime) -> String {
    java_zoned_time_in(time, &jiff::tz::TimeZone::system())
}

fn java_zoned_time_in(time: SystemTime, zone: &jiff::tz::TimeZone) -> String {
    let Ok(timestamp) = jiff::Timestamp::try_from(time) else {
        return String::from("1970-01-01T00:00Z");
    };
    let zoned = timestamp.to_zoned_datetime(zone.clone());
    let dt = zoned.datetime();
    let mut out = String::with_capacity(40);
    let year = dt.year();
    if year > 9999 {
        let _ = write!(out, "+{year}");
    } else {
        let _ = write!(out, "{year:04}");
    }
    let _ = write!(
        out,
        "-{:02}-{:02}T{:02}:{:02}",
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute()
    );
    let nanos = dt.subsec_nanosecond();
    if dt.second() != 0 || nanos != 0 {
        let _ = write!(out, ":{:02}", dt.second());
    }
    if nanos != 0 {
        if nanos % 1_000_000 == 0 {
            let _ = write!(out, ".{:03}", nanos / 1_000_000);
        } else if nanos % 1_000 == 0 {
            let _ = write!(out, ".{:06}", nanos / 1_000);
        } else {
            let _ = write!(out, ".{nanos:09}");
        }
    }
    let offset = zoned.offset().seconds();
    if offset == 0 {
        out.push('Z');
    } else {
        let sign = if offset < 0 { '-' } else { '+' };
        let abs = offset.unsigned_abs();
        let _ = write!(out, "{sign}{:02}:{:02}", abs / 3600, abs / 60 % 60);
        if abs % 60 != 0 {
            let _ = write!(out, ":{:02}", abs % 60);
        }
    }
    if let Some(name) = zone.iana_name() {
        let _ = write!(out, "[{name}]");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn doubles_as_java_writes_them() {
        // Values checked against `Double.toString` on a JVM.
        for (d, java) in [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (-1.0, "-1.0"),
            (50.0, "50.0"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (0.012, "0.012"),
            (1234567.0, "1234567.0"),
            (1e7, "1.0E7"),
            (12345678.9, "1.23456789E7"),
            (f64::from(100.0_f32 / 3.0), "33.33333206176758"),
            (1.5e-9, "1.5E-9"),
            (0.002, "0.002"),
            (123.456, "123.456"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(java_double(d), java, "{d}");
        }
        assert_eq!(prometheus_double(f64::INFINITY), "+Inf");
        assert_eq!(prometheus_double(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn floats_and_percentages_as_resilience4j_prints_them() {
        assert_eq!(percent(-1.0), "-1.0%");
        assert_eq!(percent(50.0), "50.0%");
        assert_eq!(percent(100.0 / 3.0), "33.333332%");
        assert_eq!(percent(12.5), "12.5%");
        assert_eq!(java_float(1e-4), "1.0E-4");
        assert_eq!(percent(2.0 / 3.0 * 100.0), "66.66667%");
    }

    #[test]
    fn zoned_times_as_java_writes_them() {
        // Expected strings printed by `ZonedDateTime.ofInstant(...).toString()` on Java 17.
        use jiff::tz::{Offset, TimeZone};
        let at = |secs: u64, nanos: u32| UNIX_EPOCH + Duration::new(secs, nanos);
        let zone = |name: &str| TimeZone::get(name).unwrap();
        assert_eq!(
            java_zoned_time_in(at(1_773_498_044, 123_000_000), &zone("Europe/Berlin")),
            "2026-03-14T15:20:44.123+01:00[Europe/Berlin]"
        );
        assert_eq!(
            java_zoned_time_in(at(1_773_498_000, 0), &zone("Europe/Berlin")),
            "2026-03-14T15:20+01:00[Europe/Berlin]"
        );
        assert_eq!(
            java_zoned_time_in(at(1_773_498_044, 123_456_000), &zone("America/St_Johns")),
            "2026-03-14T11:50:44.123456-02:30[America/St_Johns]"
        );
        assert_eq!(
            java_zoned_time_in(at(1_773_498_044, 123_456_789), &zone("Etc/UTC")),
            "2026-03-14T14:20:44.123456789Z[Etc/UTC]"
        );
        let fixed = TimeZone::fixed(Offset::constant(2));
        assert_eq!(
            java_zoned_time_in(at(1_773_498_044, 100_000_000), &fixed),
            "2026-03-14T16:20:44.100+02:00"
        );
    }

    #[test]
    fn zoned_time_has_javas_shape() {
        let t = UNIX_EPOCH + Duration::from_millis(1_773_498_044_123);
        let s = java_zoned_time(t);
        // The zone depends on the machine; the shape does not.
        assert!(s.starts_with("2026-03-1"), "{s}");
        assert!(s.contains(":44.123"), "{s}");
        let whole_minute = UNIX_EPOCH + Duration::from_secs(1_773_498_000);
        let s = java_zoned_time(whole_minute);
        // `HH:mm` and then the offset: no seconds, no fraction.
        assert!(matches!(s.as_bytes()[16], b'Z' | b'+' | b'-'), "{s}");
        let micros = UNIX_EPOCH + Duration::from_micros(1_773_498_044_123_456);
        assert!(java_zoned_time(micros).contains(":44.123456"));
        let nanos = UNIX_EPOCH + Duration::from_nanos(1_773_498_044_123_456_789);
        assert!(java_zoned_time(nanos).contains(":44.123456789"));
    }
}
