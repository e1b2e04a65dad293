package streamhost.bench.flink;

import java.io.File;
import java.io.IOException;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Kafka values in Confluent Schema Registry framing (byte 0x00, 4-byte schema id, Avro
 * binary body) decoded with Avro's GenericDatumReader against the schema file given on the
 * command line (the writer's schema: conf/ClickEvent.avsc). The reference job decoded AWS
 * Glue framing with Glue's deserializer; the benchmark topic is written with Confluent
 * framing by streamhost's Kafka sink. Anything else stops the job with the record's
 * position.
 */
final class ConfluentAvroClicks implements KafkaRecordDeserializationSchema<ClickEvent> {
    private final String schemaPath;
    private transient GenericDatumReader<GenericRecord> reader;
    private transient GenericRecord reuse;
    private transient BinaryDecoder decoder;

    ConfluentAvroClicks(String schemaPath) {
        this.schemaPath = schemaPath;
    }

    @Override
    public void open(DeserializationSchema.InitializationContext context) throws Exception {
        Schema schema = new Schema.Parser().parse(new File(schemaPath));
        reader = new GenericDatumReader<>(schema);
        reuse = new GenericData.Record(schema);
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<ClickEvent> out) throws IOException {
        byte[] v = record.value();
        if (v == null || v.length < 6 || v[0] != 0) {
            throw new IOException(String.format(
                    "%s-%d@%d: not a Confluent-framed Avro value (%s); the topic must hold ClickEvent records "
                            + "written with a Schema Registry header (byte 0, 4-byte schema id)",
                    record.topic(), record.partition(), record.offset(),
                    v == null ? "null value" : v.length < 6 ? v.length + " bytes" : String.format("first byte 0x%02x", v[0])));
        }
        decoder = DecoderFactory.get().binaryDecoder(v, 5, v.length - 5, decoder);
        GenericRecord r;
        try {
            r = reader.read(reuse, decoder);
        } catch (IOException | RuntimeException e) {
            throw new IOException(String.format("%s-%d@%d: Avro body does not match %s: %s", record.topic(),
                    record.partition(), record.offset(), schemaPath, e), e);
        }
        reuse = r;
        ClickEvent e = new ClickEvent();
        e.ip = str(r.get(0));
        e.eventtimestamp = (Long) r.get(1);
        e.devicetype = str(r.get(2));
        e.event_type = str(r.get(3));
        e.product_type = str(r.get(4));
        e.userid = (Integer) r.get(5);
        e.globalseq = (Long) r.get(6);
        e.prevglobalseq = (Long) r.get(7);
        Stats.event();
        out.collect(e);
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }

    @Override
    public TypeInformation<ClickEvent> getProducedType() {
        return TypeInformation.of(ClickEvent.class);
    }
}
