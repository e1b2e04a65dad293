#!/usr/bin/env python3
"""Reduce JSON-lines document files to the set an upsert store would hold.

Reads {"_index", "_id", "_source"} lines (from the file sink, possibly
appended over several runs), keeps the last write per (_index, _id) as an
index such as OpenSearch would, and prints one canonical line per document,
sorted.  Torn lines (a run killed mid-write) are counted on stderr and
skipped.  With --opensearch URL [PREFIX] it reads the three indices (named
PREFIX + index) from OpenSearch instead.

Checks for the scale-out tests (several processes, one file per process):
  --conflicts FILE...     every write of every file: reports each (_index, _id)
                          written with two different contents (in one file or
                          across files, a conflict an index would hide by
                          overwriting); exit 1 if there is one
  --compare [--allow-missing] REF SET
                          two sets printed by this script: counts and first
                          examples of documents missing from SET, extra in SET,
                          or with another content; exit 1 on any difference
                          (--allow-missing: SET may lack documents of REF)
"""
import json
import sys
import urllib.request

INDICES = ["user_session_details", "user_session_counts", "departments_count"]


def from_files(paths):
    docs, torn = {}, 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    d = json.loads(line)
                except json.JSONDecodeError:
                    torn += 1
                    continue
                docs[(d["_index"], d.get("_id", ""))] = d["_source"]
    if torn:
        print(f"docset: skipped {torn} torn line(s)", file=sys.stderr)
    return docs


def from_opensearch(url, prefix=""):
    docs = {}
    for name in INDICES:
        index = prefix + name
        req = urllib.request.Request(f"{url}/{index}/_refresh", method="POST")
        try:
            urllib.request.urlopen(req).read()
        except Exception:
            continue
        search_after = None
        while True:
            body = {"size": 5000, "sort": [{"_id": "asc"}], "query": {"match_all": {}}}
            if search_after:
                body["search_after"] = search_after
            req = urllib.request.Request(f"{url}/{index}/_search", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
            hits = json.load(urllib.request.urlopen(req))["hits"]["hits"]
            if not hits:
                break
            for h in hits:
                docs[(name, h["_id"])] = h["_source"]
            search_after = hits[-1]["sort"]
    return docs


def canonical(src):
    return json.dumps(src, sort_keys=True, separators=(",", ":"))


def conflicts(paths):
    """(_index, _id) -> {content: [file, ...]} over every write of every file."""
    writes, lines, torn = {}, 0, 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    d = json.loads(line)
                except json.JSONDecodeError:
                    torn += 1
                    continue
                lines += 1
                seen = writes.setdefault((d["_index"], d.get("_id", "")), {})
                seen.setdefault(canonical(d["_source"]), []).append(path)
    bad = {k: v for k, v in writes.items() if len(v) > 1}
    again = sum(1 for v in writes.values() if len(v) == 1 and len(next(iter(v.values()))) > 1)
    print(f"docset: {lines} writes in {len(paths)} file(s), {len(writes)} distinct documents, "
          f"{again} written more than once with the same content, {len(bad)} with different contents"
          + (f", {torn} torn line(s) skipped" if torn else ""), file=sys.stderr)
    for n, ((index, _id), contents) in enumerate(sorted(bad.items())):
        if n == 10:
            print(f"... and {len(bad) - 10} more conflicting documents")
            break
        print(f"conflict: {index}/{_id} written with {len(contents)} contents:")
        for content, files in contents.items():
            print(f"    {len(files)}x in {', '.join(sorted(set(files)))}: {content}")
    return 1 if bad else 0


def read_set(path):
    docs = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                docs[(d["_index"], d["_id"])] = canonical(d["_source"])
    return docs


def compare(ref_path, got_path, allow_missing):
    ref, got = read_set(ref_path), read_set(got_path)
    missing = sorted(k for k in ref if k not in got)
    extra = sorted(k for k in got if k not in ref)
    differ = sorted(k for k in got if k in ref and got[k] != ref[k])
    print(f"docset: {got_path}: {len(got)} documents; reference {ref_path}: {len(ref)}; "
          f"missing {len(missing)}, extra {len(extra)}, different content {len(differ)}")
    for what, keys in (("missing", missing), ("extra", extra), ("different", differ)):
        for index, _id in keys[:5]:
            line = f"    {what}: {index}/{_id}"
            if what != "missing":
                line += f" got {got[(index, _id)]}"
            if what != "extra":
                line += f" reference {ref[(index, _id)]}"
            print(line)
        if len(keys) > 5:
            print(f"    ... {len(keys) - 5} more {what}")
    by_index = {}
    for index, _ in missing:
        by_index[index] = by_index.get(index, 0) + 1
    if by_index:
        print("    missing by index: " + ", ".join(f"{i} {n}" for i, n in sorted(by_index.items())))
    return 1 if extra or differ or (missing and not allow_missing) else 0


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "--conflicts":
        sys.exit(conflicts(sys.argv[2:]))
    if len(sys.argv) >= 2 and sys.argv[1] == "--compare":
        args = sys.argv[2:]
        allow = "--allow-missing" in args
        args = [a for a in args if a != "--allow-missing"]
        if len(args) != 2:
            sys.exit("usage: docset.py --compare [--allow-missing] REF SET")
        sys.exit(compare(args[0], args[1], allow))
    if len(sys.argv) >= 3 and sys.argv[1] == "--opensearch":
        docs = from_opensearch(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "")
    else:
        docs = from_files(sys.argv[1:])
    for (index, _id), src in sorted(docs.items()):
        print(json.dumps({"_index": index, "_id": _id, "_source": src}, sort_keys=True, separators=(",", ":")))


if __name__ == "__main__":
    main()
