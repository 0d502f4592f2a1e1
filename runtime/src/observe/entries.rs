//! How the [`Monitor`](super::Monitor) watches registry entries other than breakers (retries,
//! time limiters, rate limiters, bulkheads): one [`Watched`] impl per
//! kind, in a file of its own (`observe/retry.rs`, `observe/time_limiter.rs`,
//! `observe/rate_limiter.rs`, `observe/bulkhead.rs`), says how to list
//! the registry's entries, subscribe to an entry's events, turn an event into the actuator's
//! JSON and write the entry's Micrometer series. Everything else is shared and written once
//! here: the bounded per-entry event buffers (`eventConsumerBufferSize`), following entries
//! created later (the registry's entry hook), replaced or removed, the events queries with
//! Resilience4j's filter rules, and their errors. The actuator's routes for a kind are generic
//! too (`actuator::entry_routes`).
//!
//! As for breakers, a tap moves events from the entry's bounded, never-blocking queue into its
//! buffer (a task on the tokio runtime when there is one; every read drains what is still
//! queued first), so the entry's call path never touches the monitor's locks.

use super::prometheus::Families;
use crate::registry::Registry;
use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use std::any::Any;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::future::poll_fn;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::SystemTime;

/// How many events an entry's subscription queue holds between two moves into its buffer.
const QUEUE_CAPACITY: usize = 4096;

/// One kind of registry entry the monitor watches: what the shared machinery needs to know.
#[cfg_attr(
    not(feature = "actuator"),
    allow(
        dead_code,
        reason = "the paths and `watch` serve the actuator's routes"
    )
)]
pub(crate) trait Watched: Sized + Send + Sync + 'static {
    /// The registry's handle (cheap to clone).
    type Entry: Clone + Send + Sync + 'static;
    /// One event of an entry.
    type Event: Clone + Send + 'static;
    /// An entry's event subscription.
    type Receiver: Send + 'static;
    /// An event as the actuator writes it.
    type EventDto: Serialize;
    /// The body of the list endpoint (`{"retries":[names]}`).
    type ListResponse: Serialize + From<Vec<String>>;
    /// The body of the events endpoint (`{"retryEvents":[...]}`).
    type EventsResponse: Serialize + From<Vec<Self::EventDto>>;

    /// The kind in messages: `retry`, `time limiter`.
    const KIND: &'static str;
    /// Resilience4j's event type names, the filters the events endpoint accepts.
    const EVENT_TYPES: &'static [&'static str];
    /// The actuator's ids: the list endpoint (`retries`) and the events endpoint
    /// (`retryevents`).
    const LIST_PATH: &'static str;
    const EVENTS_PATH: &'static str;

    /// The monitor's watch of this kind.
    fn watch(monitor: &super::Monitor) -> &Watch<Self>;
    /// The registry's entries of this kind, sorted by name.
    fn entries(registry: &Registry) -> Vec<Self::Entry>;
    /// `entry` if it is of this kind (for the registry's entry hook).
    fn downcast(entry: &dyn Any) -> Option<&Self::Entry>;
    fn name(entry: &Self::Entry) -> &str;
    /// Whether two handles are the same entry.
    fn same(a: &Self::Entry, b: &Self::Entry) -> bool;
    /// The entry's `event_consumer_buffer_size`, read live.
    fn buffer_size(entry: &Self::Entry) -> u32;
    /// Subscribes to the entry's events (`successes`: also the events of healthy calls).
    fn subscribe(entry: &Self::Entry, capacity: usize, successes: bool) -> Self::Receiver;
    fn try_recv(receiver: &mut Self::Receiver) -> Option<Self::Event>;
    fn poll_recv(receiver: &mut Self::Receiver, cx: &mut Context<'_>) -> Poll<Option<Self::Event>>;
    /// Events the subscription queue had to drop.
    fn dropped(receiver: &Self::Receiver) -> u64;
    /// The event's Resilience4j type name.
    fn event_type(event: &Self::Event) -> &'static str;
    fn created_at(event: &Self::Event) -> SystemTime;
    fn dto(event: &Self::Event) -> Self::EventDto;
    /// Writes the entry's Micrometer series (and fusebox's own, if any).
    fn families(f: &mut Families, entry: &Self::Entry, dropped: u64);
}

/// Why an events query about a non-breaker entry has no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryEventsError {
    /// No entry of this kind has this name.
    UnknownEntry {
        /// The kind: `retry`, `time limiter`.
        kind: &'static str,
        /// The name asked for.
        name: String,
    },
    /// Not one of Resilience4j's event types for this kind.
    UnknownEventType {
        /// The kind: `retry`, `time limiter`.
        kind: &'static str,
        /// The type asked for.
        given: String,
        /// The valid types.
        valid: &'static [&'static str],
    },
}

impl fmt::Display for EntryEventsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryEventsError::UnknownEntry { kind, name } => {
                write!(f, "no {kind} is named '{name}'")
            }
            EntryEventsError::UnknownEventType { kind, given, valid } => write!(
                f,
                "'{given}' is not a {kind} event type; use one of {} (any case)",
                valid.join(", ")
            ),
        }
    }
}

impl std::error::Error for EntryEventsError {}

struct TapState<W: Watched> {
    receiver: W::Receiver,
    events: VecDeque<W::Event>,
    capacity: usize,
}

impl<W: Watched> TapState<W> {
    fn apply(&mut self, event: W::Event) {
        while self.events.len() >= self.capacity {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    fn drain(&mut self) {
        while let Some(event) = W::try_recv(&mut self.receiver) {
            self.apply(event);
        }
    }
}

/// The monitor's subscription to one entry.
pub(crate) struct EntryTap<W: Watched> {
    pub(crate) entry: W::Entry,
    state: Mutex<TapState<W>>,
    pump: Mutex<Option<tokio::task::AbortHandle>>,
}

impl<W: Watched> Drop for EntryTap<W> {
    fn drop(&mut self) {
        if let Some(pump) = self.pump.get_mut().take() {
            pump.abort();
        }
    }
}

fn buffer_size<W: Watched>(entry: &W::Entry) -> usize {
    usize::try_from(W::buffer_size(entry))
        .unwrap_or(usize::MAX)
        .max(1)
}

impl<W: Watched> EntryTap<W> {
    fn attach(
        entry: W::Entry,
        successes: bool,
        runtime: Option<&tokio::runtime::Handle>,
    ) -> Arc<Self> {
        let capacity = buffer_size::<W>(&entry);
        let receiver = W::subscribe(&entry, QUEUE_CAPACITY, successes);
        let tap = Arc::new(EntryTap {
            entry,
            state: Mutex::new(TapState {
                receiver,
                events: VecDeque::with_capacity(capacity.min(1024)),
                capacity,
            }),
            pump: Mutex::new(None),
        });
        if let Some(runtime) = runtime {
            let task = runtime.spawn(pump::<W>(Arc::downgrade(&tap)));
            *tap.pump.lock() = Some(task.abort_handle());
        }
        tap
    }

    /// The buffered events, oldest first, as many as the entry's config keeps now.
    pub(crate) fn events(&self) -> Vec<W::Event> {
        let capacity = buffer_size::<W>(&self.entry);
        let mut state = self.state.lock();
        state.capacity = capacity;
        state.drain();
        let excess = state.events.len().saturating_sub(capacity);
        state.events.drain(..excess);
        state.events.iter().cloned().collect()
    }

    /// Events the subscription dropped.
    pub(crate) fn dropped(&self) -> u64 {
        let mut state = self.state.lock();
        state.drain();
        W::dropped(&state.receiver)
    }
}

/// Moves `tap`'s events in as they come; ends when the tap or the entry is gone.
async fn pump<W: Watched>(tap: Weak<EntryTap<W>>) {
    poll_fn(|cx| {
        let Some(tap) = tap.upgrade() else {
            return Poll::Ready(());
        };
        let mut state = tap.state.lock();
        loop {
            match W::poll_recv(&mut state.receiver, cx) {
                Poll::Ready(Some(event)) => state.apply(event),
                Poll::Ready(None) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        }
    })
    .await;
}

/// The monitor's taps on every entry of one kind.
pub(crate) struct Watch<W: Watched> {
    registry: Registry,
    successes: bool,
    runtime: Option<tokio::runtime::Handle>,
    taps: RwLock<BTreeMap<String, Arc<EntryTap<W>>>>,
}

impl<W: Watched> Watch<W> {
    /// Taps every entry of `registry` now (later ones come through [`Self::added`]).
    pub(crate) fn new(
        registry: &Registry,
        successes: bool,
        runtime: Option<tokio::runtime::Handle>,
    ) -> Self {
        Watch {
            registry: registry.clone(),
            successes,
            runtime,
            taps: RwLock::new(BTreeMap::new()),
        }
    }

    /// Taps the registry's entries that are not tapped yet (called once the registry's entry
    /// hook is in place, so that none is missed).
    pub(crate) fn start(&self) {
        for entry in W::entries(&self.registry) {
            self.attach(entry);
        }
    }

    /// The registry's entry hook: taps `entry` if it is of this kind.
    pub(crate) fn added(&self, entry: &dyn Any) {
        if let Some(entry) = W::downcast(entry) {
            self.attach(entry.clone());
        }
    }

    /// Taps `entry` unless it is tapped already (a new entry of the same name, one that
    /// replaced it, gets a tap of its own); returns its tap.
    fn attach(&self, entry: W::Entry) -> Arc<EntryTap<W>> {
        let name = W::name(&entry).to_owned();
        if let Some(tap) = self
            .taps
            .read()
            .get(&name)
            .filter(|t| W::same(&t.entry, &entry))
        {
            return tap.clone();
        }
        let mut taps = self.taps.write();
        // Checked again under the write lock: two readers may race to tap a new entry.
        if let Some(tap) = taps.get(&name).filter(|t| W::same(&t.entry, &entry)) {
            return tap.clone();
        }
        let tap = EntryTap::attach(entry, self.successes, self.runtime.as_ref());
        taps.insert(name, tap.clone());
        tap
    }

    /// The taps of the registry's current entries, sorted by name (taps of entries removed or
    /// replaced since are dropped, entries not tapped yet are tapped).
    pub(crate) fn taps(&self) -> Vec<Arc<EntryTap<W>>> {
        let current = W::entries(&self.registry);
        let matches = |entries: &[W::Entry], tap: &EntryTap<W>| {
            entries.iter().any(|e| W::same(e, &tap.entry))
        };
        let candidates: Vec<Arc<EntryTap<W>>> = self
            .taps
            .read()
            .values()
            .filter(|t| !matches(&current, t))
            .cloned()
            .collect();
        if !candidates.is_empty() {
            // A second listing: an entry created after the first one is not stale.
            let now = W::entries(&self.registry);
            let stale: Vec<_> = candidates
                .into_iter()
                .filter(|t| !matches(&now, t))
                .collect();
            // Only the very taps judged stale: the hook may have tapped a newer entry since.
            self.taps
                .write()
                .retain(|_, tap| !stale.iter().any(|s| Arc::ptr_eq(s, tap)));
        }
        current
            .into_iter()
            .map(|entry| self.attach(entry))
            .collect()
    }

    /// The list endpoint's body: every entry's name, sorted.
    pub(crate) fn names(&self) -> W::ListResponse {
        W::entries(&self.registry)
            .iter()
            .map(|e| W::name(e).to_owned())
            .collect::<Vec<_>>()
            .into()
    }

    /// Every entry's buffered events, sorted by creation time (Resilience4j's `/xevents`).
    pub(crate) fn events(&self) -> W::EventsResponse {
        let mut events: Vec<W::Event> = self.taps().iter().flat_map(|t| t.events()).collect();
        events.sort_by_key(|e| W::created_at(e));
        events.iter().map(W::dto).collect::<Vec<_>>().into()
    }

    /// One entry's buffered events in buffer order, optionally of one type (any case).
    pub(crate) fn events_of(
        &self,
        name: &str,
        event_type: Option<&str>,
    ) -> Result<W::EventsResponse, EntryEventsError> {
        let filter = match event_type {
            None => None,
            Some(given) => {
                let upper = given.to_ascii_uppercase();
                let Some(known) = W::EVENT_TYPES.iter().find(|t| **t == upper) else {
                    return Err(EntryEventsError::UnknownEventType {
                        kind: W::KIND,
                        given: given.to_owned(),
                        valid: W::EVENT_TYPES,
                    });
                };
                Some(*known)
            }
        };
        let tap = self
            .taps()
            .into_iter()
            .find(|t| W::name(&t.entry) == name)
            .ok_or_else(|| EntryEventsError::UnknownEntry {
                kind: W::KIND,
                name: name.to_owned(),
            })?;
        Ok(tap
            .events()
            .iter()
            .filter(|e| filter.is_none_or(|t| W::event_type(e) == t))
            .map(W::dto)
            .collect::<Vec<_>>()
            .into())
    }

    /// Every entry's series.
    pub(crate) fn families(&self, f: &mut Families) {
        for tap in self.taps() {
            W::families(f, &tap.entry, tap.dropped());
        }
    }
}
