package streamhost.bench.flink;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;

/**
 * Lines to one local file (truncated at start), buffered, flushed at the end of input.
 * Run with parallelism 1. Flink's FileSink writes part files into a directory and commits
 * them on checkpoints; the peer needs one plain file to compare with streamhost's.
 */
final class JsonLinesFileSink implements Sink<String> {
    private final String path;

    JsonLinesFileSink(String path) {
        this.path = path;
    }

    @Override
    public SinkWriter<String> createWriter(InitContext context) throws IOException {
        Path p = Paths.get(path);
        BufferedWriter w = Files.newBufferedWriter(p, StandardCharsets.UTF_8);
        return new SinkWriter<String>() {
            @Override
            public void write(String line, Context ctx) throws IOException {
                w.write(line);
                w.write('\n');
                Stats.DOCUMENTS.increment();
            }

            @Override
            public void flush(boolean endOfInput) throws IOException {
                w.flush();
            }

            @Override
            public void close() throws IOException {
                w.close();
            }
        };
    }
}
