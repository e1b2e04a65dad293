package streamhost.bench.flink;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.api.common.functions.MapFunction;

/**
 * Documents as streamhost's file sink writes them, one JSON line each:
 * {"_index":INDEX,"_id":ID,"_source":{...}}, with the deterministic ids of docs/semantics.md
 * section 6 (userId-windowBeginTime, windowBeginTime, departmentName-windowBeginTime). The
 * reference let OpenSearch assign ids; they are added here so that the two document sets
 * compare one to one.
 */
final class Documents {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Documents() {}

    static String line(String index, String id, Object source) throws JsonProcessingException {
        ObjectNode doc = JSON.createObjectNode();
        doc.put("_index", index);
        doc.put("_id", id);
        doc.set("_source", JSON.valueToTree(source));
        return JSON.writeValueAsString(doc);
    }

    static final class OfSession implements MapFunction<Sessions.Session, String> {
        @Override
        public String map(Sessions.Session s) throws Exception {
            return line("user_session_details", s.userId + "-" + s.windowBeginTime, s);
        }
    }

    static final class OfCounts implements MapFunction<Counts.SessionCounts, String> {
        @Override
        public String map(Counts.SessionCounts c) throws Exception {
            return line("user_session_counts", Long.toString(c.windowBeginTime), c);
        }
    }

    static final class OfDepartment implements MapFunction<Counts.DepartmentCount, String> {
        @Override
        public String map(Counts.DepartmentCount d) throws Exception {
            return line("departments_count", d.departmentName + "-" + d.windowBeginTime, d);
        }
    }
}
