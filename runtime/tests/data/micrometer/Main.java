import io.github.resilience4j.circuitbreaker.*;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.micrometer.prometheusmetrics.*;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
public class Main {
  public static void main(String[] a) throws Exception {
    PrometheusMeterRegistry m1 = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    m1.config().commonTags("application", "demo");
    CircuitBreakerRegistry r1 = CircuitBreakerRegistry.ofDefaults();
    r1.circuitBreaker("backendA");
    TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(r1).bindTo(m1);
    System.out.print(m1.scrape());
    System.out.println("=====");
    PrometheusMeterRegistry m2 = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    CircuitBreakerConfig c = CircuitBreakerConfig.custom().slidingWindowSize(4).failureRateThreshold(50)
      .slowCallDurationThreshold(Duration.ofMillis(100)).permittedNumberOfCallsInHalfOpenState(1)
      .waitDurationInOpenState(Duration.ofSeconds(10)).ignoreExceptions(IllegalStateException.class).build();
    CircuitBreakerRegistry r2 = CircuitBreakerRegistry.of(c);
    CircuitBreaker b = r2.circuitBreaker("a");
    CircuitBreaker t = r2.circuitBreaker("thirds", CircuitBreakerConfig.custom().slidingWindowSize(3).failureRateThreshold(90).build());
    TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(r2).bindTo(m2);
    b.acquirePermission(); b.onSuccess(10, TimeUnit.MILLISECONDS);
    b.acquirePermission(); b.onSuccess(200, TimeUnit.MILLISECONDS);
    b.acquirePermission(); b.onError(30, TimeUnit.MILLISECONDS, new RuntimeException());
    b.acquirePermission(); b.onError(5, TimeUnit.MILLISECONDS, new IllegalStateException());
    b.acquirePermission(); b.onError(400, TimeUnit.MILLISECONDS, new RuntimeException());
    for (int i = 0; i < 3; i++) System.err.println("permitted? " + b.tryAcquirePermission());
    t.onError(1, TimeUnit.MILLISECONDS, new RuntimeException());
    t.onSuccess(1, TimeUnit.MILLISECONDS);
    t.onSuccess(1, TimeUnit.MILLISECONDS);
    System.out.print(m2.scrape());
  }
}
