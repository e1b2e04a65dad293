package streamhost.bench.flink;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters shared by the operators and main(): the MiniCluster runs every task in this
 * JVM, so static counters see all subtasks. One LongAdder increment per event.
 */
final class Stats {
    static final LongAdder EVENTS = new LongAdder();
    static final LongAdder DOCUMENTS = new LongAdder();
    /** wall clock (ms) of the first event read, 0 before. */
    static final AtomicLong FIRST_EVENT_MS = new AtomicLong();
    private static volatile boolean started;

    private Stats() {}

    static void event() {
        if (!started) {
            FIRST_EVENT_MS.compareAndSet(0, System.currentTimeMillis());
            started = true;
        }
        EVENTS.increment();
    }
}
