//! [`ConfigWatcher`]: live reload of a registry's config file (feature `watch`).
//!
//! A watcher applies every change of one config file with
//! [`Registry::reload_from_file`]'s rules: an invalid file changes nothing (the error is logged
//! and counted), breakers whose resolved config is unchanged keep their state and metrics, and
//! changed ones are [reconfigured](crate::CircuitBreaker::reconfigure) in place.
//!
//! How it watches:
//!
//! * The file's **directory** is watched (non-recursively, with [`notify`]) and events are
//!   filtered by file name: a watch on the file itself would follow its inode and go deaf after
//!   the first atomic-rename save (write a temporary file, rename it over the config), which is
//!   how most editors and deployment tools write. If the file is a symlink when watching starts
//!   (a Kubernetes ConfigMap mount: `app.toml -> ..data/app.toml`, updated by swapping the
//!   `..data` link), every change in the directory counts instead.
//! * **Debounced**, trailing edge: the file is read once it has been quiet for the debounce
//!   interval ([`DEFAULT_DEBOUNCE`]), so the several writes of one save make one reload.
//! * A reload happens only if the file's bytes differ from the last ones tried, so a `touch`, a
//!   save without changes or unrelated churn in the directory changes nothing and counts
//!   nothing.
//! * One background thread (`fusebox-config-watch`) does the reading, parsing and applying; no
//!   async runtime is needed. Calls on breakers never wait for the file or the parser: a
//!   changed breaker takes its own lock (the one a recorded outcome takes) only to swap in its
//!   new config and a fresh window, which takes about a microsecond for a window of a thousand
//!   calls.
//!
//! Why not `notify-debouncer-mini` or `-full`: mini debounces per path (so temporary files and
//! the config file are debounced apart and the name filter would run after it), emits
//! "continuous" events in the middle of long writes, and pulls `tempfile` into users' builds;
//! full adds rename stitching and a file-id cache, which watching a directory by name does not
//! need. The debounce here is one `recv_timeout` loop on the thread that applies the reload.

use crate::config::{ConfigError, ConfigErrorKind};
use crate::registry::Registry;
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use parking_lot::Mutex;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a config file must stay quiet before a watcher reads it, unless
/// [`ConfigWatcherBuilder::debounce`] says otherwise.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(250);

/// Watches a registry's config file and applies its changes in place, until dropped.
///
/// Get one from [`Registry::watch_file`] or [`ConfigWatcher::builder`]. Dropping it stops
/// watching: once `drop` returns, no further reload happens (a reload under way is finished
/// first, which takes at most a few milliseconds).
///
/// ```no_run
/// use fusebox_runtime::Registry;
///
/// let registry = Registry::from_file("fusebox.toml")?;
/// let watcher = registry.watch_file("fusebox.toml")?; // keep it alive
/// // ... later, e.g. in a health check:
/// let stats = watcher.stats();
/// if let Some(error) = stats.last_error() {
///     eprintln!("config file rejected ({} so far): {error}", stats.rejected());
/// }
/// # Ok::<(), fusebox_runtime::ConfigError>(())
/// ```
#[must_use = "dropping the ConfigWatcher stops watching"]
pub struct ConfigWatcher {
    shared: Arc<Shared>,
    debounce: Duration,
    /// Tells the worker to stop (the notify watcher holds another sender).
    stop: Sender<Message>,
    worker: Option<JoinHandle<()>>,
    /// Kept for its drop, which removes the OS watch.
    _watcher: RecommendedWatcher,
}

/// Builds a [`ConfigWatcher`] with a chosen debounce interval.
///
/// ```no_run
/// use fusebox_runtime::{ConfigWatcher, Registry};
/// use std::time::Duration;
///
/// let registry = Registry::from_file("fusebox.toml")?;
/// let watcher = ConfigWatcher::builder()
///     .debounce(Duration::from_millis(100))
///     .watch(&registry, "fusebox.toml")?;
/// # Ok::<(), fusebox_runtime::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ConfigWatcherBuilder {
    debounce: Duration,
}

/// What a [`ConfigWatcher`] has done since it started: a consistent snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReloadStats {
    applied: u64,
    rejected: u64,
    last_error: Option<ConfigError>,
}

impl ReloadStats {
    /// Changes of the file that were applied.
    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// Changes of the file that were rejected (invalid or unreadable); each left the running
    /// config in place.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// Why the latest change was rejected; `None` if it was applied (or nothing changed yet).
    /// Its text names the file (and line, column and key where it has them).
    pub fn last_error(&self) -> Option<&ConfigError> {
        self.last_error.as_ref()
    }
}

/// State shared by the handle and the worker thread.
struct Shared {
    /// The config file, absolute.
    path: PathBuf,
    stats: Mutex<ReloadStats>,
}

enum Message {
    Fs(notify::Result<Event>),
    Stop,
}

/// Which directory events concern the config file.
struct Filter {
    dir: PathBuf,
    /// The file's name; `None` when every entry of the directory counts (symlinked file).
    name: Option<OsString>,
}

impl Filter {
    fn concerns(&self, event: &notify::Result<Event>) -> bool {
        match event {
            Err(e) => {
                // Events may have been lost: look at the file again.
                tracing::warn!(dir = %self.dir.display(), error = %e, "fusebox: config watch error; re-reading the config file");
                true
            }
            // Opening and reading (including the watcher's own reads) changes nothing.
            Ok(event) if matches!(event.kind, EventKind::Access(_)) => false,
            Ok(event) if event.need_rescan() => true,
            Ok(event) => match &self.name {
                None => true,
                Some(name) => event
                    .paths
                    .iter()
                    .any(|p| p.file_name() == Some(name.as_os_str())),
            },
        }
    }
}

impl ConfigWatcherBuilder {
    /// How long the file must stay quiet before it is read (default [`DEFAULT_DEBOUNCE`]).
    /// Editors write a file in several steps; a reload in the middle would see a partial file
    /// and reject it. Zero reloads on the first event.
    pub fn debounce(mut self, interval: Duration) -> Self {
        self.debounce = interval;
        self
    }

    /// Starts watching `path` for `registry`.
    ///
    /// The file is applied once right away (as [`Registry::reload_from_file`] does), so the
    /// registry reflects it when this returns, however it was built. An unreadable or invalid
    /// file, or a directory that cannot be watched, is an error and nothing is watched.
    pub fn watch(
        self,
        registry: &Registry,
        path: impl AsRef<Path>,
    ) -> Result<ConfigWatcher, ConfigError> {
        let given = path.as_ref();
        let path = std::path::absolute(given).map_err(|e| io_error(given, e.to_string()))?;
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(io_error(&path, "the path does not name a file".into()));
        };
        let symlinked = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
        let filter = Filter {
            dir: dir.to_owned(),
            name: (!symlinked).then(|| name.to_owned()),
        };

        // Watch before the first read, so a change made in between is not missed.
        let (tx, rx) = mpsc::channel();
        let events = tx.clone();
        let mut watcher = notify::recommended_watcher(move |event| {
            // Fails only once the worker is gone, i.e. while stopping.
            let _ = events.send(Message::Fs(event));
        })
        .map_err(|e| io_error(&path, format!("cannot watch: {e}")))?;
        watcher
            .watch(dir, RecursiveMode::NonRecursive)
            .map_err(|e| io_error(&path, format!("cannot watch {}: {e}", dir.display())))?;

        let seen = std::fs::read(&path).ok();
        registry.reload_from_file(&path)?;

        let shared = Arc::new(Shared {
            path,
            stats: Mutex::new(ReloadStats::default()),
        });
        let worker = Worker {
            shared: shared.clone(),
            registry: registry.clone(),
            filter,
            debounce: self.debounce,
            seen,
        };
        let worker = std::thread::Builder::new()
            .name("fusebox-config-watch".into())
            .spawn(move || worker.run(rx))
            .map_err(|e| io_error(&shared.path, format!("cannot start the watch thread: {e}")))?;
        Ok(ConfigWatcher {
            shared,
            debounce: self.debounce,
            stop: tx,
            worker: Some(worker),
            _watcher: watcher,
        })
    }
}

fn io_error(path: &Path, message: String) -> ConfigError {
    ConfigError::new("", ConfigErrorKind::Io { message }).in_file(path)
}

impl ConfigWatcher {
    /// A builder, to choose the debounce interval.
    pub fn builder() -> ConfigWatcherBuilder {
        ConfigWatcherBuilder {
            debounce: DEFAULT_DEBOUNCE,
        }
    }

    /// The watched file (made absolute).
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// The debounce interval.
    pub fn debounce(&self) -> Duration {
        self.debounce
    }

    /// Reloads applied and rejected so far, and the latest rejection's error.
    pub fn stats(&self) -> ReloadStats {
        self.shared.stats.lock().clone()
    }
}

impl fmt::Debug for ConfigWatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigWatcher")
            .field("path", &self.shared.path)
            .field("debounce", &self.debounce)
            .field("stats", &*self.shared.stats.lock())
            .finish()
    }
}

impl Drop for ConfigWatcher {
    fn drop(&mut self) {
        // The worker is waiting for events or finishing a reload; either way it reads `Stop`
        // next and returns. Joining makes "dropped" mean "no more reloads".
        let _ = self.stop.send(Message::Stop);
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// The watch thread: waits for an event that concerns the file, lets the file go quiet, then
/// reloads it if its bytes changed.
struct Worker {
    shared: Arc<Shared>,
    registry: Registry,
    filter: Filter,
    debounce: Duration,
    /// The bytes last tried (applied or rejected); `None` if the file could not be read.
    seen: Option<Vec<u8>>,
}

impl Worker {
    fn run(mut self, rx: Receiver<Message>) {
        loop {
            loop {
                match rx.recv() {
                    Ok(Message::Fs(event)) if self.filter.concerns(&event) => break,
                    Ok(Message::Fs(_)) => {}
                    Ok(Message::Stop) | Err(_) => return,
                }
            }
            let mut quiet_at = Instant::now() + self.debounce;
            loop {
                match rx.recv_timeout(quiet_at.saturating_duration_since(Instant::now())) {
                    Ok(Message::Fs(event)) => {
                        if self.filter.concerns(&event) {
                            quiet_at = Instant::now() + self.debounce;
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => break,
                    Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                }
            }
            self.reload_if_changed();
        }
    }

    fn reload_if_changed(&mut self) {
        let path = &self.shared.path;
        let bytes = std::fs::read(path).ok();
        if bytes.is_some() && bytes == self.seen {
            return;
        }
        self.seen = bytes;
        // Parsing happens here, on this thread, before any breaker is touched.
        let result = self.registry.reload_from_file(path);
        // Logged before it is counted: whoever sees the count can find the log line.
        match &result {
            Ok(changed) => {
                tracing::info!(file = %path.display(), changed = ?changed, "fusebox: config file reloaded");
            }
            Err(error) => {
                tracing::warn!(file = %path.display(), error = %error, "fusebox: config file rejected; the running config stays");
            }
        }
        let mut stats = self.shared.stats.lock();
        match result {
            Ok(_) => {
                stats.applied += 1;
                stats.last_error = None;
            }
            Err(error) => {
                stats.rejected += 1;
                stats.last_error = Some(error);
            }
        }
    }
}
