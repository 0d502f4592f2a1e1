import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.MaxRetriesExceeded;
import io.github.resilience4j.retry.MaxRetriesExceededException;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.github.resilience4j.retry.event.RetryEvent;
import io.github.resilience4j.retry.event.RetryOnRetryEvent;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.HashSet;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Delayed;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Resilience4j 2.4.0 Retry oracle for fusebox's differential test (tests/retry_parity.rs).
 *
 * <p>Input: JSON-lines retry scenarios, each {@code {"name": ..., "config": {...}, "calls":
 * [["error E1", "ok 1"], ...]}}: one Retry named {@code parity} per scenario, one decorated call per
 * entry of {@code calls}, and per call the outcomes of its attempts in order (the last one repeats
 * if the retry asks for more). Each call runs on Resilience4j's asynchronous retry
 * ({@code Retry.executeCompletionStage}, i.e. {@code AsyncRetryBlock} driving
 * {@code RetryImpl.AsyncContextImpl}) with a {@link Scheduler} that records the wait each retry
 * schedules and runs it at once: waits are observed, never slept.
 *
 * <p>Output (stdout): one JSON line per call with, per attempt, its outcome, the events published
 * while handling it and the wait scheduled after it; then the call's result and the four metrics.
 * See tests/r4j/README.md ("Retry").
 */
public final class RetryHarness {

    // The scenario error classes: E1 and E2 unchecked, E1a a subclass of E1, E3 checked.
    static class E1 extends RuntimeException {
        E1() {
            super("E1", null, false, false);
        }
    }

    static final class E1a extends E1 {
    }

    static final class E2 extends RuntimeException {
        E2() {
            super("E2", null, false, false);
        }
    }

    static final class E3 extends Exception {
        E3() {
            super("E3", null, false, false);
        }
    }

    static Throwable error(String cls) {
        switch (cls) {
            case "E1": return new E1();
            case "E1a": return new E1a();
            case "E2": return new E2();
            case "E3": return new E3();
            default: throw new Harness.HarnessError("unknown error class '" + cls + "'");
        }
    }

    static Class<? extends Throwable> errorClass(String cls) {
        switch (cls) {
            case "E1": return E1.class;
            case "E1a": return E1a.class;
            case "E2": return E2.class;
            case "E3": return E3.class;
            case "RuntimeException": return RuntimeException.class;
            case "Exception": return Exception.class;
            default: throw new Harness.HarnessError("unknown error class '" + cls + "'");
        }
    }

    /**
     * A ScheduledExecutorService that holds the one task a retry schedules (the next attempt) and
     * its delay; the harness runs it at once. Nothing else is supported.
     */
    static final class Scheduler extends AbstractExecutorService implements ScheduledExecutorService {
        Runnable pending;
        long delayMillis;

        @Override
        public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            if (pending != null) {
                throw new Harness.HarnessError("a retry scheduled two tasks at once");
            }
            pending = command;
            delayMillis = unit.toMillis(delay);
            return new ScheduledFuture<Object>() {
                @Override
                public long getDelay(TimeUnit u) {
                    return u.convert(delayMillis, TimeUnit.MILLISECONDS);
                }

                @Override
                public int compareTo(Delayed o) {
                    return Long.compare(getDelay(TimeUnit.MILLISECONDS), o.getDelay(TimeUnit.MILLISECONDS));
                }

                @Override
                public boolean cancel(boolean mayInterruptIfRunning) {
                    return false;
                }

                @Override
                public boolean isCancelled() {
                    return false;
                }

                @Override
                public boolean isDone() {
                    return false;
                }

                @Override
                public Object get() {
                    throw new UnsupportedOperationException("harness scheduler: get");
                }

                @Override
                public Object get(long timeout, TimeUnit u) {
                    throw new UnsupportedOperationException("harness scheduler: get");
                }
            };
        }

        @Override
        public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
            throw new UnsupportedOperationException("harness scheduler: schedule(Callable)");
        }

        @Override
        public ScheduledFuture<?> scheduleAtFixedRate(Runnable c, long i, long p, TimeUnit u) {
            throw new UnsupportedOperationException("harness scheduler: scheduleAtFixedRate");
        }

        @Override
        public ScheduledFuture<?> scheduleWithFixedDelay(Runnable c, long i, long d, TimeUnit u) {
            throw new UnsupportedOperationException("harness scheduler: scheduleWithFixedDelay");
        }

        @Override
        public void execute(Runnable command) {
            command.run();
        }

        @Override
        public void shutdown() {
        }

        @Override
        public List<Runnable> shutdownNow() {
            return List.of();
        }

        @Override
        public boolean isShutdown() {
            return false;
        }

        @Override
        public boolean isTerminated() {
            return false;
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return true;
        }

        @Override
        public <T> List<java.util.concurrent.Future<T>> invokeAll(Collection<? extends Callable<T>> tasks) {
            throw new UnsupportedOperationException("harness scheduler: invokeAll");
        }
    }

    /** Bounds a call whose interval function never stops (a scenario bug, not an observation). */
    static final int MAX_ATTEMPTS_PER_CALL = 1000;

    public static void main(String[] args) throws IOException {
        PrintWriter out = new PrintWriter(new BufferedWriter(
            new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16));
        if (args.length == 0) {
            runAll(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)), "<stdin>", out);
        }
        for (String file : args) {
            try (BufferedReader r = Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
                runAll(r, file, out);
            }
        }
        out.flush();
        if (out.checkError()) {
            System.exit(3);
        }
    }

    static void runAll(BufferedReader r, String file, PrintWriter out) throws IOException {
        String line;
        int lineNo = 0;
        while ((line = r.readLine()) != null) {
            lineNo++;
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("//")) {
                continue;
            }
            Object parsed;
            try {
                parsed = new Harness.Json(t).parseTop();
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(file + ":" + lineNo + ": bad JSON: " + e.getMessage(), e);
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> scenario = (Map<String, Object>) parsed;
            runScenario(scenario, out);
        }
    }

    /** One attempt as observed: its outcome, the events its handling published, the wait after it. */
    static final class Attempt {
        final String outcome;
        final List<Object> events = new ArrayList<>();
        Long wait;

        Attempt(String outcome) {
            this.outcome = outcome;
        }

        Map<String, Object> toJson() {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("outcome", outcome);
            o.put("events", events);
            o.put("wait", wait);
            return o;
        }
    }

    @SuppressWarnings("unchecked")
    static void runScenario(Map<String, Object> scenario, PrintWriter out) {
        String name = (String) scenario.get("name");
        Map<String, Object> config = (Map<String, Object>) scenario.getOrDefault("config", Map.of());
        List<Object> calls = (List<Object>) scenario.getOrDefault("calls", List.of());

        RetryConfig cfg;
        try {
            cfg = buildConfig(config);
        } catch (Harness.HarnessError e) {
            throw e;
        } catch (RuntimeException e) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("scenario", name);
            o.put("call", -1);
            o.put("result", "config_error");
            o.put("message", e.getClass().getSimpleName() + ": " + e.getMessage());
            out.println(Harness.Json.write(o));
            return;
        }
        Retry retry = Retry.of("parity", cfg);
        List<Attempt> attempts = new ArrayList<>();
        retry.getEventPublisher().onEvent(e -> {
            if (attempts.isEmpty()) {
                throw new Harness.HarnessError("event before any attempt in scenario " + name);
            }
            attempts.get(attempts.size() - 1).events.add(describe(e));
        });
        Scheduler scheduler = new Scheduler();

        for (int c = 0; c < calls.size(); c++) {
            List<Object> script = (List<Object>) calls.get(c);
            if (script.isEmpty()) {
                throw new Harness.HarnessError("call " + c + " of scenario " + name + " has no outcomes");
            }
            attempts.clear();
            AtomicInteger next = new AtomicInteger();
            Supplier<CompletionStage<Integer>> supplier = () -> {
                int i = Math.min(next.getAndIncrement(), script.size() - 1);
                String outcome = ((String) script.get(i)).strip();
                attempts.add(new Attempt(outcome));
                return outcome(outcome, name);
            };
            CompletableFuture<Integer> promise =
                retry.executeCompletionStage(scheduler, supplier).toCompletableFuture();
            while (scheduler.pending != null) {
                if (attempts.size() >= MAX_ATTEMPTS_PER_CALL) {
                    throw new Harness.HarnessError("call " + c + " of scenario " + name
                        + " made " + MAX_ATTEMPTS_PER_CALL + " attempts");
                }
                attempts.get(attempts.size() - 1).wait = scheduler.delayMillis;
                Runnable task = scheduler.pending;
                scheduler.pending = null;
                task.run();
            }
            if (!promise.isDone()) {
                throw new Harness.HarnessError("call " + c + " of scenario " + name + " did not complete");
            }

            Map<String, Object> o = new LinkedHashMap<>();
            o.put("scenario", name);
            o.put("call", c);
            List<Object> as = new ArrayList<>();
            for (Attempt a : attempts) {
                as.add(a.toJson());
            }
            o.put("attempts", as);
            try {
                o.put("result", "ok " + promise.join());
            } catch (CompletionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof MaxRetriesExceededException) {
                    o.put("result", "max_retries_exceeded");
                    o.put("message", cause.getMessage());
                } else if (cause instanceof E1 || cause instanceof E2 || cause instanceof E3) {
                    o.put("result", "error " + cause.getClass().getSimpleName());
                } else {
                    o.put("result", "exception:" + cause.getClass().getSimpleName());
                    o.put("message", cause.getMessage());
                }
            }
            Retry.Metrics m = retry.getMetrics();
            Map<String, Object> metrics = new LinkedHashMap<>();
            metrics.put("successfulWithoutRetry", m.getNumberOfSuccessfulCallsWithoutRetryAttempt());
            metrics.put("successfulWithRetry", m.getNumberOfSuccessfulCallsWithRetryAttempt());
            metrics.put("failedWithoutRetry", m.getNumberOfFailedCallsWithoutRetryAttempt());
            metrics.put("failedWithRetry", m.getNumberOfFailedCallsWithRetryAttempt());
            o.put("metrics", metrics);
            // Not compared: fusebox, like Resilience4j's Micrometer binder, does not export it.
            o.put("totalAttempts", m.getNumberOfTotalCalls());
            out.println(Harness.Json.write(o));
        }
    }

    static CompletionStage<Integer> outcome(String outcome, String scenario) {
        String[] parts = outcome.split("\\s+");
        if (parts.length != 2) {
            throw new Harness.HarnessError("bad outcome '" + outcome + "' in scenario " + scenario);
        }
        switch (parts[0]) {
            case "ok":
                return CompletableFuture.completedFuture(Integer.parseInt(parts[1]));
            case "error":
                return CompletableFuture.failedFuture(error(parts[1]));
            default:
                throw new Harness.HarnessError("bad outcome '" + outcome + "' in scenario " + scenario);
        }
    }

    /**
     * {@code TYPE attempt [wait] error}: error is the scenario class,
     * {@code MaxRetriesExceeded(message)} or {@code -}.
     */
    static String describe(RetryEvent e) {
        String type = e.getEventType().name();
        Throwable t = e.getLastThrowable();
        String err;
        if (t == null) {
            err = "-";
        } else if (t instanceof MaxRetriesExceeded) {
            err = "MaxRetriesExceeded(" + t.getMessage() + ")";
        } else {
            err = t.getClass().getSimpleName();
        }
        switch (e.getEventType()) {
            case RETRY:
                return type + " " + e.getNumberOfRetryAttempts() + " "
                    + ((RetryOnRetryEvent) e).getWaitInterval().toMillis() + " " + err;
            case IGNORED_ERROR:
                return type + " " + err;
            default:
                return type + " " + e.getNumberOfRetryAttempts() + " " + err;
        }
    }

    static Set<String> strings(Object v) {
        Set<String> s = new HashSet<>();
        for (Object x : (List<?>) v) {
            s.add((String) x);
        }
        return s;
    }

    @SuppressWarnings("unchecked")
    static RetryConfig buildConfig(Map<String, Object> c) {
        RetryConfig.Builder<Integer> b = RetryConfig.custom();
        for (String k : c.keySet()) {
            switch (k) {
                case "maxAttempts": case "waitDurationMs": case "intervalFunction":
                case "retryExceptions": case "ignoreExceptions": case "retryOnExceptionClasses":
                case "retryOnResult": case "failAfterMaxAttempts":
                    break;
                default:
                    throw new Harness.HarnessError("harness: unknown retry config key '" + k + "'");
            }
        }
        // A fixed order (fusebox's side applies the same): the wait, then the interval function.
        if (c.containsKey("maxAttempts")) {
            b.maxAttempts(Integer.parseInt(Harness.num(c.get("maxAttempts"))));
        }
        if (c.containsKey("waitDurationMs")) {
            b.waitDuration(Duration.ofMillis(Long.parseLong(Harness.num(c.get("waitDurationMs")))));
        }
        if (c.containsKey("intervalFunction")) {
            b.intervalFunction(intervalFunction((Map<String, Object>) c.get("intervalFunction")));
        }
        if (c.containsKey("retryExceptions")) {
            List<Class<? extends Throwable>> l = new ArrayList<>();
            for (String s : strings(c.get("retryExceptions"))) {
                l.add(errorClass(s));
            }
            b.retryExceptions(l.toArray(new Class[0]));
        }
        if (c.containsKey("ignoreExceptions")) {
            List<Class<? extends Throwable>> l = new ArrayList<>();
            for (String s : strings(c.get("ignoreExceptions"))) {
                l.add(errorClass(s));
            }
            b.ignoreExceptions(l.toArray(new Class[0]));
        }
        if (c.containsKey("retryOnExceptionClasses")) {
            // retryOnException: a predicate on the exact class (no subclasses), ORed with retryExceptions
            Set<String> names = strings(c.get("retryOnExceptionClasses"));
            b.retryOnException(t -> names.contains(t.getClass().getSimpleName()));
        }
        if (c.containsKey("retryOnResult")) {
            Set<Integer> values = new HashSet<>();
            for (Object v : (List<Object>) c.get("retryOnResult")) {
                values.add(Integer.parseInt(Harness.num(v)));
            }
            Predicate<Integer> p = values::contains;
            b.retryOnResult(p);
        }
        if (c.containsKey("failAfterMaxAttempts")) {
            b.failAfterMaxAttempts((Boolean) c.get("failAfterMaxAttempts"));
        }
        return b.build();
    }

    static IntervalFunction intervalFunction(Map<String, Object> f) {
        String type = (String) f.get("type");
        switch (type) {
            case "exponential": {
                long initial = Long.parseLong(Harness.num(f.get("initialMs")));
                double multiplier = Double.parseDouble(Harness.num(f.get("multiplier")));
                return f.containsKey("maxMs")
                    ? IntervalFunction.ofExponentialBackoff(initial, multiplier, Long.parseLong(Harness.num(f.get("maxMs"))))
                    : IntervalFunction.ofExponentialBackoff(initial, multiplier);
            }
            case "randomized": {
                long interval = Long.parseLong(Harness.num(f.get("intervalMs")));
                double factor = Double.parseDouble(Harness.num(f.get("factor")));
                return IntervalFunction.ofRandomized(interval, factor);
            }
            case "exponentialRandom": {
                long initial = Long.parseLong(Harness.num(f.get("initialMs")));
                double multiplier = Double.parseDouble(Harness.num(f.get("multiplier")));
                double factor = Double.parseDouble(Harness.num(f.get("factor")));
                return f.containsKey("maxMs")
                    ? IntervalFunction.ofExponentialRandomBackoff(initial, multiplier, factor,
                        Long.parseLong(Harness.num(f.get("maxMs"))))
                    : IntervalFunction.ofExponentialRandomBackoff(initial, multiplier, factor);
            }
            case "custom": {
                // attempt n waits intervals[n-1] ms (the last repeats); a negative one stops retrying
                List<?> l = (List<?>) f.get("intervals");
                long[] waits = new long[l.size()];
                for (int i = 0; i < waits.length; i++) {
                    waits[i] = Long.parseLong(Harness.num(l.get(i)));
                }
                if (waits.length == 0) {
                    throw new Harness.HarnessError("custom interval function without intervals");
                }
                return attempt -> waits[Math.min(attempt, waits.length) - 1];
            }
            default:
                throw new Harness.HarnessError("unknown interval function type '" + type + "'");
        }
    }
}
