package dev.fusebox.springref;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /call/{breaker}}: one guarded downstream call through the breaker of that name.
 *
 * <p>Answers (text/plain), mirrored by the fusebox side of the test:
 * <ul>
 *   <li>200, the downstream's body: the call succeeded (slow or not);</li>
 *   <li>500, {@code failed: <exception>}: the downstream failed (5xx, connection error);</li>
 *   <li>503, {@code not permitted: <message>}: {@link CallNotPermittedException} (OPEN,
 *       FORCED_OPEN, HALF_OPEN without a free probe);</li>
 *   <li>504, {@code timeout: <message>}: the TimeLimiter gave up ({@link TimeoutException});</li>
 *   <li>404: the name is not one of this service's breakers.</li>
 * </ul>
 */
@RestController
public class CallController {

    private final GuardedCalls calls;

    public CallController(GuardedCalls calls) {
        this.calls = calls;
    }

    @GetMapping("/call/{breaker}")
    public ResponseEntity<String> call(@PathVariable String breaker) {
        try {
            String body = switch (breaker) {
                case "orders" -> calls.orders();
                case "inventory" -> calls.inventory().join();
                default -> null;
            };
            if (body == null) {
                return text(HttpStatus.NOT_FOUND,
                    "unknown breaker '" + breaker + "': this service guards orders, inventory");
            }
            return text(HttpStatus.OK, body);
        } catch (RuntimeException e) {
            return failure(e);
        }
    }

    private static ResponseEntity<String> failure(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException)
            && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof CallNotPermittedException) {
            return text(HttpStatus.SERVICE_UNAVAILABLE, "not permitted: " + t.getMessage());
        }
        if (t instanceof TimeoutException) {
            return text(HttpStatus.GATEWAY_TIMEOUT, "timeout: " + t.getMessage());
        }
        return text(HttpStatus.INTERNAL_SERVER_ERROR, "failed: " + t);
    }

    private static ResponseEntity<String> text(HttpStatus status, String body) {
        return ResponseEntity.status(status).contentType(MediaType.TEXT_PLAIN).body(body);
    }
}
