package streamhost.bench.flink;

/**
 * One click event (conf/ClickEvent.avsc), as a Flink POJO: public fields with the Avro
 * field names, so that Jackson reads the JSON lines straight into it and Flink's
 * PojoSerializer carries it between operators.
 */
public class ClickEvent {
    public String ip;
    public long eventtimestamp;
    public String devicetype;
    public String event_type; // nullable in the schema
    public String product_type; // nullable in the schema
    public int userid;
    public long globalseq;
    public long prevglobalseq; // default 0 in the schema

    public ClickEvent() {}

    public int getUserid() {
        return userid;
    }
}
