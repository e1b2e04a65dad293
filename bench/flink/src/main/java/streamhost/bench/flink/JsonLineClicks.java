package streamhost.bench.flink;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFlatMapFunction;
import org.apache.flink.util.Collector;

/**
 * One JSON line -> one ClickEvent, with Jackson data binding (the usual way to read JSON
 * in a Flink job). Blank lines are skipped, like streamhost's file source; a line that is
 * not a JSON object stops the job; unknown keys are ignored and a missing field stays null
 * or 0 (the peer reads well-formed benchmark input only, no schema check per line).
 */
final class JsonLineClicks extends RichFlatMapFunction<String, ClickEvent> {
    private transient ObjectReader reader;

    @Override
    public void open(OpenContext openContext) {
        reader = new ObjectMapper()
                .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
                .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true)
                .readerFor(ClickEvent.class);
    }

    @Override
    public void flatMap(String line, Collector<ClickEvent> out) throws Exception {
        if (line.isBlank()) {
            return;
        }
        ClickEvent e = reader.readValue(line);
        Stats.event();
        out.collect(e);
    }
}
