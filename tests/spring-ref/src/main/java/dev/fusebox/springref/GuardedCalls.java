package dev.fusebox.springref;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import io.github.resilience4j.circuitbreaker.annotation.CircuitBreaker;
import io.github.resilience4j.timelimiter.annotation.TimeLimiter;
import jakarta.annotation.PreDestroy;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.stereotype.Component;
import org.springframework.web.client.RestClient;

/**
 * One annotated method per breaker of the scenario, the way Spring users guard a downstream call.
 *
 * <p>Each method GETs {@code ${downstream.url}/<breaker name>}; a 5xx answer throws
 * {@code HttpServerErrorException}, which the breaker records as a failure (no
 * {@code recordExceptions} configured: every exception counts). No fallbacks: the exception reaches
 * {@link CallController}, which maps it to a status code.
 */
@Component
public class GuardedCalls {

    private final RestClient http;
    private final ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
        Thread t = new Thread(r, "guarded-call");
        t.setDaemon(true);
        return t;
    });

    public GuardedCalls(@Value("${downstream.url}") String downstreamUrl) {
        if (!downstreamUrl.startsWith("http://") && !downstreamUrl.startsWith("https://")) {
            throw new IllegalArgumentException(
                "downstream.url must be an http(s) URL, got '" + downstreamUrl + "'");
        }
        HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .build();
        JdkClientHttpRequestFactory factory = new JdkClientHttpRequestFactory(client);
        factory.setReadTimeout(Duration.ofSeconds(5));
        String base = downstreamUrl.endsWith("/") ? downstreamUrl : downstreamUrl + "/";
        this.http = RestClient.builder().requestFactory(factory).baseUrl(base).build();
    }

    /** Breaker {@code orders}: synchronous, circuit breaker only. */
    @CircuitBreaker(name = "orders")
    public String orders() {
        return fetch("orders");
    }

    /**
     * Breaker {@code inventory}: asynchronous, so that the {@code inventory} TimeLimiter applies
     * (Resilience4j's TimeLimiter aspect only accepts CompletionStage or reactive return types).
     * Default aspect order: CircuitBreaker outside, TimeLimiter inside, so a timeout is a failed
     * call of the breaker.
     */
    @CircuitBreaker(name = "inventory")
    @TimeLimiter(name = "inventory")
    public CompletableFuture<String> inventory() {
        return CompletableFuture.supplyAsync(() -> fetch("inventory"), executor);
    }

    private String fetch(String path) {
        return http.get().uri(path).retrieve().body(String.class);
    }

    @PreDestroy
    void shutdown() {
        executor.shutdownNow();
    }
}
