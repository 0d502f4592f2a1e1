import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Resilience4j 2.4.0's AtomicRateLimiter on a controlled clock, for fusebox's rate limiter parity
 * test (runtime/tests/rate_limiter_parity.rs). Scenarios are JSON lines:
 * {"name", "config": {"limitForPeriod", "limitRefreshPeriodNs", "timeoutNs"}, "steps": [...]}
 * with steps "acquire N", "reserve N", "drain", "advance NS", "limit N", "timeout NS". One JSON
 * observation per step on stdout: the step's result, the detailed metrics, the clock and the events
 * the step published.
 *
 * The clock is the limiter's own nanoTime supplier (its public constructor takes one). A waiting
 * acquirePermission parks in a loop until the supplier reaches its deadline; the supplier ends that
 * wait without parking: on the third read within an acquire (after the state update and the
 * deadline), it moves the clock forward by the wait the acquire computed (read back from the
 * limiter's stored state by reflection) or by the timeout if that is shorter, which is what
 * fusebox's ManualClock sleeper does.
 */
public final class RateLimiterHarness {

    /** The limiter's nanoTime source. */
    static final class StepClock implements Supplier<Long> {
        long now;
        boolean acquiring;
        int reads;
        long timeout;
        AtomicRateLimiter limiter;

        @Override
        public Long get() {
            if (acquiring && ++reads == 3) {
                long wait = storedNanosToWait(limiter);
                now += timeout >= wait ? wait : timeout;
            }
            return now;
        }
    }

    static long storedNanosToWait(AtomicRateLimiter limiter) {
        try {
            Field stateField = AtomicRateLimiter.class.getDeclaredField("state");
            stateField.setAccessible(true);
            Object state = ((java.util.concurrent.atomic.AtomicReference<?>) stateField.get(limiter)).get();
            Field wait = state.getClass().getDeclaredField("nanosToWait");
            wait.setAccessible(true);
            return wait.getLong(state);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    public static void main(String[] args) throws IOException {
        PrintWriter out = new PrintWriter(new BufferedWriter(
            new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16));
        for (String file : args) {
            try (BufferedReader r = Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
                String line;
                while ((line = r.readLine()) != null) {
                    String t = line.strip();
                    if (t.isEmpty() || t.startsWith("//")) {
                        continue;
                    }
                    @SuppressWarnings("unchecked")
                    Map<String, Object> scenario = (Map<String, Object>) new Harness.Json(t).parseTop();
                    run(scenario, out);
                }
            }
        }
        out.flush();
        if (out.checkError()) {
            System.exit(3);
        }
    }

    static long num(Object v) {
        return Long.parseLong(Harness.num(v));
    }

    @SuppressWarnings("unchecked")
    static void run(Map<String, Object> scenario, PrintWriter out) {
        String name = (String) scenario.get("name");
        Map<String, Object> c = (Map<String, Object>) scenario.getOrDefault("config", Map.of());
        List<Object> steps = (List<Object>) scenario.getOrDefault("steps", List.of());
        RateLimiterConfig.Builder b = RateLimiterConfig.custom();
        if (c.containsKey("limitForPeriod")) {
            b.limitForPeriod((int) num(c.get("limitForPeriod")));
        }
        if (c.containsKey("limitRefreshPeriodNs")) {
            b.limitRefreshPeriod(Duration.ofNanos(num(c.get("limitRefreshPeriodNs"))));
        }
        if (c.containsKey("timeoutNs")) {
            b.timeoutDuration(Duration.ofNanos(num(c.get("timeoutNs"))));
        }
        RateLimiterConfig config = b.build();
        StepClock clock = new StepClock();
        AtomicRateLimiter limiter = new AtomicRateLimiter("parity", config, clock);
        clock.limiter = limiter;
        List<String> events = new ArrayList<>();
        limiter.getEventPublisher().onEvent(e -> events.add(e.getEventType() + ":" + e.getNumberOfPermits()));
        for (int i = 0; i < steps.size(); i++) {
            String[] step = ((String) steps.get(i)).split(" ");
            long arg = step.length > 1 ? Long.parseLong(step[1]) : 0;
            Object result;
            switch (step[0]) {
                case "acquire" -> {
                    clock.acquiring = true;
                    clock.reads = 0;
                    clock.timeout = limiter.getRateLimiterConfig().getTimeoutDuration().toNanos();
                    result = limiter.acquirePermission((int) arg);
                    clock.acquiring = false;
                }
                case "reserve" -> result = limiter.reservePermission((int) arg);
                case "drain" -> {
                    limiter.drainPermissions();
                    result = null;
                }
                case "advance" -> {
                    clock.now += arg;
                    result = null;
                }
                case "limit" -> {
                    limiter.changeLimitForPeriod((int) arg);
                    result = null;
                }
                case "timeout" -> {
                    limiter.changeTimeoutDuration(Duration.ofNanos(arg));
                    result = null;
                }
                default -> throw new IllegalArgumentException(name + ": unknown step " + steps.get(i));
            }
            AtomicRateLimiter.AtomicRateLimiterMetrics m = limiter.getDetailedMetrics();
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("scenario", name);
            o.put("step", i);
            o.put("result", result == null ? "-" : result.toString());
            o.put("available", m.getAvailablePermissions());
            o.put("nanosToWait", m.getNanosToWait());
            o.put("cycle", m.getCycle());
            o.put("waiting", m.getNumberOfWaitingThreads());
            o.put("clock", clock.now);
            o.put("events", String.join(",", events));
            events.clear();
            out.println(Harness.Json.write(o));
        }
    }
}
