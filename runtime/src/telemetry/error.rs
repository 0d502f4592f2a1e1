//! The error type of the telemetry setup.

use std::path::PathBuf;

/// Why the telemetry pipeline could not be set up.
///
/// Every configuration problem is reported at setup, never later: a bad value names the
/// environment variable (or the builder setting that stands for it) and the value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// A setting (environment variable or the builder method standing for it) has a bad value.
    #[error("invalid {setting}={value:?}: {reason}")]
    InvalidSetting {
        /// The environment variable name, e.g. `OTEL_TRACES_SAMPLER`.
        setting: &'static str,
        /// The offending value, verbatim.
        value: String,
        /// What is wrong and what is accepted.
        reason: String,
    },
    /// The requested exporter needs a cargo feature of `fusebox-runtime` that is not enabled.
    #[error("OTEL_TRACES_EXPORTER={exporter:?} needs the `{feature}` feature of fusebox")]
    FeatureDisabled {
        /// The exporter name.
        exporter: &'static str,
        /// The cargo feature to enable.
        feature: &'static str,
    },
    /// The span file of the file exporter could not be created.
    #[error("cannot create the span file {}: {source}", path.display())]
    SpanFile {
        /// The path that was tried.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Building an exporter failed (OTLP).
    #[error("cannot build the {exporter} exporter: {reason}")]
    Exporter {
        /// The exporter name.
        exporter: &'static str,
        /// The underlying error, rendered.
        reason: String,
    },
    /// A global `tracing` subscriber was already installed by someone else.
    #[error("a global tracing subscriber is already installed: {0}")]
    SubscriberAlreadySet(String),
}

impl TelemetryError {
    pub(crate) fn invalid(
        setting: &'static str,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::InvalidSetting {
            setting,
            value: value.into(),
            reason: reason.into(),
        }
    }
}
