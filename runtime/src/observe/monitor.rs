//! [`Monitor`]: a registry's breakers as operators see them — the Prometheus exposition, the
//! endpoint bodies, the health, and the last events of each breaker.

use super::bulkhead::Bulkheads;
use super::entries::Watch;
use super::health::{BreakerHealth, Health, HealthComponent, HealthStatus, InstanceHealth};
use super::model::{
    CircuitBreakerDetails, CircuitBreakerEventDto, CircuitBreakerEventsResponse,
    CircuitBreakersResponse, UpdateState, UpdateStateResponse,
};
use super::prometheus::{self, BreakerSample};
use super::rate_limiter::RateLimiters;
use super::retry::Retries;
use super::tap::Tap;
use super::time_limiter::TimeLimiters;
use crate::breaker::CircuitBreaker;
use crate::config::file::tags::tag_name_problem;
use crate::events::EventType;
use crate::registry::{BreakerAddedHook, EntryAddedHook, Registry};
use crate::state::IllegalStateTransition;
use parking_lot::RwLock;
use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock, Weak};

/// A monitor setting that cannot be used, naming the setting and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorError {
    setting: String,
    problem: String,
}

impl MonitorError {
    pub(crate) fn new(setting: impl Into<String>, problem: impl Into<String>) -> Self {
        MonitorError {
            setting: setting.into(),
            problem: problem.into(),
        }
    }

    /// The setting, e.g. `tags.name`.
    pub fn setting(&self) -> &str {
        &self.setting
    }
}

impl fmt::Display for MonitorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "monitor setting `{}`: {}", self.setting, self.problem)
    }
}

impl std::error::Error for MonitorError {}

/// Why an events query has no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventsError {
    /// No breaker has this name.
    UnknownBreaker {
        /// The name asked for.
        name: String,
    },
    /// Not one of Resilience4j's event types.
    UnknownEventType {
        /// The type asked for.
        given: String,
    },
}

/// Resilience4j's `CircuitBreakerEvent.Type` values, the filters the events endpoint accepts.
/// FORCED_OPEN and DISABLED are valid but no event has them.
pub const EVENT_TYPE_NAMES: [&str; 10] = [
    "ERROR",
    "IGNORED_ERROR",
    "SUCCESS",
    "NOT_PERMITTED",
    "STATE_TRANSITION",
    "RESET",
    "FORCED_OPEN",
    "DISABLED",
    "FAILURE_RATE_EXCEEDED",
    "SLOW_CALL_RATE_EXCEEDED",
];

impl fmt::Display for EventsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventsError::UnknownBreaker { name } => {
                write!(f, "no circuit breaker is named '{name}'")
            }
            EventsError::UnknownEventType { given } => write!(
                f,
                "'{given}' is not a circuit breaker event type; use one of {} (any case)",
                EVENT_TYPE_NAMES.join(", ")
            ),
        }
    }
}

impl std::error::Error for EventsError {}

/// Parses an event type filter as Resilience4j does (`Type.valueOf(s.toUpperCase())`):
/// `Ok(None)` for the valid types no event has.
fn parse_event_type(given: &str) -> Result<Option<EventType>, EventsError> {
    let upper = given.to_ascii_uppercase();
    let known = [
        EventType::Error,
        EventType::IgnoredError,
        EventType::Success,
        EventType::NotPermitted,
        EventType::StateTransition,
        EventType::Reset,
        EventType::FailureRateExceeded,
        EventType::SlowCallRateExceeded,
    ];
    if let Some(t) = known.into_iter().find(|t| t.as_str() == upper) {
        return Ok(Some(t));
    }
    if upper == "FORCED_OPEN" || upper == "DISABLED" {
        return Ok(None);
    }
    Err(EventsError::UnknownEventType {
        given: given.to_owned(),
    })
}

/// Builds a [`Monitor`]: tags, and whether SUCCESS events are buffered.
///
/// Each breaker's health and event-buffer settings are its config's
/// ([`register_health_indicator`](crate::CircuitBreakerConfig::register_health_indicator),
/// [`allow_health_indicator_to_fail`](crate::CircuitBreakerConfig::allow_health_indicator_to_fail),
/// [`event_consumer_buffer_size`](crate::CircuitBreakerConfig::event_consumer_buffer_size)),
/// read live, so that a config file or a reload sets them like every other property.
///
/// ```
/// use fusebox_runtime::{CircuitBreakerConfig, Registry};
/// use fusebox_runtime::observe::Monitor;
///
/// let registry = Registry::new();
/// registry.circuit_breaker_with_config(
///     "payments",
///     CircuitBreakerConfig::builder()
///         .register_health_indicator(true)
///         .event_consumer_buffer_size(500)
///         .build()?,
/// );
/// let monitor = Monitor::builder(&registry)
///     .tag("application", "orders-service")
///     .build()?;
/// assert!(monitor.health().components["circuitBreakers"].details.contains_key("payments"));
/// assert!(monitor.prometheus().contains("application=\"orders-service\""));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct MonitorBuilder {
    registry: Registry,
    tags: Vec<(String, String)>,
    success_events: bool,
}

impl fmt::Debug for MonitorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MonitorBuilder")
            .field("tags", &self.tags)
            .field("success_events", &self.success_events)
            .finish_non_exhaustive()
    }
}

impl MonitorBuilder {
    /// Adds a registry-wide tag, written as a label on every series (Spring's
    /// `management.metrics.tags.application`, which the official Grafana dashboard selects on;
    /// or `resilience4j.circuitbreaker.tags`). The registry's own tags (from its config file,
    /// see [`Registry::tags`]) apply too; a tag given here wins over the registry's tag of the
    /// same name.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push((key.into(), value.into()));
        self
    }

    /// Whether each breaker's event buffer (`/actuator/circuitbreakerevents`) also takes SUCCESS
    /// events, as Resilience4j's does. Off by default: a subscription that takes SUCCESS events
    /// makes every success of a healthy breaker take the breaker's lock and queue an event
    /// (150–350 ns a call instead of a few), while without them the breaker keeps its lock-free
    /// fast path. The metrics never need them (they read the breakers' call stats). Turn it on
    /// for Spring-exact event lists. The same switch lets the other event buffers take the
    /// events of healthy calls: a time limiter's SUCCESS, a rate limiter's SUCCESSFUL_ACQUIRE
    /// (without it, a granted acquire on a watched limiter costs what it costs unwatched), a
    /// bulkhead's CALL_PERMITTED and CALL_FINISHED (without it, a permitted call on a watched
    /// bulkhead costs what it costs unwatched).
    pub fn success_events(mut self, on: bool) -> Self {
        self.success_events = on;
        self
    }

    /// Checks the settings and starts monitoring every breaker of the registry, present and
    /// future. Called within a tokio runtime, events are moved into the monitor as they come
    /// (a task per breaker); elsewhere they wait in each breaker's queue (4096 events, overflow
    /// counted in `fusebox_circuitbreaker_monitor_dropped_events_total`) until the next read.
    pub fn build(self) -> Result<Monitor, MonitorError> {
        let mut seen = Vec::new();
        for (key, _) in &self.tags {
            let setting = format!("tags.{key}");
            if let Some(problem) = tag_name_problem(key) {
                return Err(MonitorError::new(setting, problem));
            }
            if seen.contains(&key) {
                return Err(MonitorError::new(setting, "the tag is given twice"));
            }
            seen.push(key);
        }
        Ok(self.start())
    }

    /// Starts the monitor with settings that passed [`build`](Self::build)'s checks (or the
    /// defaults, which always do).
    fn start(self) -> Monitor {
        let runtime = tokio::runtime::Handle::try_current().ok();
        let inner = Arc::new(MonitorInner {
            retries: Watch::new(&self.registry, self.success_events, runtime.clone()),
            time_limiters: Watch::new(&self.registry, self.success_events, runtime.clone()),
            rate_limiters: Watch::new(&self.registry, self.success_events, runtime.clone()),
            bulkheads: Watch::new(&self.registry, self.success_events, runtime.clone()),
            registry: self.registry,
            tags: self.tags,
            success_events: self.success_events,
            runtime,
            taps: RwLock::new(BTreeMap::new()),
            hook: OnceLock::new(),
            entry_hook: OnceLock::new(),
        });
        let weak_entries: Weak<MonitorInner> = Arc::downgrade(&inner);
        let entry_hook: Arc<EntryAddedHook> = Arc::new(move |entry: &dyn Any| {
            if let Some(monitor) = weak_entries.upgrade() {
                monitor.entry_added(entry);
            }
        });
        inner.registry.on_entry_added(&entry_hook);
        let _ = inner.entry_hook.set(entry_hook);
        inner.start_watches();
        let weak: Weak<MonitorInner> = Arc::downgrade(&inner);
        let hook: Arc<BreakerAddedHook> = Arc::new(move |breaker: &CircuitBreaker| {
            if let Some(monitor) = weak.upgrade() {
                monitor.attach(breaker.clone(), true);
            }
        });
        // Registered before the existing breakers are attached: a breaker created in between
        // is attached by the hook, and never twice.
        inner.registry.on_breaker_added(&hook);
        let _ = inner.hook.set(hook);
        for breaker in inner.registry.all() {
            inner.attach(breaker, false);
        }
        Monitor { inner }
    }
}

/// Watches a [`Registry`]'s breakers for operators: the Prometheus exposition of
/// resilience4j-micrometer's meters, the bodies of resilience4j-spring-boot3's
/// `/actuator/circuitbreakers`, `/actuator/circuitbreakerevents` and `/actuator/health`, and the
/// state change an operator makes by hand.
///
/// It follows the registry: breakers created, replaced or removed later are picked up (a
/// replaced breaker starts with a fresh event buffer and fresh counts, as Micrometer re-binds
/// replaced instances). Counts are the breaker's own, from its creation: a monitor started
/// later reports the calls made before it too. A cheap handle: clones share one monitor.
///
/// The series are read from each breaker's [`CallStats`](crate::CallStats) when rendered. The
/// event buffers subscribe to every breaker's events but SUCCESS (unless
/// [`MonitorBuilder::success_events`] asks for them), so monitoring keeps the breakers'
/// lock-free fast path (see `ARCHITECTURE.md`, Concurrency).
///
/// ```
/// use fusebox_runtime::Registry;
/// use fusebox_runtime::observe::Monitor;
///
/// let registry = Registry::new();
/// let monitor = Monitor::new(&registry);
/// let orders = registry.circuit_breaker("orders");
/// orders.transition_to_forced_open_state().unwrap();
/// assert!(monitor.prometheus().contains(
///     "resilience4j_circuitbreaker_state{name=\"orders\",state=\"forced_open\"} 1.0"
/// ));
/// let events = monitor.events_of("orders", Some("state_transition")).unwrap();
/// assert_eq!(
///     events.circuit_breaker_events[0].state_transition.as_deref(),
///     Some("CLOSED_TO_FORCED_OPEN")
/// );
/// ```
#[derive(Clone)]
pub struct Monitor {
    pub(super) inner: Arc<MonitorInner>,
}

pub(super) struct MonitorInner {
    registry: Registry,
    /// The builder's tags; they win over the registry's.
    tags: Vec<(String, String)>,
    /// Whether the event buffers take SUCCESS events ([`MonitorBuilder::success_events`]).
    success_events: bool,
    runtime: Option<tokio::runtime::Handle>,
    /// The taps by breaker name. Never held while calling into the registry: the registry
    /// calls the hook (which takes this lock) with its own lock held.
    taps: RwLock<BTreeMap<Arc<str>, Arc<Tap>>>,
    /// Keeps the registry's weak reference to the hook alive.
    hook: OnceLock<Arc<BreakerAddedHook>>,
    /// The other kinds of entries (see `entries.rs`); a new kind is one more field here, one
    /// more line in `entry_added` and in `families`.
    pub(super) retries: Watch<Retries>,
    pub(super) time_limiters: Watch<TimeLimiters>,
    pub(super) rate_limiters: Watch<RateLimiters>,
    pub(super) bulkheads: Watch<Bulkheads>,
    /// Keeps the registry's weak reference to the entry hook alive.
    entry_hook: OnceLock<Arc<EntryAddedHook>>,
}

impl MonitorInner {
    /// The registry created `entry` (not a breaker): the watch of its kind taps it.
    fn entry_added(&self, entry: &dyn Any) {
        self.retries.added(entry);
        self.time_limiters.added(entry);
        self.rate_limiters.added(entry);
        self.bulkheads.added(entry);
    }

    /// Taps the entries that existed before the entry hook.
    fn start_watches(&self) {
        self.retries.start();
        self.time_limiters.start();
        self.rate_limiters.start();
        self.bulkheads.start();
    }
}

impl fmt::Debug for Monitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Monitor")
            .field("tags", &self.inner.tags)
            .field(
                "breakers",
                &self.inner.taps.read().keys().collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl MonitorInner {
    /// The registry's tags (as of now: a reload may change them) with the builder's on top,
    /// sorted by name.
    fn tags(&self) -> Vec<(String, String)> {
        let mut tags = self.registry.tags();
        for (key, value) in &self.tags {
            tags.insert(key.clone(), value.clone());
        }
        tags.into_iter().collect()
    }

    /// Taps `breaker`: replacing any tap of that name (`replace`, from the hook: the registry
    /// has a newer breaker), or only where there is none.
    fn attach(&self, breaker: CircuitBreaker, replace: bool) {
        let name: Arc<str> = Arc::from(breaker.name());
        if !replace && self.taps.read().contains_key(&name) {
            return;
        }
        let tap = Tap::attach(breaker, self.success_events, self.runtime.as_ref());
        let mut taps = self.taps.write();
        if replace || !taps.contains_key(&name) {
            taps.insert(name, tap);
        }
    }

    /// The taps of the registry's current breakers, sorted by name: stale taps (their breaker
    /// was removed or replaced) are dropped, missing ones attached.
    fn taps(&self) -> Vec<Arc<Tap>> {
        let current = self.registry.all();
        let known: Vec<(Arc<str>, Arc<Tap>)> = self
            .taps
            .read()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let stale: Vec<Arc<Tap>> = known
            .iter()
            .filter(|(name, tap)| {
                !current
                    .iter()
                    .any(|b| b.name() == &**name && b.ptr_eq(&tap.breaker))
            })
            .map(|(_, tap)| tap.clone())
            .collect();
        if !stale.is_empty() {
            let mut taps = self.taps.write();
            // Only the very taps judged stale: the hook may have attached a newer one since.
            taps.retain(|_, tap| !stale.iter().any(|s| Arc::ptr_eq(s, tap)));
        }
        for breaker in &current {
            let tapped = self
                .taps
                .read()
                .get(breaker.name())
                .is_some_and(|t| t.breaker.ptr_eq(breaker));
            if !tapped {
                self.attach(breaker.clone(), false);
            }
        }
        let taps = self.taps.read();
        current
            .iter()
            .filter_map(|b| taps.get(b.name()).filter(|t| t.breaker.ptr_eq(b)).cloned())
            .collect()
    }
}

impl Monitor {
    /// Monitors `registry` with Resilience4j's defaults and no tags.
    pub fn new(registry: &Registry) -> Monitor {
        Self::builder(registry).start()
    }

    /// A builder for tags and the event buffers' SUCCESS events.
    pub fn builder(registry: &Registry) -> MonitorBuilder {
        MonitorBuilder {
            registry: registry.clone(),
            tags: Vec::new(),
            success_events: false,
        }
    }

    /// The monitored registry.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// The tags written on every series now: the registry's ([`Registry::tags`]) with the
    /// builder's on top, sorted by name.
    pub fn tags(&self) -> Vec<(String, String)> {
        self.inner.tags()
    }

    /// The Prometheus text exposition (format 0.0.4, content type
    /// [`CONTENT_TYPE`](super::prometheus::CONTENT_TYPE)) of every breaker, rendered now.
    pub fn prometheus(&self) -> String {
        self.families().render()
    }

    /// Every breaker's metric families, read now (the Prometheus exposition and the `metrics`
    /// facade publish the same ones).
    pub(crate) fn families(&self) -> prometheus::Families {
        let taps = self.inner.taps();
        let samples: Vec<BreakerSample<'_>> = taps
            .iter()
            .map(|tap| BreakerSample {
                breaker: &tap.breaker,
                counts: tap.counts(),
            })
            .collect();
        let mut families = prometheus::collect(&self.inner.tags(), &samples);
        self.inner.retries.families(&mut families);
        self.inner.time_limiters.families(&mut families);
        self.inner.rate_limiters.families(&mut families);
        self.inner.bulkheads.families(&mut families);
        families
    }

    /// `GET /actuator/circuitbreakers`: every breaker's details, sorted by name.
    pub fn circuit_breakers(&self) -> CircuitBreakersResponse {
        CircuitBreakersResponse {
            circuit_breakers: self
                .inner
                .registry
                .all()
                .iter()
                .map(|b| (b.name().to_owned(), CircuitBreakerDetails::of(b)))
                .collect(),
        }
    }

    /// One breaker's details, if it exists.
    pub fn circuit_breaker(&self, name: &str) -> Option<CircuitBreakerDetails> {
        self.inner
            .registry
            .find(name)
            .map(|b| CircuitBreakerDetails::of(&b))
    }

    /// `POST /actuator/circuitbreakers/{name}`: moves the breaker to the asked state. As in
    /// Resilience4j, a breaker that does not exist yet is created first (with the registry's
    /// config for that name).
    pub fn update_state(
        &self,
        name: &str,
        update: UpdateState,
    ) -> Result<UpdateStateResponse, IllegalStateTransition> {
        let breaker = self.inner.registry.circuit_breaker(name);
        match update {
            UpdateState::Close => breaker.transition_to_closed_state(),
            UpdateState::ForceOpen => breaker.transition_to_forced_open_state(),
            UpdateState::Disable => breaker.transition_to_disabled_state(),
        }?;
        Ok(UpdateStateResponse {
            circuit_breaker_name: name.to_owned(),
            current_state: breaker.state().as_str().to_owned(),
            message: format!("{name} state has been changed successfully"),
        })
    }

    /// `GET /actuator/circuitbreakerevents`: the buffered events of every breaker, oldest first.
    pub fn events(&self) -> CircuitBreakerEventsResponse {
        let mut events: Vec<_> = self.inner.taps().iter().flat_map(|t| t.events()).collect();
        events.sort_by_key(|e| e.created_at);
        CircuitBreakerEventsResponse {
            circuit_breaker_events: events.iter().map(CircuitBreakerEventDto::of).collect(),
        }
    }

    /// `GET /actuator/circuitbreakerevents/{name}[/{eventType}]`: one breaker's buffered events
    /// in buffer order, optionally of one type (case-insensitive, as Resilience4j).
    pub fn events_of(
        &self,
        name: &str,
        event_type: Option<&str>,
    ) -> Result<CircuitBreakerEventsResponse, EventsError> {
        let filter = event_type.map(parse_event_type).transpose()?;
        let tap = self
            .inner
            .taps()
            .into_iter()
            .find(|t| t.breaker.name() == name)
            .ok_or_else(|| EventsError::UnknownBreaker {
                name: name.to_owned(),
            })?;
        let events = tap
            .events()
            .iter()
            .filter(|e| match filter {
                None => true,
                Some(None) => false,
                Some(Some(t)) => e.kind.event_type() == t,
            })
            .map(CircuitBreakerEventDto::of)
            .collect();
        Ok(CircuitBreakerEventsResponse {
            circuit_breaker_events: events,
        })
    }

    /// The `circuitBreakers` health component: the breakers whose config registers a health
    /// indicator ([`register_health_indicator`](crate::CircuitBreakerConfig::register_health_indicator)),
    /// each failing it on OPEN if its config
    /// [allows](crate::CircuitBreakerConfig::allow_health_indicator_to_fail) it, and their
    /// aggregate.
    pub fn circuit_breakers_health(&self) -> HealthComponent {
        let details: BTreeMap<String, InstanceHealth> = self
            .inner
            .registry
            .all()
            .iter()
            .filter_map(|b| {
                let config = b.config();
                config.register_health_indicator().then(|| {
                    (
                        b.name().to_owned(),
                        BreakerHealth::of(b, config.allow_health_indicator_to_fail()).into(),
                    )
                })
            })
            .collect();
        HealthComponent {
            status: HealthStatus::aggregate(details.values().map(|h| h.status)),
            details,
        }
    }

    /// `GET /actuator/health`: the `circuitBreakers` component, the `rateLimiters` component
    /// when the registry has rate limiters, and Spring's `ping` (always `UP`, as in a Spring
    /// Boot application), aggregated: a `DOWN` component makes the whole health `DOWN` (HTTP
    /// 503).
    ///
    /// **Deviation:** Spring shows `rateLimiters` only with
    /// `management.health.ratelimiters.enabled: true` (off by default, as the breakers'
    /// switch); fusebox has no switch and shows it whenever a rate limiter exists (`UNKNOWN`
    /// while none registers a health indicator, which leaves the overall status as it was).
    pub fn health(&self) -> Health {
        let mut components = BTreeMap::new();
        components.insert("circuitBreakers".to_owned(), self.circuit_breakers_health());
        if !self.inner.registry.all_rate_limiters().is_empty() {
            components.insert("rateLimiters".to_owned(), self.rate_limiters_health());
        }
        components.insert(
            "ping".to_owned(),
            HealthComponent {
                status: HealthStatus::Up,
                details: BTreeMap::new(),
            },
        );
        Health {
            status: HealthStatus::aggregate(components.values().map(|c| c.status)),
            components,
        }
    }
}
