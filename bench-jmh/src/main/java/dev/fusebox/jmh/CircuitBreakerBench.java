package dev.fusebox.jmh;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.CompilerControl;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Resilience4j 2.4.0's circuit breaker on the paths fusebox's benches measure (BENCHMARKS.md):
 * the same trivial op (x + 1, not inlined), default config (count window of 100, slow-call
 * threshold 60 s, SYNCHRONIZED window).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CircuitBreakerBench {

    CircuitBreaker closed;
    CircuitBreaker open;
    CircuitBreaker forcedOpen;
    Supplier<Long> decorated;
    long x;

    /** The trivial op, kept out of line like the Rust op's #[inline(never)]. */
    @CompilerControl(CompilerControl.Mode.DONT_INLINE)
    static long op(long x) {
        return x + 1;
    }

    @Setup(Level.Trial)
    public void setup() {
        CircuitBreakerConfig config = CircuitBreakerConfig.ofDefaults();
        closed = CircuitBreaker.of("closed", config);
        open = CircuitBreaker.of("open", config);
        open.transitionToOpenStateFor(Duration.ofHours(1));
        forcedOpen = CircuitBreaker.of("forced", config);
        forcedOpen.transitionToForcedOpenState();
        if (open.tryAcquirePermission() || forcedOpen.tryAcquirePermission()) {
            throw new IllegalStateException("open breakers must reject");
        }
        CircuitBreaker decorator = CircuitBreaker.of("decorator", config);
        decorated = CircuitBreaker.decorateSupplier(decorator, () -> op(x++));
    }

    /** No breaker: the floor. */
    @Benchmark
    public long bareOp() {
        return op(x++);
    }

    /**
     * Closed, permitted: what the decorators do, by hand. acquirePermission, the op, onSuccess
     * with the duration from the breaker's timestamp function (System.nanoTime by default).
     */
    @Benchmark
    public long closedAcquireOnSuccess() {
        closed.acquirePermission();
        long start = closed.getCurrentTimestamp();
        long v = op(x++);
        closed.onSuccess(closed.getCurrentTimestamp() - start, closed.getTimestampUnit());
        return v;
    }

    /** Open (for an hour): rejected; the open state checks its wait on every call. */
    @Benchmark
    public boolean openTryAcquire() {
        return open.tryAcquirePermission();
    }

    /** Forced open: rejected without a time check. */
    @Benchmark
    public boolean forcedOpenTryAcquire() {
        return forcedOpen.tryAcquirePermission();
    }

    /** Closed, through CircuitBreaker.decorateSupplier (the usual user-facing path). */
    @Benchmark
    public long decorateSupplier() {
        return decorated.get();
    }
}
