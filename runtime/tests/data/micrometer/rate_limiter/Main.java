import io.github.resilience4j.ratelimiter.*;
import io.github.resilience4j.micrometer.tagged.TaggedRateLimiterMetrics;
import io.micrometer.prometheusmetrics.*;
import java.time.Duration;

/** Micrometer's Prometheus output for resilience4j-micrometer's RateLimiter meters. */
public class Main {
  public static void main(String[] a) throws Exception {
    // Fresh: one rate limiter with the defaults, nothing acquired, a common tag.
    PrometheusMeterRegistry m1 = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    m1.config().commonTags("application", "demo");
    RateLimiterRegistry r1 = RateLimiterRegistry.ofDefaults();
    r1.rateLimiter("backendA");
    TaggedRateLimiterMetrics.ofRateLimiterRegistry(r1).bindTo(m1);
    System.out.print(m1.scrape());
    System.out.println("=====");

    // Scripted: one-hour cycles, so that nothing refreshes while the scenario runs.
    PrometheusMeterRegistry m2 = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    RateLimiterRegistry r2 = RateLimiterRegistry.ofDefaults();
    TaggedRateLimiterMetrics.ofRateLimiterRegistry(r2).bindTo(m2);
    // "orders": 5 permits a cycle, 3 taken, 1 refused (timeout 0 and 3 more asked).
    RateLimiter orders = r2.rateLimiter("orders", RateLimiterConfig.custom()
        .limitForPeriod(5).limitRefreshPeriod(Duration.ofHours(1)).timeoutDuration(Duration.ZERO).build());
    orders.acquirePermission(); orders.acquirePermission(); orders.acquirePermission();
    if (orders.acquirePermission(3)) throw new AssertionError("3 of 2 left acquired");
    // "queued": 1 permit a cycle, taken; a thread waits for the next cycle's (reserved).
    RateLimiter queued = r2.rateLimiter("queued", RateLimiterConfig.custom()
        .limitForPeriod(1).limitRefreshPeriod(Duration.ofHours(1)).timeoutDuration(Duration.ofHours(2)).build());
    queued.acquirePermission();
    Thread waiter = new Thread(() -> queued.acquirePermission());
    waiter.setDaemon(true);
    waiter.start();
    while (queued.getMetrics().getNumberOfWaitingThreads() < 1) Thread.sleep(5);
    // "reserved": 2 permits a cycle, and 3 reserved without waiting (reservePermission).
    RateLimiter reserved = r2.rateLimiter("reserved", RateLimiterConfig.custom()
        .limitForPeriod(2).limitRefreshPeriod(Duration.ofHours(1)).timeoutDuration(Duration.ofHours(2)).build());
    reserved.reservePermission(); reserved.reservePermission(); reserved.reservePermission();
    // "drained": 4 permits a cycle, drained.
    RateLimiter drained = r2.rateLimiter("drained", RateLimiterConfig.custom()
        .limitForPeriod(4).limitRefreshPeriod(Duration.ofHours(1)).timeoutDuration(Duration.ZERO).build());
    drained.drainPermissions();
    System.out.print(m2.scrape());
    System.exit(0);
  }
}
