import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.bulkhead.BulkheadFullException;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Resilience4j 2.4.0 semaphore-bulkhead oracle for fusebox's differential test
 * (tests/bulkhead_parity.rs). Scenarios are JSON lines
 * {@code {"name": ..., "config": {"maxConcurrentCalls": n}, "steps": ["acquire", "finish", ...]}};
 * the wait is always 0 (a full bulkhead rejects at once), so every step is deterministic.
 *
 * <p>Steps: {@code acquire} ({@code tryAcquirePermission}), {@code acquire!}
 * ({@code acquirePermission}, catching {@code BulkheadFullException}), {@code finish}
 * ({@code onComplete}), {@code release} ({@code releasePermission}) and {@code change N}
 * ({@code changeConfig} to N slots; scenarios only shrink by what is free, since the harness is
 * one thread). Output: one JSON line per step with its result, the two gauges afterwards and the
 * events it published.
 */
public final class BulkheadHarness {

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

    @SuppressWarnings("unchecked")
    static void run(Map<String, Object> scenario, PrintWriter out) {
        String name = (String) scenario.get("name");
        Map<String, Object> config = (Map<String, Object>) scenario.getOrDefault("config", Map.of());
        List<Object> steps = (List<Object>) scenario.get("steps");
        BulkheadConfig.Builder builder = BulkheadConfig.custom();
        if (config.containsKey("maxConcurrentCalls")) {
            builder.maxConcurrentCalls(Integer.parseInt(Harness.num(config.get("maxConcurrentCalls"))));
        }
        Bulkhead bulkhead = Bulkhead.of("parity", builder.build());
        List<String> events = new ArrayList<>();
        bulkhead.getEventPublisher().onEvent(e -> events.add(e.getEventType().name()));
        for (int i = 0; i < steps.size(); i++) {
            String step = (String) steps.get(i);
            events.clear();
            String result = "ok";
            if (step.equals("acquire")) {
                result = bulkhead.tryAcquirePermission() ? "permitted" : "rejected";
            } else if (step.equals("acquire!")) {
                try {
                    bulkhead.acquirePermission();
                    result = "permitted";
                } catch (BulkheadFullException e) {
                    result = "full: " + e.getMessage();
                }
            } else if (step.equals("finish")) {
                bulkhead.onComplete();
            } else if (step.equals("release")) {
                bulkhead.releasePermission();
            } else if (step.startsWith("change ")) {
                int calls = Integer.parseInt(step.substring("change ".length()));
                bulkhead.changeConfig(BulkheadConfig.from(bulkhead.getBulkheadConfig())
                    .maxConcurrentCalls(calls).build());
            } else {
                throw new IllegalArgumentException(name + ": unknown step " + step);
            }
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("scenario", name);
            o.put("step", i);
            o.put("op", step);
            o.put("result", result);
            o.put("available", bulkhead.getMetrics().getAvailableConcurrentCalls());
            o.put("max", bulkhead.getMetrics().getMaxAllowedConcurrentCalls());
            o.put("events", new ArrayList<>(events));
            out.println(Harness.Json.write(o));
        }
    }
}
