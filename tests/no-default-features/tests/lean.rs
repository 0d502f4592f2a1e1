//! `fusebox = { default-features = false }` (issue 11): a breaker configured from a TOML file
//! trips behind `#[circuit_breaker]`, `#[traced]` makes plain `tracing` spans with the breaker's
//! fields, YAML files say which feature they need, and the dependency tree stays small.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use fusebox::{Registry, State, WaitInterval};
use fusebox_no_default_features::{ClientError, OrderClient};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Subscriber, subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

const FUSEBOX_TOML: &str = r#"
[instances.orders]
failure_rate_threshold = 50
minimum_number_of_calls = 2
sliding_window_size = 2
wait_duration_in_open_state = "PT1M"   # ISO 8601, parsed by jiff without its default features
"#;

fn write_config(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fusebox-lean-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write config");
    path
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        Registry::from_file(write_config("fusebox.toml", FUSEBOX_TOML)).expect("valid TOML")
    })
}

/// A span as a `tracing` subscriber sees it: its name and every field recorded on it.
#[derive(Clone, Debug, Default)]
struct SeenSpan {
    name: &'static str,
    fields: BTreeMap<String, String>,
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        self.0.insert(field.name().to_owned(), text);
    }
}

/// Records spans in creation order; the `Id` maps a later `record` to its span.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<(Id, SeenSpan)>>>);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _ctx: Context<'_, S>) {
        let mut span = SeenSpan {
            name: attrs.metadata().name(),
            ..SeenSpan::default()
        };
        attrs.record(&mut Fields(&mut span.fields));
        self.0.lock().unwrap().push((id.clone(), span));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        let mut spans = self.0.lock().unwrap();
        if let Some((_, span)) = spans.iter_mut().rev().find(|(seen, _)| seen == id) {
            values.record(&mut Fields(&mut span.fields));
        }
    }
}

impl Recorder {
    fn spans(&self) -> Vec<SeenSpan> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(_, s)| s.clone())
            .collect()
    }
}

#[tokio::test]
async fn breaker_from_toml_trips_behind_both_attributes_with_plain_tracing_spans() {
    let recorder = Recorder::default();
    let _default = subscriber::set_default(tracing_subscriber::registry().with(recorder.clone()));
    let registry = registry();
    let breaker = registry
        .find("orders")
        .expect("instance `orders` comes from the file");
    let config = breaker.config();
    assert_eq!(config.sliding_window_size(), 2);
    assert_eq!(
        *config.wait_interval(),
        WaitInterval::Constant(Duration::from_secs(60))
    );

    let up = OrderClient {
        registry,
        healthy: true,
    };
    let down = OrderClient {
        registry,
        healthy: false,
    };
    assert_eq!(up.orders("7").await, Ok(vec!["7-1".to_owned()]));
    assert_eq!(
        down.orders("7").await,
        Ok(vec![]),
        "the fallback answers a failure"
    );
    assert_eq!(breaker.state(), State::Open, "1 failure in 2 calls is 50 %");
    assert_eq!(
        up.orders("7").await,
        Ok(vec![]),
        "not permitted: the fallback answers"
    );
    assert!(matches!(
        up.orders_or_error().await,
        Err(ClientError::Breaker(fusebox::BreakerError::NotPermitted(_)))
    ));

    let spans = recorder.spans();
    let orders: Vec<&SeenSpan> = spans.iter().filter(|s| s.name == "orders").collect();
    assert_eq!(orders.len(), 3, "{spans:#?}");
    let field = |span: &SeenSpan, key: &str| span.fields.get(key).cloned().unwrap_or_default();
    for span in &orders {
        assert_eq!(field(span, "otel.kind"), "client");
        assert_eq!(field(span, "peer.service"), "order-service");
        assert_eq!(field(span, "user.id"), "7");
        assert_eq!(field(span, "circuit_breaker.name"), "orders");
    }
    let outcomes: Vec<String> = orders
        .iter()
        .map(|s| field(s, "circuit_breaker.outcome"))
        .collect();
    assert_eq!(outcomes, ["success", "failure", "not_permitted"]);
    assert_eq!(field(orders[0], "circuit_breaker.state"), "closed");
    assert_eq!(field(orders[2], "circuit_breaker.state"), "open");
    assert_eq!(
        spans.iter().filter(|s| s.name == "fallback").count(),
        2,
        "one fallback span per fallback call: {spans:#?}"
    );
    assert!(
        spans.iter().any(|s| s.name == "orders_or_error"),
        "the debug-level span is made too: {spans:#?}"
    );
}

#[test]
fn yaml_config_names_the_feature_it_needs() {
    let path = write_config("application.yml", "resilience4j: {}\n");
    let error = Registry::from_file(&path).expect_err("no YAML parser without `yaml`");
    let message = error.to_string();
    assert!(message.contains("`yaml` feature"), "{message}");
    assert!(message.contains("application.yml"), "{message}");
}

/// The crates a user compiles: `cargo tree -e normal` of this package, whose one dependency is
/// `fusebox` without default features.
#[test]
fn dependency_tree_is_small_and_has_no_http_client_opentelemetry_or_yaml() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tree", "--offline", "-e", "normal", "--prefix", "none"])
        .args(["-p", env!("CARGO_PKG_NAME")])
        .output()
        .expect("runs cargo tree");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut crates: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != env!("CARGO_PKG_NAME"))
        .collect();
    crates.sort_unstable();
    crates.dedup();
    for unwanted in [
        "reqwest",
        "hyper",
        "opentelemetry",
        "opentelemetry_sdk",
        "tracing-opentelemetry",
        "tracing-subscriber",
        "tracing-attributes",
        "serde-saphyr",
    ] {
        assert!(!crates.contains(&unwanted), "{unwanted} in {crates:?}");
    }
    assert!(
        crates.contains(&"fusebox-runtime") && crates.contains(&"toml"),
        "{crates:?}"
    );
    assert!(crates.len() <= 40, "{} crates: {crates:?}", crates.len());
}
