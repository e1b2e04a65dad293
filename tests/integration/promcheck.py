#!/usr/bin/env python3
"""Checks streamhost's Prometheus output and the shipped Prometheus config.

  promcheck.py metrics SCRAPE [--expect NAME...]
      SCRAPE (the body of GET /metrics) through prometheus_client's
      text-format parser, then the naming rules of docs/metrics.md: one
      HELP and one TYPE line per family and no family twice; every name
      starts with streamhost_; counters end in _total; no millisecond or
      other non-base unit in a name; every sample has a component label;
      histograms have cumulative buckets ending in le="+Inf" equal to
      _count, and a _sum.  --expect: families that must be there.
  promcheck.py rules RULES SCRAPE [--lazy NAME...]
      The alert rules file: groups, each rule with alert, expr, for, a
      severity label and summary/description annotations; every metric an
      expr names is a family of SCRAPE (or a sample of one: _bucket, _sum,
      _count), or one of the --lazy names (exported only from their first
      event on, e.g. streamhost_dead_letters_lost_total).
  promcheck.py scrape-config CONFIG RULES
      The example prometheus.yml: a scrape job for /metrics, and rule_files
      naming RULES.

Prints one line per check; exit 1 on the first failure.
"""
import os
import re
import sys

import yaml
from prometheus_client.parser import text_string_to_metric_families

PREFIX = "streamhost_"
# names that carry a unit Prometheus does not use (base units: seconds, bytes)
BAD_UNITS = re.compile(r"(_ms|_millis|_milliseconds|_microseconds|_us|_ns|_minutes|_hours|_kb|_mb|_kib|_mib)(_|$)")


def fail(msg):
    print("promcheck: FAILED: " + msg)
    sys.exit(1)


def ok(msg):
    print("promcheck: ok: " + msg)


def families_of(path):
    text = open(path, encoding="utf-8").read()
    # the raw HELP/TYPE lines: once per family
    helps, types = {}, {}
    for line in text.splitlines():
        m = re.match(r"# (HELP|TYPE) (\S+)", line)
        if m:
            d = helps if m.group(1) == "HELP" else types
            d[m.group(2)] = d.get(m.group(2), 0) + 1
    for d, what in ((helps, "HELP"), (types, "TYPE")):
        for name, n in d.items():
            if n != 1:
                fail(f"{n} {what} lines for {name}")
    if set(helps) != set(types):
        fail(f"families with HELP but no TYPE or the reverse: {sorted(set(helps) ^ set(types))}")
    try:
        fams = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser's own message names the line
        fail(f"prometheus_client cannot parse {path}: {e}")
    seen = {}
    for f in fams:
        if f.name in seen:
            fail(f"family {f.name} appears twice (samples of one family must be together)")
        seen[f.name] = f
    return text, seen, types


def check_metrics(path, expect):
    text, fams, types = families_of(path)
    ok(f"prometheus_client parsed {len(fams)} families, {sum(len(f.samples) for f in fams.values())} samples")
    for name, f in fams.items():
        if f.type == "unknown":
            fail(f"{name}: no TYPE")
        if not f.documentation:
            fail(f"{name}: empty HELP")
        if not name.startswith(PREFIX):
            fail(f"{name}: does not start with {PREFIX}")
        if BAD_UNITS.search(name):
            fail(f"{name}: not in base units (seconds, bytes)")
        if f.type == "counter":
            # the parser strips _total from a counter family's name; the TYPE
            # line and every sample must carry it
            if name + "_total" not in types:
                fail(f"counter {name}: its TYPE line is not {name}_total")
            for s in f.samples:
                if not s.name.endswith("_total"):
                    fail(f"counter sample {s.name} does not end in _total")
        elif name.endswith("_total"):
            fail(f"{f.type} {name} ends in _total (only counters do)")
        for s in f.samples:
            if "component" not in s.labels:
                fail(f"{s.name}{s.labels}: no component label")
        if f.type == "histogram":
            check_histogram(f)
    ok("one HELP and TYPE per family, streamhost_ prefix, _total on counters, base units, component labels")
    for e in expect:
        if e not in fams:
            fail(f"expected family {e} missing; have: {', '.join(sorted(fams))}")
    if expect:
        ok("expected families present: " + ", ".join(expect))
    return fams


def check_histogram(f):
    series = {}
    for s in f.samples:
        key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
        series.setdefault(key, {"buckets": [], "sum": None, "count": None})
        if s.name.endswith("_bucket"):
            series[key]["buckets"].append((float(s.labels["le"]), s.value))
        elif s.name.endswith("_sum"):
            series[key]["sum"] = s.value
        elif s.name.endswith("_count"):
            series[key]["count"] = s.value
    for key, h in series.items():
        b = h["buckets"]
        if not b or b[-1][0] != float("inf"):
            fail(f"histogram {f.name}{dict(key)}: no le=\"+Inf\" bucket last")
        if any(b[i][0] >= b[i + 1][0] for i in range(len(b) - 1)):
            fail(f"histogram {f.name}{dict(key)}: bucket bounds not ascending")
        if any(b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
            fail(f"histogram {f.name}{dict(key)}: buckets not cumulative")
        if h["count"] is None or h["sum"] is None:
            fail(f"histogram {f.name}{dict(key)}: no _sum or _count")
        if h["count"] != b[-1][1]:
            fail(f"histogram {f.name}{dict(key)}: _count {h['count']} != +Inf bucket {b[-1][1]}")
        if h["sum"] < 0:
            fail(f"histogram {f.name}{dict(key)}: negative _sum")


def metric_names(expr):
    """Metric names in a PromQL expression: identifiers with our prefix
    (label names and values, functions and keywords never have it)."""
    return set(re.findall(r"\b(" + PREFIX + r"[A-Za-z0-9_:]*)", expr))


def check_rules(rules_path, scrape_path, lazy):
    _, fams, types = families_of(scrape_path)
    known = set(lazy)
    for name, f in fams.items():
        known.update(s.name for s in f.samples)
        known.update(t for t in types if t == name or t == name + "_total")
    doc = yaml.safe_load(open(rules_path, encoding="utf-8"))
    if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list) or not doc["groups"]:
        fail(f"{rules_path}: no groups")
    alerts = []
    for g in doc["groups"]:
        if not g.get("name") or not isinstance(g.get("rules"), list) or not g["rules"]:
            fail(f"{rules_path}: group {g.get('name')!r} has no name or no rules")
        for r in g["rules"]:
            a = r.get("alert")
            if not a or not isinstance(r.get("expr"), str):
                fail(f"{rules_path}: rule {r} has no alert name or expr")
            if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", a):
                fail(f"{rules_path}: alert name {a!r} is not a valid label value for alertname")
            if "for" not in r:
                fail(f"{rules_path}: alert {a} has no 'for' (a single bad scrape would page)")
            if (r.get("labels") or {}).get("severity") not in ("warning", "critical"):
                fail(f"{rules_path}: alert {a} needs labels.severity warning or critical")
            ann = r.get("annotations") or {}
            if not ann.get("summary") or not ann.get("description"):
                fail(f"{rules_path}: alert {a} needs annotations summary and description")
            names = metric_names(r["expr"])
            if not names:
                fail(f"{rules_path}: alert {a}: expr names no {PREFIX} metric")
            for n in sorted(names):
                if n not in known:
                    fail(f"{rules_path}: alert {a}: {n} is not exported (not in {scrape_path})")
            alerts.append(a)
    ok(f"{len(alerts)} alerts, every expr names exported metrics: {', '.join(alerts)}")
    return alerts


def check_scrape_config(config_path, rules_path):
    doc = yaml.safe_load(open(config_path, encoding="utf-8"))
    jobs = doc.get("scrape_configs") or []
    ours = [j for j in jobs if (j.get("metrics_path") or "/metrics") == "/metrics"
            and any(sc.get("targets") for sc in (j.get("static_configs") or []))]
    if not ours:
        fail(f"{config_path}: no scrape job with static targets on /metrics")
    for j in ours:
        for sc in j["static_configs"]:
            for t in sc["targets"]:
                if not re.fullmatch(r"[A-Za-z0-9.\-]+:\d+", t):
                    fail(f"{config_path}: target {t!r} is not HOST:PORT")
    files = doc.get("rule_files") or []
    base = os.path.dirname(os.path.abspath(config_path))
    if not any(os.path.abspath(os.path.join(base, f)) == os.path.abspath(rules_path) for f in files):
        fail(f"{config_path}: rule_files does not name {rules_path}")
    ok(f"{config_path}: job(s) {', '.join(j['job_name'] for j in ours)}, rules {', '.join(files)}")


def main(argv):
    if len(argv) >= 2 and argv[0] == "metrics":
        expect = argv[argv.index("--expect") + 1:] if "--expect" in argv else []
        check_metrics(argv[1], expect)
    elif len(argv) >= 3 and argv[0] == "rules":
        check_rules(argv[1], argv[2], argv[argv.index("--lazy") + 1:] if "--lazy" in argv else [])
    elif len(argv) == 3 and argv[0] == "scrape-config":
        check_scrape_config(argv[1], argv[2])
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
