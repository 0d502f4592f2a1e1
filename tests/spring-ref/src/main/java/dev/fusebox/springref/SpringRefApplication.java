package dev.fusebox.springref;

import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The reference Spring Boot 3 service of fusebox's "against the real thing" test (issue 12).
 *
 * <p>Started by {@code scripts/spring-ref.sh start YML PORT DOWNSTREAM_URL}. The breakers come from
 * the {@code application.yml} given with {@code --spring.config.location}; the defaults below only
 * make sure the actuator endpoints the test reads are exposed even when that file does not say so
 * (the file wins wherever it sets the same key).
 */
@SpringBootApplication
public class SpringRefApplication {

    public static void main(String[] args) {
        SpringApplication app = new SpringApplication(SpringRefApplication.class);
        app.setDefaultProperties(defaults());
        app.run(args);
    }

    /** Lowest-precedence properties: actuator exposure, health details, loopback only. */
    static Map<String, Object> defaults() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("spring.main.banner-mode", "off");
        d.put("server.address", "127.0.0.1");
        d.put("management.endpoints.web.exposure.include",
            "health,circuitbreakers,circuitbreakerevents,prometheus");
        d.put("management.endpoint.health.show-details", "always");
        d.put("management.health.circuitbreakers.enabled", "true");
        // machine-dependent free-space numbers have no place in a golden file
        d.put("management.health.diskspace.enabled", "false");
        return d;
    }
}
