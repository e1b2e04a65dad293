package streamhost.bench.flink;

import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.functions.ReduceFunction;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

/**
 * The 10 s tumbling aggregates of the reference job over the sessions (docs/semantics.md
 * section 5): per window, sessions / sessions with a checkout / percent with a buy (its
 * UserSessionAggregates + UserSessionWindowFunction, keyed by eventKey, i.e. one key), and
 * per department and window, the sessions that visited it (its DepartmentsFlatMap,
 * DepartmentsAggReduceFunction, DepartmentsAggWindowFunction, keyed by department).
 */
public final class Counts {
    private Counts() {}

    /** A user_session_counts document (the reference's UserIdAggEvent). */
    public static final class SessionCounts {
        public int userSessionCount;
        public int userSessionCountWithOrderCheckout;
        public int percentSessionswithBuy;
        public long windowBeginTime;
        public long windowEndTime;

        public SessionCounts() {}
    }

    /** A departments_count document (the reference's DepartmentsAggEvent). */
    public static final class DepartmentCount {
        public String departmentName;
        public int departmentCount;
        public long windowBeginTime;
        public long windowEndTime;

        public DepartmentCount() {}
    }

    /** (sessions, sessions with a checkout) -> (count, with checkout, percent). */
    static final class SessionsAggregate
            implements AggregateFunction<Sessions.Session, Tuple2<Integer, Integer>, Tuple3<Integer, Integer, Integer>> {
        @Override
        public Tuple2<Integer, Integer> createAccumulator() {
            return Tuple2.of(0, 0);
        }

        @Override
        public Tuple2<Integer, Integer> add(Sessions.Session s, Tuple2<Integer, Integer> acc) {
            acc.f0 += 1;
            if (s.orderCheckoutEventCount != 0) {
                acc.f1 += 1;
            }
            return acc;
        }

        @Override
        public Tuple3<Integer, Integer, Integer> getResult(Tuple2<Integer, Integer> acc) {
            // integer division, as the reference (which stored it in a double: 50.0; we write 50)
            return Tuple3.of(acc.f0, acc.f1, acc.f1 * 100 / acc.f0);
        }

        @Override
        public Tuple2<Integer, Integer> merge(Tuple2<Integer, Integer> a, Tuple2<Integer, Integer> b) {
            return Tuple2.of(a.f0 + b.f0, a.f1 + b.f1);
        }
    }

    static final class SessionsWindow
            extends ProcessWindowFunction<Tuple3<Integer, Integer, Integer>, SessionCounts, Integer, TimeWindow> {
        @Override
        public void process(Integer key, Context ctx, Iterable<Tuple3<Integer, Integer, Integer>> in,
                Collector<SessionCounts> out) {
            Tuple3<Integer, Integer, Integer> t = in.iterator().next();
            SessionCounts c = new SessionCounts();
            c.userSessionCount = t.f0;
            c.userSessionCountWithOrderCheckout = t.f1;
            c.percentSessionswithBuy = t.f2;
            c.windowBeginTime = ctx.window().getStart();
            c.windowEndTime = ctx.window().getEnd();
            out.collect(c);
        }
    }

    /** One (department, 1) per department of a session. */
    static final class Departments implements FlatMapFunction<Sessions.Session, Tuple2<String, Integer>> {
        @Override
        public void flatMap(Sessions.Session s, Collector<Tuple2<String, Integer>> out) {
            for (String d : s.deptList) {
                out.collect(Tuple2.of(d, 1));
            }
        }
    }

    static final class DepartmentsSum implements ReduceFunction<Tuple2<String, Integer>> {
        @Override
        public Tuple2<String, Integer> reduce(Tuple2<String, Integer> a, Tuple2<String, Integer> b) {
            return Tuple2.of(a.f0, a.f1 + b.f1);
        }
    }

    static final class DepartmentsWindow
            extends ProcessWindowFunction<Tuple2<String, Integer>, DepartmentCount, String, TimeWindow> {
        @Override
        public void process(String department, Context ctx, Iterable<Tuple2<String, Integer>> in,
                Collector<DepartmentCount> out) {
            DepartmentCount d = new DepartmentCount();
            d.departmentName = department;
            d.departmentCount = in.iterator().next().f1;
            d.windowBeginTime = ctx.window().getStart();
            d.windowEndTime = ctx.window().getEnd();
            out.collect(d);
        }
    }
}
