import io.github.resilience4j.bulkhead.*;
import io.github.resilience4j.micrometer.tagged.TaggedBulkheadMetrics;
import io.micrometer.prometheusmetrics.*;

/** Micrometer's Prometheus output for resilience4j-micrometer's (semaphore) Bulkhead meters. */
public class Main {
  public static void main(String[] a) throws Exception {
    // Fresh: one bulkhead with the defaults, no call running, a common tag.
    PrometheusMeterRegistry m1 = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    m1.config().commonTags("application", "demo");
    BulkheadRegistry r1 = BulkheadRegistry.ofDefaults();
    r1.bulkhead("backendA");
    TaggedBulkheadMetrics.ofBulkheadRegistry(r1).bindTo(m1);
    System.out.print(m1.scrape());
    System.out.println("=====");

    // Scripted.
    PrometheusMeterRegistry m2 = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    BulkheadRegistry r2 = BulkheadRegistry.ofDefaults();
    TaggedBulkheadMetrics.ofBulkheadRegistry(r2).bindTo(m2);
    // "orders": 5 slots, 3 calls running.
    Bulkhead orders = r2.bulkhead("orders", BulkheadConfig.custom().maxConcurrentCalls(5).build());
    for (int i = 0; i < 3; i++) if (!orders.tryAcquirePermission()) throw new AssertionError("orders");
    // "full": 2 slots, both taken, a third call rejected.
    Bulkhead full = r2.bulkhead("full", BulkheadConfig.custom().maxConcurrentCalls(2).build());
    full.tryAcquirePermission(); full.tryAcquirePermission();
    if (full.tryAcquirePermission()) throw new AssertionError("full");
    // "finished": 4 slots, 3 calls, 2 of them finished.
    Bulkhead finished = r2.bulkhead("finished", BulkheadConfig.custom().maxConcurrentCalls(4).build());
    for (int i = 0; i < 3; i++) finished.tryAcquirePermission();
    finished.onComplete(); finished.onComplete();
    // "grown": 3 slots, 1 call running, then 6 slots.
    Bulkhead grown = r2.bulkhead("grown", BulkheadConfig.custom().maxConcurrentCalls(3).build());
    grown.tryAcquirePermission();
    grown.changeConfig(BulkheadConfig.custom().maxConcurrentCalls(6).build());
    // "shrunk": 6 slots, 1 call running, then 2 slots.
    Bulkhead shrunk = r2.bulkhead("shrunk", BulkheadConfig.custom().maxConcurrentCalls(6).build());
    shrunk.tryAcquirePermission();
    shrunk.changeConfig(BulkheadConfig.custom().maxConcurrentCalls(2).build());
    // "closed": 0 slots (every call rejected).
    Bulkhead closed = r2.bulkhead("closed", BulkheadConfig.custom().maxConcurrentCalls(0).build());
    if (closed.tryAcquirePermission()) throw new AssertionError("closed");
    System.out.print(m2.scrape());
    System.exit(0);
  }
}
