//! `Registry::watch_file`: live reload of a config file on real files (feature `watch`).
//!
//! Every wait polls for the expected effect with a deadline; nothing asserts after a fixed
//! sleep.
#![cfg(feature = "watch")]

use fusebox_runtime::{CircuitBreaker, ConfigWatcher, EventKind, Registry, ReloadStats, State};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Short enough to keep the tests quick, long enough to merge the steps of one write.
const DEBOUNCE: Duration = Duration::from_millis(50);
const DEADLINE: Duration = Duration::from_secs(10);

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("fusebox-watch-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Everything logged in this test binary, from every thread (the watcher logs from its own),
/// in lines that contain every needle.
#[cfg(feature = "telemetry")]
fn logged_lines_with(needles: &[&str]) -> Vec<String> {
    use std::sync::{Mutex, OnceLock};
    #[derive(Clone)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    static LOGS: OnceLock<Sink> = OnceLock::new();
    let sink = LOGS.get_or_init(|| {
        let sink = Sink(Arc::default());
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        sink
    });
    String::from_utf8_lossy(&sink.0.lock().unwrap())
        .lines()
        .filter(|line| needles.iter().all(|n| line.contains(n)))
        .map(str::to_owned)
        .collect()
}

fn watch(registry: &Registry, path: &Path) -> ConfigWatcher {
    ConfigWatcher::builder()
        .debounce(DEBOUNCE)
        .watch(registry, path)
        .unwrap()
}

/// Polls `done` until it holds, failing with `what` after [`DEADLINE`].
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn wait_for_stats(watcher: &ConfigWatcher, what: &str, done: impl Fn(&ReloadStats) -> bool) {
    wait_for(what, || done(&watcher.stats()));
}

/// Writes `text` to `path` as editors that save atomically do: a temporary file in the same
/// directory, renamed over the target.
fn save_atomically(path: &Path, text: &str) {
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn an_edit_reconfigures_the_changed_breaker_and_keeps_the_others_state() {
    let dir = TempDir::new("edit");
    let path = dir.join("fusebox.toml");
    let file = |orders_threshold: u32| {
        format!(
            "[instances.orders]\nfailure_rate_threshold = {orders_threshold}\n\
             [instances.users]\nsliding_window_size = 4\n"
        )
    };
    std::fs::write(&path, file(50)).unwrap();
    let registry = Registry::from_file(&path).unwrap();
    let orders = registry.circuit_breaker("orders");
    let users = registry.circuit_breaker("users");
    users.transition_to_open_state().unwrap();
    let watcher = watch(&registry, &path);
    assert_eq!(watcher.stats(), ReloadStats::default());

    // Another file in the directory, even an invalid one, is not a change of the config.
    std::fs::write(dir.join("other.toml"), "not = [valid").unwrap();
    std::fs::write(&path, file(25)).unwrap();
    wait_for_stats(&watcher, "the reload", |s| s.applied() == 1);
    assert_eq!(orders.config().failure_rate_threshold(), 25.0);
    let stats = watcher.stats();
    assert_eq!((stats.applied(), stats.rejected()), (1, 0), "{stats:?}");
    assert!(stats.last_error().is_none());
    assert_eq!(
        users.state(),
        State::Open,
        "an unchanged breaker keeps its state"
    );
    assert!(registry.circuit_breaker("users").ptr_eq(&users));
    assert!(
        registry.circuit_breaker("orders").ptr_eq(&orders),
        "reconfigured in place"
    );
}

#[test]
fn an_invalid_file_keeps_the_running_config_and_is_counted_then_the_fix_applies() {
    let dir = TempDir::new("invalid");
    let path = dir.join("fusebox.toml");
    std::fs::write(&path, "[instances.orders]\nsliding_window_size = 4\n").unwrap();
    let registry = Registry::from_file(&path).unwrap();
    let orders = registry.circuit_breaker("orders");
    orders.transition_to_open_state().unwrap();
    #[cfg(feature = "telemetry")]
    logged_lines_with(&[]); // capture from now on
    let watcher = watch(&registry, &path);

    std::fs::write(&path, "[instances.orders]\nsliding_window_size = 0\n").unwrap();
    wait_for_stats(&watcher, "the rejection", |s| s.rejected() == 1);
    let stats = watcher.stats();
    assert_eq!(stats.applied(), 0);
    let error = stats
        .last_error()
        .expect("the rejection's error")
        .to_string();
    assert!(
        error.contains(&*path.to_string_lossy())
            && error.contains("instances.orders.sliding_window_size = 0"),
        "names the file and the key: {error}"
    );
    assert_eq!(
        orders.config().sliding_window_size(),
        4,
        "running config kept"
    );
    #[cfg(feature = "telemetry")]
    {
        let file = path.display().to_string();
        let warned = logged_lines_with(&["WARN", "config file rejected", &file, &error]);
        assert_eq!(warned.len(), 1, "logged once, with the file and the error");
    }
    assert_eq!(orders.state(), State::Open, "state kept");

    // Not even valid TOML: rejected too, with the parser's position.
    std::fs::write(&path, "[instances.orders\n").unwrap();
    wait_for_stats(&watcher, "the second rejection", |s| s.rejected() == 2);
    let error = watcher.stats().last_error().unwrap().to_string();
    assert!(
        error.starts_with(&format!("{}:1:", path.display())),
        "{error}"
    );

    std::fs::write(&path, "[instances.orders]\nsliding_window_size = 6\n").unwrap();
    wait_for_stats(&watcher, "the fix", |s| s.applied() == 1);
    assert_eq!(orders.config().sliding_window_size(), 6);
    let stats = watcher.stats();
    assert_eq!((stats.applied(), stats.rejected()), (1, 2), "{stats:?}");
    assert!(
        stats.last_error().is_none(),
        "cleared by the applied reload"
    );
    assert_eq!(
        orders.state(),
        State::Closed,
        "a changed breaker starts over"
    );
    #[cfg(feature = "telemetry")]
    {
        let file = path.display().to_string();
        let applied = logged_lines_with(&["INFO", "config file reloaded", &file, "[\"orders\"]"]);
        assert_eq!(applied.len(), 1, "the reload is logged with what changed");
    }
}

#[test]
fn an_atomic_rename_save_is_picked_up_every_time() {
    let dir = TempDir::new("rename");
    let path = dir.join("fusebox.toml");
    std::fs::write(&path, "[instances.orders]\nsliding_window_size = 2\n").unwrap();
    let registry = Registry::from_file(&path).unwrap();
    let orders = registry.circuit_breaker("orders");
    let watcher = watch(&registry, &path);

    // A watch on the file's inode would go deaf after the first rename: do three.
    for (saves, size) in (1..=3).zip(3..) {
        save_atomically(
            &path,
            &format!("[instances.orders]\nsliding_window_size = {size}\n"),
        );
        wait_for_stats(&watcher, "the renamed file", |s| s.applied() == saves);
        assert_eq!(orders.config().sliding_window_size(), size);
    }
}

/// Kubernetes mounts a ConfigMap as `app.toml -> ..data/app.toml` and updates it by pointing
/// the `..data` link at a new directory: the config file itself is never written.
#[cfg(unix)]
#[test]
fn a_symlinked_file_follows_a_configmap_style_swap() {
    use std::os::unix::fs::symlink;
    let dir = TempDir::new("configmap");
    let version = |n: u32, size: u32| {
        let versioned = dir.join(&format!("..v{n}"));
        std::fs::create_dir(&versioned).unwrap();
        std::fs::write(
            versioned.join("fusebox.toml"),
            format!("[instances.orders]\nsliding_window_size = {size}\n"),
        )
        .unwrap();
        symlink(format!("..v{n}"), dir.join("..data_tmp")).unwrap();
        std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    };
    version(1, 2);
    let path = dir.join("fusebox.toml");
    symlink("..data/fusebox.toml", &path).unwrap();
    let registry = Registry::from_file(&path).unwrap();
    let orders = registry.circuit_breaker("orders");
    let watcher = watch(&registry, &path);

    version(2, 7);
    wait_for_stats(&watcher, "the swapped ConfigMap", |s| s.applied() == 1);
    assert_eq!(orders.config().sliding_window_size(), 7);
    std::fs::remove_dir_all(dir.join("..v1")).unwrap();
    version(3, 8);
    wait_for_stats(&watcher, "the second swap", |s| s.applied() == 2);
    assert_eq!(orders.config().sliding_window_size(), 8);
}

#[test]
fn dropping_the_watcher_stops_reloads() {
    let dir = TempDir::new("drop");
    let path = dir.join("fusebox.toml");
    std::fs::write(&path, "[instances.orders]\nsliding_window_size = 2\n").unwrap();
    let dropped = Registry::from_file(&path).unwrap();
    let witness = Registry::from_file(&path).unwrap();
    let watcher = watch(&dropped, &path);
    let witness_watcher = watch(&witness, &path);

    std::fs::write(&path, "[instances.orders]\nsliding_window_size = 3\n").unwrap();
    wait_for("both watchers", || {
        watcher.stats().applied() == 1 && witness_watcher.stats().applied() == 1
    });
    assert_eq!(size_of_orders(&dropped), 3);
    assert_eq!(size_of_orders(&witness), 3);

    drop(watcher);
    std::fs::write(&path, "[instances.orders]\nsliding_window_size = 4\n").unwrap();
    // The witness, with the same debounce, sees the change; the dropped one must not.
    wait_for_stats(&witness_watcher, "the witness", |s| s.applied() == 2);
    assert_eq!(size_of_orders(&witness), 4);
    assert_eq!(size_of_orders(&dropped), 3, "no reload after drop");
}

fn size_of_orders(registry: &Registry) -> u32 {
    registry
        .circuit_breaker("orders")
        .config()
        .sliding_window_size()
}

#[test]
fn watching_needs_a_readable_valid_file() {
    let dir = TempDir::new("start");
    let registry = Registry::new();
    let missing = dir.join("missing.toml");
    let error = registry.watch_file(&missing).unwrap_err().to_string();
    assert!(
        error.contains(&*missing.to_string_lossy()) && error.contains("cannot read config"),
        "{error}"
    );

    let path = dir.join("fusebox.toml");
    std::fs::write(&path, "[instances.orders]\nfailure_rate_threshold = 150\n").unwrap();
    let error = registry.watch_file(&path).unwrap_err().to_string();
    assert!(error.contains("must be in (0, 100]"), "{error}");
    assert!(registry.find("orders").is_none(), "nothing applied");

    // A valid file is applied before `watch_file` returns.
    std::fs::write(&path, "[instances.orders]\nfailure_rate_threshold = 20\n").unwrap();
    let watcher = registry.watch_file(&path).unwrap();
    assert_eq!(
        registry
            .find("orders")
            .unwrap()
            .config()
            .failure_rate_threshold(),
        20.0
    );
    assert_eq!(watcher.path(), path);
    assert_eq!(watcher.debounce(), fusebox_runtime::DEFAULT_DEBOUNCE);
    fn send_sync<T: Send + Sync>(_: &T) {}
    send_sync(&watcher);
}

/// Several threads call two breakers while the file is rewritten 20 times:
/// * `steady`'s config never changes, so it keeps its window: every outcome recorded by every
///   permitted call is in its metrics (a window larger than all calls, a minimum it never
///   reaches, so it never trips);
/// * `moving`'s two thresholds change together in every rewrite and it is reconfigured each
///   time: every permitted call's outcome still reaches it (counted through its events), and a
///   checker never sees one threshold changed without the other.
#[test]
fn reloads_under_concurrent_calls_lose_no_call_and_never_show_half_a_config() {
    const REWRITES: u32 = 20;
    const CALLERS: usize = 3;
    /// Callers pause 1 ms every 200 calls, so this is never reached in practice (it would take
    /// 10 s); it bounds `steady`'s window.
    const MAX_CALLS_PER_CALLER: u64 = 2_000_000;
    const WINDOW: u64 = CALLERS as u64 * MAX_CALLS_PER_CALLER;

    let dir = TempDir::new("concurrent");
    let path = dir.join("fusebox.toml");
    let file = |i: u32| {
        format!(
            "[instances.steady]\nsliding_window_size = {WINDOW}\nminimum_number_of_calls = {WINDOW}\n\
             [instances.moving]\nsliding_window_size = 1000\n\
             failure_rate_threshold = {t}\nslow_call_rate_threshold = {t}\n",
            t = 50 + i
        )
    };
    std::fs::write(&path, file(0)).unwrap();
    let registry = Registry::from_file(&path).unwrap();
    let steady = registry.circuit_breaker("steady");
    let moving = registry.circuit_breaker("moving");
    let watcher = watch(&registry, &path);

    let stop = Arc::new(AtomicBool::new(false));
    let callers_done = Arc::new(AtomicBool::new(false));
    // Drains `moving`'s events as they come, so its queue never fills.
    let drainer = {
        let mut events = moving.subscribe_with_capacity(1 << 20);
        let stop = callers_done.clone();
        std::thread::spawn(move || {
            let mut kinds = Vec::new();
            loop {
                let done = stop.load(Ordering::Acquire);
                kinds.extend(events.drain().into_iter().map(|e| e.kind));
                if done {
                    return (kinds, events.dropped());
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let callers: Vec<_> = (0..CALLERS)
        .map(|t| {
            let (steady, moving, stop) = (steady.clone(), moving.clone(), stop.clone());
            std::thread::spawn(move || caller(t, &steady, &moving, &stop, MAX_CALLS_PER_CALLER))
        })
        .collect();
    let checker = {
        let (moving, stop) = (moving.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut seen = std::collections::BTreeSet::new();
            while !stop.load(Ordering::Relaxed) {
                let c = moving.config();
                assert_eq!(
                    c.failure_rate_threshold(),
                    c.slow_call_rate_threshold(),
                    "half-applied config"
                );
                seen.insert(c.failure_rate_threshold() as u32);
                std::thread::yield_now();
            }
            seen.len()
        })
    };

    let mut slowest_reload = Duration::ZERO;
    for i in 1..=REWRITES {
        let started = Instant::now();
        if i.is_multiple_of(2) {
            save_atomically(&path, &file(i));
        } else {
            std::fs::write(&path, file(i)).unwrap();
        }
        wait_for_stats(&watcher, "the rewrite", |s| s.applied() == u64::from(i));
        slowest_reload = slowest_reload.max(started.elapsed());
    }
    stop.store(true, Ordering::Release);
    let totals: Vec<Totals> = callers.into_iter().map(|c| c.join().unwrap()).collect();
    // Every outcome is recorded and its event published before the drainer's last look.
    callers_done.store(true, Ordering::Release);
    let thresholds_seen = checker.join().unwrap();
    let (kinds, dropped) = drainer.join().unwrap();

    let sum = |f: fn(&Totals) -> u64| totals.iter().map(f).sum::<u64>();
    let (steady_calls, steady_failed) = (sum(|t| t.steady_calls), sum(|t| t.steady_failed));
    let moving_calls = sum(|t| t.moving_calls);
    let slowest_call = totals.iter().map(|t| t.slowest_call).max().unwrap();
    eprintln!(
        "{REWRITES} reloads under {CALLERS} callers: {steady_calls} calls on steady, \
         {moving_calls} on moving; slowest call {slowest_call:?}, slowest write-to-applied \
         {slowest_reload:?} (debounce {DEBOUNCE:?}); checker saw {thresholds_seen} configs"
    );

    let stats = watcher.stats();
    assert_eq!(
        (stats.applied(), stats.rejected()),
        (u64::from(REWRITES), 0)
    );
    assert!(totals.iter().all(|t| t.steady_calls < MAX_CALLS_PER_CALLER));

    let m = steady.metrics();
    assert_eq!(m.state(), State::Closed);
    assert_eq!(
        u64::from(m.number_of_buffered_calls()),
        steady_calls,
        "lost calls"
    );
    assert_eq!(u64::from(m.number_of_failed_calls()), steady_failed);

    assert_eq!(dropped, 0);
    let is_outcome =
        |k: &EventKind| matches!(k, EventKind::Success { .. } | EventKind::Error { .. });
    let outcomes = kinds.iter().filter(|k| is_outcome(k)).count() as u64;
    assert_eq!(
        outcomes, moving_calls,
        "every permitted call's outcome reached `moving`"
    );
    let resets = kinds.iter().filter(|k| **k == EventKind::Reset).count();
    assert_eq!(resets, REWRITES as usize, "one reconfiguration per rewrite");
    // The calls really ran across the reloads: most configs got calls.
    let busy_configs = kinds
        .split(|k| *k == EventKind::Reset)
        .filter(|between| between.iter().any(is_outcome))
        .count();
    assert!(
        busy_configs > REWRITES as usize / 2,
        "{busy_configs} configs had calls"
    );
    assert_eq!(
        moving.config().failure_rate_threshold(),
        (50 + REWRITES) as f32
    );
    assert!(thresholds_seen >= 2, "the checker saw the config change");
}

#[derive(Default)]
struct Totals {
    steady_calls: u64,
    steady_failed: u64,
    moving_calls: u64,
    slowest_call: Duration,
}

/// Calls both breakers until told to stop, one call in ten failing, pausing 1 ms every 200
/// calls. Counts permitted calls.
fn caller(
    thread: usize,
    steady: &CircuitBreaker,
    moving: &CircuitBreaker,
    stop: &AtomicBool,
    max_calls: u64,
) -> Totals {
    let mut totals = Totals::default();
    let mut n = thread as u64;
    while !stop.load(Ordering::Acquire) && totals.steady_calls < max_calls {
        let started = Instant::now();
        let fail = n.is_multiple_of(10);
        if let Ok(permit) = steady.try_acquire() {
            totals.steady_calls += 1;
            totals.steady_failed += u64::from(fail);
            if fail {
                permit.on_error()
            } else {
                permit.on_success()
            }
        }
        if let Ok(permit) = moving.try_acquire() {
            totals.moving_calls += 1;
            if fail {
                permit.on_error()
            } else {
                permit.on_success()
            }
        }
        totals.slowest_call = totals.slowest_call.max(started.elapsed());
        n += 1;
        if n.is_multiple_of(200) {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    totals
}
