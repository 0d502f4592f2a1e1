import io.github.resilience4j.retry.*;
import io.github.resilience4j.timelimiter.*;
import io.github.resilience4j.micrometer.tagged.TaggedRetryMetrics;
import io.github.resilience4j.micrometer.tagged.TaggedTimeLimiterMetrics;
import io.micrometer.prometheusmetrics.*;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

/** Micrometer's Prometheus output for resilience4j-micrometer's Retry and TimeLimiter meters. */
public class Main {
  static class Boom extends RuntimeException {}
  static class Business extends RuntimeException {}

  public static void main(String[] a) throws Exception {
    // Fresh: one retry and one time limiter, nothing called, a common tag.
    PrometheusMeterRegistry m1 = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    m1.config().commonTags("application", "demo");
    RetryRegistry r1 = RetryRegistry.ofDefaults();
    r1.retry("backendA");
    TimeLimiterRegistry t1 = TimeLimiterRegistry.ofDefaults();
    t1.timeLimiter("backendA");
    TaggedRetryMetrics.ofRetryRegistry(r1).bindTo(m1);
    TaggedTimeLimiterMetrics.ofTimeLimiterRegistry(t1).bindTo(m1);
    System.out.print(m1.scrape());
    System.out.println("=====");

    // Scripted.
    PrometheusMeterRegistry m2 = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    RetryConfig rc = RetryConfig.custom().maxAttempts(3).waitDuration(Duration.ofMillis(1))
        .ignoreExceptions(Business.class).build();
    RetryRegistry r2 = RetryRegistry.of(rc);
    Retry r = r2.retry("orders");
    r2.retry("idle");
    TaggedRetryMetrics.ofRetryRegistry(r2).bindTo(m2);
    // 2 first-attempt successes.
    r.executeSupplier(() -> 1);
    r.executeSupplier(() -> 1);
    // 1 success after one retry.
    int[] n = {0};
    r.executeSupplier(() -> { if (n[0]++ < 1) throw new Boom(); return 1; });
    // 1 failure after all attempts.
    try { r.executeSupplier(() -> { throw new Boom(); }); } catch (Boom e) {}
    // 2 errors that are not retried.
    try { r.executeSupplier(() -> { throw new Business(); }); } catch (Business e) {}
    try { r.executeSupplier(() -> { throw new Business(); }); } catch (Business e) {}

    TimeLimiterRegistry t2 = TimeLimiterRegistry.ofDefaults();
    TimeLimiter t = t2.timeLimiter("orders");
    t2.timeLimiter("slow", TimeLimiterConfig.custom().timeoutDuration(Duration.ofMillis(10)).build());
    TaggedTimeLimiterMetrics.ofTimeLimiterRegistry(t2).bindTo(m2);
    // 3 successes, 1 error, 2 timeouts.
    t.onSuccess(); t.onSuccess(); t.onSuccess();
    t.onError(new Boom());
    t.onError(new TimeoutException());
    t.onError(new TimeoutException());
    System.out.print(m2.scrape());
  }
}
