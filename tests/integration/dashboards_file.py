#!/usr/bin/env python3
"""Checks an OpenSearch Dashboards saved-objects file (conf/dashboards.ndjson)
against the saved-object format and against the mappings the opensearch
sink installs (its index templates, read from
plugins/sink-opensearch/index_templates.c), without any service:

  - every line is a JSON object; the last may be the export summary
    ({"exportedCount": N, "missingRefCount": 0, "missingReferences": []}),
    whose count must be the number of objects;
  - every object has a known type, a non-empty id (unique per type), an
    attributes object with a title, a references list of {name, type, id}
    and a migrationVersion; reference names are unique within an object
    and every reference points to an object of that type in the file;
  - index patterns: the title is an index the sink writes; timeFieldName is
    a date field; every mapped field is in the pattern and every field of
    the pattern is mapped, with the right type (long/integer/double ->
    number, date -> date, text -> string not aggregatable, its .keyword
    multi-field -> keyword, aggregatable) and esTypes;
  - visualizations: visState parses, its title is the object's title, its
    searchSourceJSON names its index pattern through indexRefName and a
    reference of type index-pattern; every aggregation's field is a field
    of that pattern and fits the aggregation (avg/sum/min/max on numbers,
    date_histogram on dates, terms on aggregatable fields);
  - dashboards: panelsJSON parses, panelIndex and gridData.i unique, each
    panel's panelRefName is a visualization reference of the dashboard.

Usage: dashboards_file.py NDJSON TEMPLATES_C
Prints what it checked; exit 1 with every problem found, one line each,
naming NDJSON:LINE and the object.
"""
import json
import re
import sys

TYPES = {"index-pattern", "visualization", "dashboard", "search", "config", "query"}
NUMERIC = {"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float"}
META = {"_id", "_index", "_score", "_source", "_type"}

problems = []


def bad(where, msg):
    problems.append(f"{where}: {msg}")


def c_strings(text):
    """The C string literals of `text`, unescaped, in order."""
    out = []
    for lit in re.findall(r'"((?:[^"\\\n]|\\.)*)"', text):
        out.append(bytes(lit, "utf-8").decode("unicode_escape"))
    return out


def templates(path):
    """{index name: {field: mapping}} from index_templates.c: the array
    os_template_index names the indices, os_template_mappings holds one
    concatenated literal per index, in the same order."""
    src = open(path, encoding="utf-8").read()
    src = re.sub(r"/\*.*?\*/", "", src, flags=re.S)
    names_m = re.search(r"os_template_index\[[^\]]*\]\s*=\s*\{(.*?)\};", src, re.S)
    maps_m = re.search(r"os_template_mappings\[[^\]]*\]\s*=\s*\{(.*?)\};", src, re.S)
    if not names_m or not maps_m:
        sys.exit(f"{path}: os_template_index / os_template_mappings not found")
    names = c_strings(names_m.group(1))
    # one element per index: literals separated by commas outside strings
    elems, cur = [], []
    for tok in re.findall(r'"(?:[^"\\\n]|\\.)*"|,', maps_m.group(1)):
        if tok == ",":
            elems.append(cur)
            cur = []
        else:
            cur.append(tok)
    if cur:
        elems.append(cur)
    elems = [e for e in elems if e]
    if len(elems) != len(names):
        sys.exit(f"{path}: {len(names)} index names but {len(elems)} mappings")
    out = {}
    for name, parts in zip(names, elems):
        body = "".join(c_strings(" ".join(parts)))
        out[name] = flatten(json.loads(body)["properties"])
    return out


def flatten(props, prefix=""):
    """{"a": {"type": "text", "fields": {"keyword": {...}}}} ->
    {"a": ("text", None), "a.keyword": ("keyword", "a")}"""
    out = {}
    for k, v in props.items():
        name = prefix + k
        if "properties" in v:
            out.update(flatten(v["properties"], name + "."))
            continue
        out[name] = (v["type"], None)
        for sub, sv in (v.get("fields") or {}).items():
            out[f"{name}.{sub}"] = (sv["type"], name)
    return out


def dashboards_type(es_type):
    if es_type in NUMERIC:
        return "number"
    if es_type == "date":
        return "date"
    if es_type in ("text", "keyword"):
        return "string"
    if es_type == "boolean":
        return "boolean"
    return es_type


def check_index_pattern(where, obj, mappings):
    a = obj["attributes"]
    title = a.get("title")
    if title not in mappings:
        bad(where, f"index pattern title {title!r} is not an index the sink writes ({', '.join(sorted(mappings))})")
        return None
    mapping = mappings[title]
    try:
        fields = json.loads(a.get("fields", "[]"))
    except json.JSONDecodeError as e:
        bad(where, f"fields is not JSON: {e}")
        return None
    by_name = {}
    for f in fields:
        n = f.get("name")
        if n in by_name:
            bad(where, f"field {n} listed twice")
        by_name[n] = f
    for n, f in by_name.items():
        if n in META:
            continue
        if n not in mapping:
            bad(where, f"field {n} is not in the {title} mapping")
            continue
        es, parent = mapping[n]
        if f.get("type") != dashboards_type(es):
            bad(where, f"field {n}: type {f.get('type')!r}, the mapping's {es} is {dashboards_type(es)!r}")
        if f.get("esTypes") != [es]:
            bad(where, f"field {n}: esTypes {f.get('esTypes')}, the mapping says [{es!r}]")
        want_agg = es != "text"
        if bool(f.get("aggregatable")) != want_agg:
            bad(where, f"field {n}: aggregatable should be {want_agg} for {es}")
        if parent and ((f.get("subType") or {}).get("multi") or {}).get("parent") != parent:
            bad(where, f"field {n}: subType.multi.parent should be {parent}")
    for n in mapping:
        if n not in by_name:
            bad(where, f"mapped field {n} of {title} is missing from the index pattern")
    tf = a.get("timeFieldName")
    if tf is not None and (tf not in mapping or mapping[tf][0] != "date"):
        bad(where, f"timeFieldName {tf!r} is not a date field of {title}")
    return {n: f for n, f in by_name.items()}


def ref_named(obj, name, typ):
    for r in obj.get("references", []):
        if r.get("name") == name and r.get("type") == typ:
            return r
    return None


def check_visualization(where, obj, patterns):
    a = obj["attributes"]
    try:
        vs = json.loads(a.get("visState", ""))
    except json.JSONDecodeError as e:
        bad(where, f"visState is not JSON: {e}")
        return
    if vs.get("title") != a.get("title"):
        bad(where, f"visState title {vs.get('title')!r} differs from the title {a.get('title')!r}")
    try:
        ss = json.loads(a["kibanaSavedObjectMeta"]["searchSourceJSON"])
    except (KeyError, TypeError, json.JSONDecodeError) as e:
        bad(where, f"no readable kibanaSavedObjectMeta.searchSourceJSON ({e})")
        return
    refname = ss.get("indexRefName")
    r = ref_named(obj, refname, "index-pattern") if refname else None
    if not r:
        bad(where, f"searchSourceJSON.indexRefName {refname!r} names no index-pattern reference")
        return
    fields = patterns.get(r["id"])
    if fields is None:
        return  # the missing or broken pattern is reported already
    for agg in vs.get("aggs", []):
        field = (agg.get("params") or {}).get("field")
        t = agg.get("type")
        if field is None:
            if t not in ("count",):
                bad(where, f"aggregation {agg.get('id')} ({t}) has no field")
            continue
        f = fields.get(field)
        if f is None:
            bad(where, f"aggregation {agg.get('id')} ({t}) uses field {field!r}, not in index pattern {r['id']}")
            continue
        if t in ("avg", "sum", "min", "max", "median", "percentiles") and f.get("type") != "number":
            bad(where, f"aggregation {agg.get('id')}: {t} of {field}, a {f.get('type')} field")
        if t == "date_histogram" and f.get("type") != "date":
            bad(where, f"aggregation {agg.get('id')}: date_histogram on {field}, a {f.get('type')} field")
        if t in ("terms", "date_histogram", "histogram", "avg", "sum", "min", "max", "cardinality") \
                and not f.get("aggregatable"):
            bad(where, f"aggregation {agg.get('id')}: {t} on {field}, which is not aggregatable (use {field}.keyword)")


def check_dashboard(where, obj):
    a = obj["attributes"]
    try:
        panels = json.loads(a.get("panelsJSON", ""))
    except json.JSONDecodeError as e:
        bad(where, f"panelsJSON is not JSON: {e}")
        return
    if not panels:
        bad(where, "no panels")
    seen_idx, seen_i = set(), set()
    for p in panels:
        idx, i = p.get("panelIndex"), (p.get("gridData") or {}).get("i")
        if idx in seen_idx or i in seen_i:
            bad(where, f"panel {idx} twice")
        seen_idx.add(idx)
        seen_i.add(i)
        g = p.get("gridData") or {}
        if not all(isinstance(g.get(k), int) for k in ("x", "y", "w", "h")):
            bad(where, f"panel {idx}: gridData needs integer x, y, w, h")
        name = p.get("panelRefName")
        if not name or not ref_named(obj, name, "visualization"):
            bad(where, f"panel {idx}: panelRefName {name!r} names no visualization reference")


def main(ndjson, templates_c):
    mappings = templates(templates_c)
    objs, summary = [], None
    for n, line in enumerate(open(ndjson, encoding="utf-8"), 1):
        if not line.strip():
            continue
        where = f"{ndjson}:{n}"
        try:
            d = json.loads(line)
        except json.JSONDecodeError as e:
            bad(where, f"not JSON: {e}")
            continue
        if not isinstance(d, dict):
            bad(where, "not a JSON object")
        elif "exportedCount" in d and "type" not in d:
            summary = (where, d)
        else:
            objs.append((where, d))
    if summary and summary[0] != f"{ndjson}:{n}":
        bad(summary[0], "the export summary must be the last line")
    ids = {}
    for where, o in objs:
        t, i = o.get("type"), o.get("id")
        w = f"{where} ({t} {i})"
        if t not in TYPES:
            bad(w, f"unknown type {t!r}")
        if not isinstance(i, str) or not i:
            bad(w, "no id")
        if (t, i) in ids:
            bad(w, f"id {i} also at {ids[(t, i)]}")
        ids[(t, i)] = where
        if not isinstance(o.get("attributes"), dict) or not o["attributes"].get("title"):
            bad(w, "no attributes.title")
            o["attributes"] = o.get("attributes") if isinstance(o.get("attributes"), dict) else {}
        if not isinstance(o.get("migrationVersion"), dict):
            bad(w, "no migrationVersion")
        refs = o.get("references")
        if not isinstance(refs, list):
            bad(w, "references is not a list")
            o["references"] = []
            continue
        names = [r.get("name") for r in refs]
        if len(set(names)) != len(names):
            bad(w, "two references with one name")
        for r in refs:
            if not all(isinstance(r.get(k), str) and r.get(k) for k in ("name", "type", "id")):
                bad(w, f"reference {r} needs name, type and id")
    for where, o in objs:
        for r in o["references"]:
            if (r.get("type"), r.get("id")) not in ids:
                bad(f"{where} ({o.get('type')} {o.get('id')})",
                    f"reference {r.get('name')} points to {r.get('type')} {r.get('id')}, not in the file")
    if summary:
        w, s = summary
        if s.get("exportedCount") != len(objs):
            bad(w, f"exportedCount {s.get('exportedCount')}, the file holds {len(objs)} objects")
        if s.get("missingRefCount") != 0 or s.get("missingReferences"):
            bad(w, "the export reports missing references")
    patterns = {}
    for where, o in objs:
        if o.get("type") == "index-pattern":
            f = check_index_pattern(f"{where} (index-pattern {o.get('id')})", o, mappings)
            if f is not None:
                patterns[o["id"]] = f
    counts = {}
    for where, o in objs:
        counts[o.get("type")] = counts.get(o.get("type"), 0) + 1
        w = f"{where} ({o.get('type')} {o.get('id')})"
        if o.get("type") == "visualization":
            check_visualization(w, o, patterns)
        elif o.get("type") == "dashboard":
            check_dashboard(w, o)
    covered = sorted(o["attributes"].get("title") for _, o in objs if o.get("type") == "index-pattern")
    print(f"dashboards_file: {len(objs)} objects ({', '.join(f'{v} {k}' for k, v in sorted(counts.items()))}); "
          f"index patterns {', '.join(covered)} against the templates of {', '.join(sorted(mappings))}")
    for p in problems:
        print("dashboards_file: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
