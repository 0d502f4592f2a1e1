import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.IllegalStateTransitionException;
import io.github.resilience4j.circuitbreaker.event.CircuitBreakerEvent;
import io.github.resilience4j.circuitbreaker.event.CircuitBreakerOnFailureRateExceededEvent;
import io.github.resilience4j.circuitbreaker.event.CircuitBreakerOnSlowCallRateExceededEvent;
import io.github.resilience4j.circuitbreaker.event.CircuitBreakerOnStateTransitionEvent;
import io.github.resilience4j.circuitbreaker.internal.CircuitBreakerStateMachine;
import io.github.resilience4j.circuitbreaker.internal.SchedulerFactory;
import org.mockito.Mockito;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Resilience4j 2.4.0 oracle for fusebox's differential test (tests/parity.rs).
 *
 * <p>Input: JSON-lines scenario files (one scenario per line, blank lines and lines starting with
 * {@code //} ignored), each {@code {"name": ..., "config": {...}, "steps": ["acquire", "success 10", ...]}}.
 * Output (stdout): one JSON line per step with the result of the step, the state and the nine
 * metrics afterwards, and the events the step emitted. See tests/r4j/README.md for the format.
 *
 * <p>Time: a manual {@link Clock} starting at the Unix epoch, moved only by {@code advance} steps.
 * Call durations are passed explicitly. Resilience4j's scheduler (automatic OPEN to HALF_OPEN,
 * maxWaitDurationInHalfOpenState) is replaced by {@link ManualScheduler}: an {@code advance} runs
 * the tasks that fall due, each at its due time.
 */
public final class Harness {

    /** Mutable clock; all breakers of one scenario share it. */
    static final class ManualClock extends Clock {
        private Instant now = Instant.EPOCH;

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public long millis() {
            return now.toEpochMilli();
        }

        void setMillis(long ms) {
            now = Instant.ofEpochMilli(ms);
        }
    }

    /** A malformed scenario: aborts the run (never reported as an observation). */
    static final class HarnessError extends RuntimeException {
        HarnessError(String message) {
            super(message);
        }
    }

    /** The error of an {@code ignored D} step; every scenario's config ignores it. */
    static final class IgnoredError extends RuntimeException {
        IgnoredError() {
            super("scenario ignored error", null, false, false);
        }
    }

    /** The scenario being run's scheduler; the one mock factory hands it out. */
    static final ManualScheduler[] CURRENT_SCHEDULER = new ManualScheduler[1];
    private static SchedulerFactory schedulerFactory;

    /**
     * Resilience4j's own SchedulerFactory runs timers in real time; a Mockito mock of it (the class
     * has a private constructor) hands out the current scenario's manual scheduler instead
     * (reference section 10, as Resilience4j's CircuitBreakerAutoTransitionStateMachineTest does).
     * Created once: mocking is slow.
     */
    static SchedulerFactory schedulerFactory() {
        if (schedulerFactory == null) {
            schedulerFactory = Mockito.mock(SchedulerFactory.class);
            Mockito.when(schedulerFactory.getScheduler()).thenAnswer(inv -> CURRENT_SCHEDULER[0]);
        }
        return schedulerFactory;
    }

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
                parsed = new Json(t).parseTop();
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(file + ":" + lineNo + ": bad JSON: " + e.getMessage(), e);
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> scenario = (Map<String, Object>) parsed;
            runScenario(scenario, out);
        }
    }

    @SuppressWarnings("unchecked")
    static void runScenario(Map<String, Object> scenario, PrintWriter out) {
        String name = (String) scenario.get("name");
        Map<String, Object> config = (Map<String, Object>) scenario.getOrDefault("config", Map.of());
        List<Object> steps = (List<Object>) scenario.getOrDefault("steps", List.of());
        ManualClock clock = new ManualClock();
        ManualScheduler scheduler = new ManualScheduler(clock::millis);

        CircuitBreakerConfig cfg;
        try {
            cfg = buildConfig(config, clock);
        } catch (HarnessError e) {
            throw e;
        } catch (RuntimeException e) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("scenario", name);
            o.put("step", -1);
            o.put("op", "config");
            o.put("result", "config_error");
            o.put("message", e.getClass().getSimpleName() + ": " + e.getMessage());
            out.println(Json.write(o));
            return;
        }
        CURRENT_SCHEDULER[0] = scheduler;
        CircuitBreaker cb = new CircuitBreakerStateMachine("parity", cfg, schedulerFactory());
        List<String> events = new ArrayList<>();
        cb.getEventPublisher().onEvent(e -> events.add(describe(e)));

        for (int i = 0; i < steps.size(); i++) {
            String op = ((String) steps.get(i)).strip();
            events.clear();
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("scenario", name);
            o.put("step", i);
            o.put("op", op);
            String result;
            String message = null;
            String[] parts = op.split("\\s+");
            String verb = parts[0];
            long arg;
            try {
                arg = parts.length > 1 ? Long.parseLong(parts[1]) : 0L;
            } catch (NumberFormatException e) {
                throw new HarnessError("bad argument in step '" + op + "' in scenario " + name);
            }
            try {
                switch (verb) {
                    case "acquire":
                        result = cb.tryAcquirePermission() ? "permitted" : "rejected";
                        break;
                    case "acquire!":
                        try {
                            cb.acquirePermission();
                            result = "permitted";
                        } catch (CallNotPermittedException e) {
                            result = "not_permitted";
                            message = e.getMessage();
                        }
                        break;
                    case "success":
                        cb.onSuccess(arg, TimeUnit.MILLISECONDS);
                        result = "ok";
                        break;
                    case "error":
                        cb.onError(arg, TimeUnit.MILLISECONDS, new RuntimeException("scenario error"));
                        result = "ok";
                        break;
                    case "ignored":
                        // every config ignores IgnoredError (see buildConfig)
                        cb.onError(arg, TimeUnit.MILLISECONDS, new IgnoredError());
                        result = "ok";
                        break;
                    case "release":
                        cb.releasePermission();
                        result = "ok";
                        break;
                    case "advance":
                        scheduler.advanceTo(clock.millis() + arg, clock::setMillis);
                        result = "ok";
                        break;
                    case "reset":
                        cb.reset();
                        result = "ok";
                        break;
                    case "open_for":
                    case "open_until":
                    case "to_closed":
                    case "to_open":
                    case "to_half_open":
                    case "to_disabled":
                    case "to_forced_open":
                    case "to_metrics_only":
                        try {
                            transition(cb, verb, arg);
                            result = "ok";
                        } catch (IllegalStateTransitionException e) {
                            result = "illegal";
                            message = e.getMessage();
                        }
                        break;
                    default:
                        throw new HarnessError("unknown step '" + op + "' in scenario " + name);
                }
            } catch (HarnessError e) {
                throw e;
            } catch (RuntimeException e) {
                // e.g. quirk 2.7.2: ArithmeticException recording into a size-0 window carried into OPEN
                result = "exception:" + e.getClass().getSimpleName();
                message = e.getMessage();
            }
            // A task already due (e.g. scheduled with a delay <= 0 by transitionToOpenStateUntil
            // with a past instant) runs right away on a real scheduler: run it before observing.
            scheduler.advanceTo(clock.millis(), clock::setMillis);
            o.put("result", result);
            if (message != null) {
                o.put("message", message);
            }
            if (!scheduler.taskErrors.isEmpty()) {
                o.put("schedulerErrors", new ArrayList<Object>(scheduler.taskErrors));
                scheduler.taskErrors.clear();
            }
            observe(cb, o);
            o.put("events", new ArrayList<Object>(events));
            out.println(Json.write(o));
        }
    }

    static void transition(CircuitBreaker cb, String verb, long arg) {
        switch (verb) {
            case "to_closed": cb.transitionToClosedState(); break;
            case "open_for": cb.transitionToOpenStateFor(Duration.ofMillis(arg)); break;
            case "open_until": cb.transitionToOpenStateUntil(Instant.ofEpochMilli(arg)); break;
            case "to_open": cb.transitionToOpenState(); break;
            case "to_half_open": cb.transitionToHalfOpenState(); break;
            case "to_disabled": cb.transitionToDisabledState(); break;
            case "to_forced_open": cb.transitionToForcedOpenState(); break;
            case "to_metrics_only": cb.transitionToMetricsOnlyState(); break;
            default: throw new HarnessError("unknown step '" + verb + "'");
        }
    }

    static void observe(CircuitBreaker cb, Map<String, Object> o) {
        o.put("state", cb.getState().name());
        CircuitBreaker.Metrics m;
        try {
            m = cb.getMetrics();
        } catch (RuntimeException e) {
            o.put("metrics", "exception:" + e.getClass().getSimpleName());
            return;
        }
        o.put("failureRate", rate(m.getFailureRate()));
        o.put("slowCallRate", rate(m.getSlowCallRate()));
        o.put("buffered", (long) m.getNumberOfBufferedCalls());
        o.put("failed", (long) m.getNumberOfFailedCalls());
        o.put("successful", (long) m.getNumberOfSuccessfulCalls());
        o.put("slow", (long) m.getNumberOfSlowCalls());
        o.put("slowSuccessful", (long) m.getNumberOfSlowSuccessfulCalls());
        o.put("slowFailed", (long) m.getNumberOfSlowFailedCalls());
        o.put("notPermitted", m.getNumberOfNotPermittedCalls());
    }

    /** -1 (not computable) becomes JSON null; other rates are Float.toString text (exact round trip). */
    static Object rate(float f) {
        return f == -1.0f ? null : Float.toString(f);
    }

    static String describe(CircuitBreakerEvent e) {
        String type = e.getEventType().name();
        if (e instanceof CircuitBreakerOnStateTransitionEvent) {
            CircuitBreaker.StateTransition t = ((CircuitBreakerOnStateTransitionEvent) e).getStateTransition();
            return type + " " + t.getFromState().name() + "->" + t.getToState().name();
        }
        if (e instanceof CircuitBreakerOnFailureRateExceededEvent) {
            return type + " " + Float.toString(((CircuitBreakerOnFailureRateExceededEvent) e).getFailureRate());
        }
        if (e instanceof CircuitBreakerOnSlowCallRateExceededEvent) {
            return type + " " + Float.toString(((CircuitBreakerOnSlowCallRateExceededEvent) e).getSlowCallRate());
        }
        return type;
    }

    static CircuitBreakerConfig buildConfig(Map<String, Object> c, Clock clock) {
        CircuitBreakerConfig.Builder b = CircuitBreakerConfig.custom().clock(clock)
            .ignoreExceptions(IgnoredError.class);
        for (Map.Entry<String, Object> e : c.entrySet()) {
            Object v = e.getValue();
            switch (e.getKey()) {
                case "failureRateThreshold":
                    b.failureRateThreshold(Float.parseFloat(num(v)));
                    break;
                case "slowCallRateThreshold":
                    b.slowCallRateThreshold(Float.parseFloat(num(v)));
                    break;
                case "slowCallDurationThresholdMs":
                    b.slowCallDurationThreshold(Duration.ofMillis(Long.parseLong(num(v))));
                    break;
                case "slidingWindowType":
                    b.slidingWindowType(CircuitBreakerConfig.SlidingWindowType.valueOf((String) v));
                    break;
                case "slidingWindowSize":
                    b.slidingWindowSize(Integer.parseInt(num(v)));
                    break;
                case "minimumNumberOfCalls":
                    b.minimumNumberOfCalls(Integer.parseInt(num(v)));
                    break;
                case "permittedNumberOfCallsInHalfOpenState":
                    b.permittedNumberOfCallsInHalfOpenState(Integer.parseInt(num(v)));
                    break;
                case "waitDurationInOpenStateMs":
                    b.waitDurationInOpenState(Duration.ofMillis(Long.parseLong(num(v))));
                    break;
                case "maxWaitDurationInHalfOpenStateMs":
                    b.maxWaitDurationInHalfOpenState(Duration.ofMillis(Long.parseLong(num(v))));
                    break;
                case "transitionToStateAfterWaitDuration":
                    b.transitionToStateAfterWaitDuration(CircuitBreaker.State.valueOf((String) v));
                    break;
                case "automaticTransitionFromOpenToHalfOpenEnabled":
                    b.automaticTransitionFromOpenToHalfOpenEnabled((Boolean) v);
                    break;
                default:
                    throw new HarnessError("harness: unknown config key '" + e.getKey() + "'");
            }
        }
        return b.build();
    }

    static String num(Object v) {
        return ((Json.Num) v).text;
    }

    /** Just enough JSON: objects, arrays, strings, numbers (kept as text), booleans, null. */
    static final class Json {
        record Num(String text) { }

        private final String s;
        private int p;

        Json(String s) {
            this.s = s;
        }

        Object parseTop() {
            Object v = value();
            ws();
            if (p != s.length()) {
                throw err("trailing characters");
            }
            return v;
        }

        private RuntimeException err(String what) {
            return new IllegalArgumentException(what + " at offset " + p);
        }

        private void ws() {
            while (p < s.length() && Character.isWhitespace(s.charAt(p))) {
                p++;
            }
        }

        private Object value() {
            ws();
            if (p >= s.length()) {
                throw err("unexpected end");
            }
            char ch = s.charAt(p);
            switch (ch) {
                case '{': {
                    p++;
                    Map<String, Object> m = new LinkedHashMap<>();
                    ws();
                    if (s.charAt(p) == '}') {
                        p++;
                        return m;
                    }
                    while (true) {
                        ws();
                        String k = string();
                        ws();
                        expect(':');
                        m.put(k, value());
                        ws();
                        if (s.charAt(p) == ',') {
                            p++;
                        } else {
                            expect('}');
                            return m;
                        }
                    }
                }
                case '[': {
                    p++;
                    List<Object> l = new ArrayList<>();
                    ws();
                    if (s.charAt(p) == ']') {
                        p++;
                        return l;
                    }
                    while (true) {
                        l.add(value());
                        ws();
                        if (s.charAt(p) == ',') {
                            p++;
                        } else {
                            expect(']');
                            return l;
                        }
                    }
                }
                case '"':
                    return string();
                case 't':
                    lit("true");
                    return Boolean.TRUE;
                case 'f':
                    lit("false");
                    return Boolean.FALSE;
                case 'n':
                    lit("null");
                    return null;
                default: {
                    int start = p;
                    while (p < s.length() && "+-0123456789.eE".indexOf(s.charAt(p)) >= 0) {
                        p++;
                    }
                    if (start == p) {
                        throw err("unexpected character '" + ch + "'");
                    }
                    return new Num(s.substring(start, p));
                }
            }
        }

        private void lit(String w) {
            if (!s.startsWith(w, p)) {
                throw err("expected " + w);
            }
            p += w.length();
        }

        private void expect(char c) {
            if (p >= s.length() || s.charAt(p) != c) {
                throw err("expected '" + c + "'");
            }
            p++;
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                if (p >= s.length()) {
                    throw err("unterminated string");
                }
                char c = s.charAt(p++);
                if (c == '"') {
                    return b.toString();
                }
                if (c == '\\') {
                    char e = s.charAt(p++);
                    switch (e) {
                        case 'n': b.append('\n'); break;
                        case 't': b.append('\t'); break;
                        case 'r': b.append('\r'); break;
                        case 'b': b.append('\b'); break;
                        case 'f': b.append('\f'); break;
                        case 'u':
                            b.append((char) Integer.parseInt(s.substring(p, p + 4), 16));
                            p += 4;
                            break;
                        default: b.append(e);
                    }
                } else {
                    b.append(c);
                }
            }
        }

        static String write(Object v) {
            StringBuilder b = new StringBuilder();
            write(b, v);
            return b.toString();
        }

        @SuppressWarnings("unchecked")
        private static void write(StringBuilder b, Object v) {
            if (v == null) {
                b.append("null");
            } else if (v instanceof String) {
                quote(b, (String) v);
            } else if (v instanceof Number || v instanceof Boolean) {
                b.append(v);
            } else if (v instanceof Num) {
                b.append(((Num) v).text);
            } else if (v instanceof Map) {
                b.append('{');
                boolean first = true;
                for (Map.Entry<String, Object> e : ((Map<String, Object>) v).entrySet()) {
                    if (!first) {
                        b.append(',');
                    }
                    first = false;
                    quote(b, e.getKey());
                    b.append(':');
                    write(b, e.getValue());
                }
                b.append('}');
            } else if (v instanceof List) {
                b.append('[');
                boolean first = true;
                for (Object x : (List<Object>) v) {
                    if (!first) {
                        b.append(',');
                    }
                    first = false;
                    write(b, x);
                }
                b.append(']');
            } else {
                quote(b, v.toString());
            }
        }

        private static void quote(StringBuilder b, String s) {
            b.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"': b.append("\\\""); break;
                    case '\\': b.append("\\\\"); break;
                    case '\n': b.append("\\n"); break;
                    case '\r': b.append("\\r"); break;
                    case '\t': b.append("\\t"); break;
                    default:
                        if (c < 0x20) {
                            b.append(String.format("\\u%04x", (int) c));
                        } else {
                            b.append(c);
                        }
                }
            }
            b.append('"');
        }
    }
}
