import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * A ScheduledExecutorService on the harness's manual clock: tasks run only when the harness
 * advances the clock past their due time, in due-time order, with the clock set to each task's due
 * time while it runs (as a real timer would fire). Stands in for Resilience4j's real-time scheduler
 * (automatic OPEN to HALF_OPEN, maxWaitDurationInHalfOpenState); see reference section 10.
 */
final class ManualScheduler extends AbstractExecutorService implements ScheduledExecutorService {

    final class Task implements ScheduledFuture<Object> {
        final long dueMillis;
        final long seq;
        final Callable<?> body;
        boolean cancelled;
        boolean done;

        Task(long dueMillis, long seq, Callable<?> body) {
            this.dueMillis = dueMillis;
            this.seq = seq;
            this.body = body;
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(dueMillis - nowMillis.getAsLong(), TimeUnit.MILLISECONDS);
        }

        @Override
        public int compareTo(Delayed o) {
            return Long.compare(getDelay(TimeUnit.MILLISECONDS), o.getDelay(TimeUnit.MILLISECONDS));
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            if (done || cancelled) {
                return false;
            }
            cancelled = true;
            pending.remove(this);
            return true;
        }

        @Override
        public boolean isCancelled() {
            return cancelled;
        }

        @Override
        public boolean isDone() {
            return done || cancelled;
        }

        @Override
        public Object get() {
            throw new UnsupportedOperationException("harness scheduler: get");
        }

        @Override
        public Object get(long timeout, TimeUnit unit) {
            throw new UnsupportedOperationException("harness scheduler: get");
        }
    }

    interface Now {
        long getAsLong();
    }

    private final Now nowMillis;
    private final List<Task> pending = new ArrayList<>();
    private long seq;
    /** Exceptions thrown by tasks (e.g. quirk 2.7.3), reported with the step that ran them. */
    final List<String> taskErrors = new ArrayList<>();

    ManualScheduler(Now nowMillis) {
        this.nowMillis = nowMillis;
    }

    /** Runs every task due at or before {@code targetMillis}, moving the clock via {@code setClock}. */
    void advanceTo(long targetMillis, LongConsumer setClock) {
        while (true) {
            Task next = pending.stream()
                .filter(t -> t.dueMillis <= targetMillis)
                .min(Comparator.<Task>comparingLong(t -> t.dueMillis).thenComparingLong(t -> t.seq))
                .orElse(null);
            if (next == null) {
                break;
            }
            pending.remove(next);
            if (next.dueMillis > nowMillis.getAsLong()) {
                setClock.accept(next.dueMillis);
            }
            next.done = true;
            try {
                next.body.call();
            } catch (Exception e) {
                taskErrors.add(e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }
        setClock.accept(targetMillis);
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        return schedule(() -> {
            command.run();
            return null;
        }, delay, unit);
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        long due = nowMillis.getAsLong() + unit.toMillis(delay);
        Task t = new Task(due, seq++, callable);
        pending.add(t);
        @SuppressWarnings("unchecked")
        ScheduledFuture<V> f = (ScheduledFuture<V>) (ScheduledFuture<?>) t;
        return f;
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        throw new UnsupportedOperationException("harness scheduler: scheduleAtFixedRate");
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        throw new UnsupportedOperationException("harness scheduler: scheduleWithFixedDelay");
    }

    @Override
    public void execute(Runnable command) {
        command.run();
    }

    @Override
    public void shutdown() {
    }

    @Override
    public List<Runnable> shutdownNow() {
        return List.of();
    }

    @Override
    public boolean isShutdown() {
        return false;
    }

    @Override
    public boolean isTerminated() {
        return false;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return true;
    }

    @Override
    public <T> List<java.util.concurrent.Future<T>> invokeAll(Collection<? extends Callable<T>> tasks) {
        throw new UnsupportedOperationException("harness scheduler: invokeAll");
    }
}
