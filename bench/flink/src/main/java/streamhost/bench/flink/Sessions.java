package streamhost.bench.flink;

import java.util.Arrays;
import java.util.HashSet;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

/**
 * The per-user session step of the reference job (its UserAggregate and
 * UserAggWindowFunction): an incremental aggregate per session window, then the window's
 * bounds. Semantics as in the project's docs/semantics.md section 4, with the deliberate
 * differences of its section 8 taken our way: null event_type / product_type count as ""
 * (the original threw a NullPointerException), deptList is sorted (the original wrote a
 * HashSet in hash order).
 */
public final class Sessions {
    private Sessions() {}

    /** The accumulator (the reference's ClickEventAggregate). */
    public static final class Acc {
        public int eventCount;
        public int orderCheckoutEventCount;
        public HashSet<String> departments = new HashSet<>();

        public Acc() {}
    }

    /** A finished session (the reference's UserIdSessionEvent). */
    public static final class Session {
        public int userId;
        public int eventCount;
        public int orderCheckoutEventCount;
        public String[] deptList;
        public int eventKey;
        public long windowBeginTime;
        public long windowEndTime;

        public Session() {}

        public int getEventKey() {
            return eventKey;
        }
    }

    static final class Aggregate implements AggregateFunction<ClickEvent, Acc, Acc> {
        @Override
        public Acc createAccumulator() {
            return new Acc();
        }

        @Override
        public Acc add(ClickEvent e, Acc acc) {
            String product = e.product_type;
            if (product != null && !product.isEmpty() && !product.equals("N/A")) {
                acc.eventCount++;
                acc.departments.add(product);
            }
            if ("order_checkout".equals(e.event_type)) {
                acc.orderCheckoutEventCount = acc.eventCount;
            }
            return acc;
        }

        @Override
        public Acc getResult(Acc acc) {
            return acc;
        }

        /** Two sessions bridged by an out-of-order event: counts add up, departments unite. */
        @Override
        public Acc merge(Acc a, Acc b) {
            a.eventCount += b.eventCount;
            a.orderCheckoutEventCount += b.orderCheckoutEventCount;
            a.departments.addAll(b.departments);
            return a;
        }
    }

    static final class Window extends ProcessWindowFunction<Acc, Session, Integer, TimeWindow> {
        @Override
        public void process(Integer userId, Context ctx, Iterable<Acc> accs, Collector<Session> out) {
            Acc acc = accs.iterator().next();
            Session s = new Session();
            s.userId = userId;
            s.eventCount = acc.eventCount;
            s.orderCheckoutEventCount = acc.orderCheckoutEventCount;
            String[] depts = acc.departments.toArray(new String[0]);
            Arrays.sort(depts); // UTF-16 order, = bytewise (streamhost's) for names below U+D800
            s.deptList = depts;
            s.eventKey = 1;
            s.windowBeginTime = ctx.window().getStart();
            s.windowEndTime = ctx.window().getEnd();
            out.collect(s);
        }
    }
}
