# conf/dashboards.ndjson (the OpenSearch Dashboards saved objects: the
# reference's index patterns, five visualizations, one dashboard) against
# the saved-object format and the mappings the opensearch sink installs
# (plugins/sink-opensearch/index_templates.c), by
# tests/integration/dashboards_file.py; no service needed.  Then copies with
# one mistake each, which the check must refuse, naming the line and why.
source tests/integration/common.bash
NDJSON=conf/dashboards.ndjson
TPL=plugins/sink-opensearch/index_templates.c
check "conf/dashboards.ndjson: format, references, index patterns and visualizations match the mappings" \
  python3 tests/integration/dashboards_file.py "$NDJSON" "$TPL"
python3 tests/integration/dashboards_file.py "$NDJSON" "$TPL" | head -1 || true

# mutate NAME EXPECTED-MESSAGE PYTHON-EXPRESSION-ON-objs: writes a copy with one
# mistake, expects exit 1 and the message
mutate() {
  local name=$1 want=$2 code=$3
  python3 - "$NDJSON" "$T/$name.ndjson" "$code" <<'PY'
import json, sys
src, dst, code = sys.argv[1:]
objs = [json.loads(l) for l in open(src, encoding="utf-8") if l.strip()]
def obj(t, i): return next(o for o in objs if o.get("type") == t and o.get("id") == i)
def vis_state(i, f):
    o = obj("visualization", i); vs = json.loads(o["attributes"]["visState"]); f(vs)
    o["attributes"]["visState"] = json.dumps(vs)
def pattern_fields(i, f):
    o = obj("index-pattern", i); fs = json.loads(o["attributes"]["fields"]); f(fs)
    o["attributes"]["fields"] = json.dumps(fs)
exec(code)
with open(dst, "w", encoding="utf-8") as out:
    for o in objs:
        out.write(json.dumps(o) + "\n")
PY
  set +e
  python3 tests/integration/dashboards_file.py "$T/$name.ndjson" "$TPL" > "$T/$name.out"
  local rc=$?
  set -e
  sed -n '2,3p' "$T/$name.out"
  check "refused: $name" bash -c '[ "$1" = 1 ] && grep -q -- "$2" "$3"' _ "$rc" "$want" "$T/$name.out"
}
mutate unknown-field "uses field 'departmentCnt', not in index pattern" \
  'vis_state("streamhost-average-department-count", lambda vs: vs["aggs"][0]["params"].update(field="departmentCnt"))'
mutate terms-on-text "terms on departmentName, which is not aggregatable" \
  'vis_state("streamhost-average-department-count", lambda vs: vs["aggs"][2]["params"].update(field="departmentName"))'
mutate dangling-reference "points to visualization streamhost-nope, not in the file" \
  'obj("dashboard", "streamhost-clickstream-dashboard")["references"][0]["id"] = "streamhost-nope"'
mutate duplicate-id "id streamhost-average-user-session-count also at" \
  'obj("visualization", "streamhost-average-percent-sessions-with-buy")["id"] = "streamhost-average-user-session-count"'
mutate wrong-index-title "title .user_session_count. is not an index the sink writes" \
  'obj("index-pattern", "streamhost-user_session_counts")["attributes"]["title"] = "user_session_count"'
mutate wrong-field-type "field percentSessionswithBuy: esTypes" \
  'pattern_fields("streamhost-user_session_counts", lambda fs: [f.update(esTypes=["long"]) for f in fs if f["name"] == "percentSessionswithBuy"])'
mutate missing-mapped-field "mapped field userId of user_session_details is missing" \
  'pattern_fields("streamhost-user_session_details", lambda fs: fs.remove(next(f for f in fs if f["name"] == "userId")))'
mutate bad-count "exportedCount 9, the file holds 8 objects" \
  'objs.remove(obj("visualization", "streamhost-average-user-session-count")); obj("dashboard", "streamhost-clickstream-dashboard")'
