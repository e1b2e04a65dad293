package streamhost.bench.flink;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.reader.TextLineInputFormat;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.windowing.assigners.EventTimeSessionWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;

/**
 * The reference clickstream job (a Java producer -> Kafka -> this Flink job -> OpenSearch)
 * with its topology and functions, on a local MiniCluster, reading the same input as
 * streamhost and writing the same documents to one file, bounded (it ends at the end of
 * the topic or file; Flink then emits a final +infinity watermark and every open window
 * fires, as streamhost's bounded runs do). See bench/flink/README.md.
 *
 * <pre>
 * clicks (Kafka, Confluent Avro | file, JSON lines)
 *   -> watermarks: bounded out-of-orderness 20 s, idleness 1 min, per Kafka partition
 *   -> keyBy userid -> event-time session windows, gap 1 s -> aggregate -> sessions
 *        -> filter orderCheckoutEventCount != 0          -> user_session_details
 *        -> keyBy eventKey -> tumbling 10 s -> aggregate -> user_session_counts
 *        -> flatMap departments -> keyBy name -> tumbling 10 s -> reduce -> departments_count
 *   -> union -> one JSON-lines file
 * </pre>
 */
public final class ReferenceJob {
    private static final String USAGE = String.join("\n",
            "usage: ReferenceJob --source kafka --bootstrap HOST:PORT --topic TOPIC [--group GROUP] [--schema AVSC]",
            "                    [--kafka-property KEY=VALUE]... --output FILE [--event-time field|record] [--parallelism N]",
            "       ReferenceJob --source file --input FILE.jsonl --output FILE [--parallelism N]",
            "  --event-time field   event time from the eventtimestamp field (streamhost's default; the only choice for a file)",
            "  --event-time record  from the Kafka record timestamp (what the original job did: no timestamp assigner)",
            "  --schema             Avro schema of the values (default conf/ClickEvent.avsc)",
            "  --parallelism        of every operator but the sink (default 1)");

    private ReferenceJob() {}

    public static void main(String[] argv) throws Exception {
        Map<String, String> a = new HashMap<>();
        List<String> kafkaProps = new ArrayList<>();
        for (int i = 0; i < argv.length; i++) {
            String k = argv[i];
            if (k.equals("--help") || k.equals("-h")) {
                System.out.println(USAGE);
                return;
            }
            if (!k.startsWith("--") || i + 1 == argv.length) {
                usage(i + 1 == argv.length && k.startsWith("--") ? k + " needs a value" : "unexpected argument '" + k + "'");
            }
            String v = argv[++i];
            if (k.equals("--kafka-property")) {
                if (!v.contains("=")) {
                    usage("--kafka-property needs KEY=VALUE, not '" + v + "'");
                }
                kafkaProps.add(v);
            } else if (List.of("--source", "--bootstrap", "--topic", "--group", "--schema", "--input", "--output",
                    "--event-time", "--parallelism").contains(k)) {
                a.put(k.substring(2), v);
            } else {
                usage("unknown option " + k);
            }
        }
        String source = a.getOrDefault("source", "");
        String output = a.get("output");
        String eventTime = a.getOrDefault("event-time", "field");
        if (output == null) {
            usage("--output FILE is required");
        }
        if (!eventTime.equals("field") && !eventTime.equals("record")) {
            usage("--event-time must be field or record, not '" + eventTime + "'");
        }
        int parallelism = 1;
        try {
            parallelism = Integer.parseInt(a.getOrDefault("parallelism", "1"));
        } catch (NumberFormatException e) {
            parallelism = 0;
        }
        if (parallelism < 1) {
            usage("--parallelism must be a positive integer, not '" + a.get("parallelism") + "'");
        }

        Configuration conf = new Configuration();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism, conf);

        WatermarkStrategy<ClickEvent> watermarks = WatermarkStrategy
                .<ClickEvent>forBoundedOutOfOrderness(Duration.ofSeconds(20))
                .withIdleness(Duration.ofMinutes(1));
        if (eventTime.equals("field")) {
            watermarks = watermarks.withTimestampAssigner((e, recordTs) -> e.eventtimestamp);
        }

        DataStream<ClickEvent> clicks;
        if (source.equals("kafka")) {
            String bootstrap = a.get("bootstrap");
            String topic = a.get("topic");
            if (bootstrap == null || topic == null) {
                usage("--source kafka needs --bootstrap HOST:PORT and --topic TOPIC");
            }
            if (a.containsKey("input")) {
                usage("--input is for --source file");
            }
            Properties props = new Properties();
            for (String kv : kafkaProps) {
                int eq = kv.indexOf('=');
                props.setProperty(kv.substring(0, eq), kv.substring(eq + 1));
            }
            KafkaSource<ClickEvent> kafka = KafkaSource.<ClickEvent>builder()
                    .setBootstrapServers(bootstrap)
                    .setTopics(topic)
                    .setGroupId(a.getOrDefault("group", "flink-clickstream-processor"))
                    .setStartingOffsets(OffsetsInitializer.earliest())
                    .setBounded(OffsetsInitializer.latest()) // the end offsets when the job starts
                    .setDeserializer(new ConfluentAvroClicks(a.getOrDefault("schema", "conf/ClickEvent.avsc")))
                    .setProperties(props)
                    .build();
            clicks = env.fromSource(kafka, watermarks, "clicks");
        } else if (source.equals("file")) {
            String input = a.get("input");
            if (input == null) {
                usage("--source file needs --input FILE.jsonl");
            }
            if (eventTime.equals("record")) {
                usage("--event-time record needs --source kafka: a file has no record timestamps");
            }
            FileSource<String> file = FileSource
                    .forRecordStreamFormat(new TextLineInputFormat(), Path.fromLocalFile(new java.io.File(input)))
                    .build();
            clicks = env.fromSource(file, WatermarkStrategy.noWatermarks(), "clicks-file")
                    .flatMap(new JsonLineClicks())
                    .name("parse-json")
                    .assignTimestampsAndWatermarks(watermarks);
        } else {
            usage("--source must be kafka or file");
            return;
        }

        DataStream<Sessions.Session> sessions = clicks
                .keyBy(ClickEvent::getUserid, Types.INT)
                .window(EventTimeSessionWindows.withGap(Duration.ofSeconds(1)))
                .aggregate(new Sessions.Aggregate(), new Sessions.Window())
                .name("sessions");

        DataStream<String> details = sessions
                .filter(s -> s.orderCheckoutEventCount != 0)
                .name("checkouts")
                .map(new Documents.OfSession());

        DataStream<String> counts = sessions
                .keyBy(Sessions.Session::getEventKey, Types.INT)
                .window(TumblingEventTimeWindows.of(Duration.ofSeconds(10)))
                .aggregate(new Counts.SessionsAggregate(), new Counts.SessionsWindow())
                .name("session-counts")
                .map(new Documents.OfCounts());

        DataStream<String> departments = sessions
                .flatMap(new Counts.Departments())
                .keyBy(t -> t.f0, Types.STRING)
                .window(TumblingEventTimeWindows.of(Duration.ofSeconds(10)))
                .reduce(new Counts.DepartmentsSum(), new Counts.DepartmentsWindow())
                .name("departments-count")
                .map(new Documents.OfDepartment());

        details.union(counts, departments)
                .sinkTo(new JsonLinesFileSink(output))
                .name("documents")
                .setParallelism(1);

        long jvmStart = java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime();
        long submit = System.currentTimeMillis();
        JobExecutionResult result = env.execute("clickstream reference job");
        long end = System.currentTimeMillis();
        long first = Stats.FIRST_EVENT_MS.get();
        long events = Stats.EVENTS.sum();
        double runS = first > 0 ? (end - first) / 1000.0 : 0;
        System.out.printf("flink events=%d documents=%d parallelism=%d source=%s event_time=%s jvm_start_ms=%d "
                        + "submit_ms=%d first_event_ms=%d end_ms=%d job_net_runtime_ms=%d run_s=%.3f events_per_s=%.0f%n",
                events, Stats.DOCUMENTS.sum(), parallelism, source, eventTime, jvmStart, submit, first, end,
                result.getNetRuntime(), runS, runS > 0 ? events / runS : 0.0);
    }

    private static void usage(String why) {
        System.err.println("ReferenceJob: " + why);
        System.err.println(USAGE);
        System.exit(2);
    }
}
