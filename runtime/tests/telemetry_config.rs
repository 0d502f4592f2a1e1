//! Environment parsing: defaults, every accepted value, and an error naming the variable and the
//! value for every bad one. No test touches the process environment.
#![cfg(feature = "telemetry")]

use std::collections::HashMap;
use std::time::Duration;

use fusebox_runtime::telemetry::{
    self, BatchSettings, ExporterKind, PropagatorKind, SamplerKind, TelemetryError, config,
};

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

fn error(pairs: &[(&str, &str)]) -> (String, String, String) {
    match config::from_lookup(env(pairs)) {
        Err(TelemetryError::InvalidSetting {
            setting,
            value,
            reason,
        }) => (setting.to_owned(), value, reason),
        other => panic!("expected an InvalidSetting error for {pairs:?}, got {other:?}"),
    }
}

#[test]
fn nothing_set_means_defaults() {
    let s = config::from_lookup(env(&[])).unwrap();
    assert!(s.service_name.is_none() && s.zipkin_endpoint.is_none() && s.sampler.is_none());
    assert!(s.propagators.is_none() && s.exporter.is_none() && !s.sdk_disabled);
    assert_eq!(s.batch, BatchSettings::default());
    // Empty values count as unset (OpenTelemetry specification).
    let s = config::from_lookup(env(&[
        ("OTEL_TRACES_SAMPLER", ""),
        ("OTEL_SERVICE_NAME", " "),
    ]))
    .unwrap();
    assert!(s.sampler.is_none() && s.service_name.is_none());
}

#[test]
fn accepted_values() {
    let s = config::from_lookup(env(&[
        ("OTEL_SERVICE_NAME", "order-service"),
        (
            "OTEL_EXPORTER_ZIPKIN_ENDPOINT",
            "http://127.0.0.1:19411/api/v2/spans",
        ),
        ("OTEL_EXPORTER_ZIPKIN_TIMEOUT", "1500"),
        ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
        ("OTEL_PROPAGATORS", "tracecontext, b3,b3multi,baggage,b3"),
        ("OTEL_TRACES_EXPORTER", "file"),
        ("FUSEBOX_TRACES_FILE", "/tmp/x.json"),
        ("OTEL_SDK_DISABLED", "TRUE"),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment.name=dev,team=core",
        ),
    ]))
    .unwrap();
    assert_eq!(s.service_name.as_deref(), Some("order-service"));
    let e = s.zipkin_endpoint.unwrap();
    assert_eq!(
        (e.host(), e.port(), e.path()),
        ("127.0.0.1", 19411, "/api/v2/spans")
    );
    assert_eq!(s.export_timeout, Some(Duration::from_millis(1500)));
    assert_eq!(s.sampler, Some(SamplerKind::ParentBasedTraceIdRatio(0.25)));
    assert_eq!(
        s.propagators,
        Some(vec![
            PropagatorKind::TraceContext,
            PropagatorKind::B3Single,
            PropagatorKind::B3Multi,
            PropagatorKind::Baggage
        ])
    );
    assert!(matches!(s.exporter, Some(ExporterKind::File(p)) if p.to_str() == Some("/tmp/x.json")));
    assert!(s.sdk_disabled);
    assert_eq!(s.resource_attributes.len(), 2);

    let s = config::from_lookup(env(&[
        ("OTEL_BSP_MAX_QUEUE_SIZE", "100"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "10"),
        ("OTEL_BSP_SCHEDULE_DELAY", "250"),
    ]))
    .unwrap();
    assert_eq!(
        s.batch,
        BatchSettings::default()
            .with_max_queue_size(100)
            .with_max_export_batch_size(10)
            .with_scheduled_delay(Duration::from_millis(250))
    );

    for (name, expected) in [
        ("always_on", SamplerKind::AlwaysOn),
        ("always_off", SamplerKind::AlwaysOff),
        ("traceidratio", SamplerKind::TraceIdRatio(1.0)),
        ("parentbased_always_on", SamplerKind::ParentBasedAlwaysOn),
        ("parentbased_always_off", SamplerKind::ParentBasedAlwaysOff),
    ] {
        assert_eq!(config::parse_sampler(name, None).unwrap(), expected);
    }
    assert_eq!(config::parse_propagators("none").unwrap(), vec![]);
    for (name, kind) in [("zipkin", "Zipkin"), ("otlp", "Otlp"), ("none", "None")] {
        let s = config::from_lookup(env(&[("OTEL_TRACES_EXPORTER", name)])).unwrap();
        assert!(format!("{:?}", s.exporter).contains(kind));
    }
}

#[test]
fn bad_values_name_the_variable_and_the_value() {
    type Case = (
        &'static [(&'static str, &'static str)],
        &'static str,
        &'static str,
    );
    let cases: &[Case] = &[
        (
            &[("OTEL_EXPORTER_ZIPKIN_ENDPOINT", "localhost:9411")],
            "OTEL_EXPORTER_ZIPKIN_ENDPOINT",
            "localhost:9411",
        ),
        (
            &[("OTEL_EXPORTER_ZIPKIN_ENDPOINT", "http://")],
            "OTEL_EXPORTER_ZIPKIN_ENDPOINT",
            "http://",
        ),
        (
            &[("OTEL_EXPORTER_ZIPKIN_ENDPOINT", "ftp://zipkin/api")],
            "OTEL_EXPORTER_ZIPKIN_ENDPOINT",
            "ftp://zipkin/api",
        ),
        (
            &[(
                "OTEL_EXPORTER_ZIPKIN_ENDPOINT",
                "https://zipkin:9411/api/v2/spans",
            )],
            "OTEL_EXPORTER_ZIPKIN_ENDPOINT",
            "https://zipkin:9411/api/v2/spans",
        ),
        (
            &[("OTEL_EXPORTER_ZIPKIN_TIMEOUT", "10s")],
            "OTEL_EXPORTER_ZIPKIN_TIMEOUT",
            "10s",
        ),
        (
            &[("OTEL_EXPORTER_ZIPKIN_TIMEOUT", "0")],
            "OTEL_EXPORTER_ZIPKIN_TIMEOUT",
            "0",
        ),
        (
            &[("OTEL_TRACES_SAMPLER", "sometimes")],
            "OTEL_TRACES_SAMPLER",
            "sometimes",
        ),
        (
            &[
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
            ],
            "OTEL_TRACES_SAMPLER_ARG",
            "1.5",
        ),
        (
            &[
                ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "half"),
            ],
            "OTEL_TRACES_SAMPLER_ARG",
            "half",
        ),
        (
            &[("OTEL_PROPAGATORS", "tracecontext,w3c")],
            "OTEL_PROPAGATORS",
            "tracecontext,w3c",
        ),
        (
            &[("OTEL_PROPAGATORS", "jaeger")],
            "OTEL_PROPAGATORS",
            "jaeger",
        ),
        (
            &[("OTEL_TRACES_EXPORTER", "jaeger")],
            "OTEL_TRACES_EXPORTER",
            "jaeger",
        ),
        (
            &[("OTEL_TRACES_EXPORTER", "zipkin,otlp")],
            "OTEL_TRACES_EXPORTER",
            "zipkin,otlp",
        ),
        (&[("OTEL_SDK_DISABLED", "yes")], "OTEL_SDK_DISABLED", "yes"),
        (
            &[("OTEL_RESOURCE_ATTRIBUTES", "novalue")],
            "OTEL_RESOURCE_ATTRIBUTES",
            "novalue",
        ),
        (
            &[("OTEL_BSP_MAX_QUEUE_SIZE", "lots")],
            "OTEL_BSP_MAX_QUEUE_SIZE",
            "lots",
        ),
        (
            &[("OTEL_BSP_MAX_QUEUE_SIZE", "0")],
            "OTEL_BSP_MAX_QUEUE_SIZE",
            "0",
        ),
        (
            &[("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "-1")],
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
            "-1",
        ),
        (
            &[("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "0")],
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
            "0",
        ),
        (
            &[("OTEL_BSP_SCHEDULE_DELAY", "5s")],
            "OTEL_BSP_SCHEDULE_DELAY",
            "5s",
        ),
    ];
    for (pairs, variable, value) in cases {
        let (setting, got_value, reason) = error(pairs);
        assert_eq!(
            (setting.as_str(), got_value.as_str()),
            (*variable, *value),
            "{reason}"
        );
        let shown = config::from_lookup(env(pairs)).unwrap_err().to_string();
        assert!(shown.contains(variable) && shown.contains(value), "{shown}");
    }
}

#[test]
fn builder_reports_setup_errors() {
    let err = telemetry::builder("svc")
        .env_lookup(env(&[("OTEL_TRACES_SAMPLER", "nope")]))
        .build()
        .unwrap_err();
    assert!(
        err.to_string().contains("OTEL_TRACES_SAMPLER=\"nope\""),
        "{err}"
    );
    let err = telemetry::builder("svc")
        .ignore_env()
        .endpoint("not a url")
        .build()
        .unwrap_err();
    assert!(
        err.to_string().contains("OTEL_EXPORTER_ZIPKIN_ENDPOINT"),
        "{err}"
    );
    let err = telemetry::builder("svc")
        .env_lookup(env(&[("RUST_LOG", "info,=[")]))
        .exporter(ExporterKind::None)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("RUST_LOG"), "{err}");
    for (batch, variable) in [
        (
            BatchSettings::default().with_max_queue_size(0),
            "OTEL_BSP_MAX_QUEUE_SIZE",
        ),
        (
            BatchSettings::default().with_max_export_batch_size(0),
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
        ),
    ] {
        let err = telemetry::builder("svc")
            .ignore_env()
            .batch_config(batch)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains(variable), "{err}");
    }
    #[cfg(not(feature = "otlp"))]
    {
        let err = telemetry::builder("svc")
            .env_lookup(env(&[("OTEL_TRACES_EXPORTER", "otlp")]))
            .build()
            .unwrap_err();
        assert!(
            matches!(err, TelemetryError::FeatureDisabled { .. }),
            "{err}"
        );
    }
}

#[test]
fn service_name_env_overrides_the_argument_and_builder_overrides_env() {
    let t = telemetry::builder("user-service")
        .env_lookup(env(&[("OTEL_SERVICE_NAME", "renamed")]))
        .exporter(ExporterKind::None)
        .build()
        .unwrap();
    assert_eq!(t.service_name(), "renamed");
    let t = telemetry::builder("user-service")
        .env_lookup(env(&[]))
        .exporter(ExporterKind::None)
        .build()
        .unwrap();
    assert_eq!(t.service_name(), "user-service");
    // A builder call beats the environment for everything else.
    let t = telemetry::builder("svc")
        .env_lookup(env(&[("OTEL_PROPAGATORS", "b3")]))
        .propagation(telemetry::Propagation::symmetric(vec![
            PropagatorKind::TraceContext,
        ]))
        .exporter(ExporterKind::None)
        .build()
        .unwrap();
    assert_eq!(
        t.propagator().config().inject,
        vec![PropagatorKind::TraceContext]
    );
    let t = telemetry::builder("svc")
        .env_lookup(env(&[("OTEL_PROPAGATORS", "b3")]))
        .exporter(ExporterKind::None)
        .build()
        .unwrap();
    assert_eq!(
        t.propagator().config().inject,
        vec![PropagatorKind::B3Single]
    );
}

#[test]
#[cfg(feature = "testing")] // `ExporterKind::InMemory`
fn sdk_disabled_records_nothing() {
    let memory = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let t = telemetry::builder("svc")
        .env_lookup(env(&[("OTEL_SDK_DISABLED", "true")]))
        .exporter(ExporterKind::InMemory(memory.clone()))
        .build()
        .unwrap();
    tracing::subscriber::with_default(t.subscriber(), || {
        tracing::info_span!("x").in_scope(|| {});
    });
    assert!(memory.get_finished_spans().unwrap().is_empty());
}
