#!/usr/bin/env python3
"""Reduce JSON-lines document files to the set an upsert store would hold.

Reads {"_index", "_id", "_source"} lines (from the file sink, possibly
appended over several runs), keeps the last write per (_index, _id) as an
index such as OpenSearch would, and prints one canonical line per document,
sorted.  Torn lines (a run killed mid-write) are counted on stderr and
skipped.  With --opensearch URL [PREFIX] it reads the three indices (named
PREFIX + index) from OpenSearch instead.
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


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--opensearch":
        docs = from_opensearch(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "")
    else:
        docs = from_files(sys.argv[1:])
    for (index, _id), src in sorted(docs.items()):
        print(json.dumps({"_index": index, "_id": _id, "_source": src}, sort_keys=True, separators=(",", ":")))


if __name__ == "__main__":
    main()
