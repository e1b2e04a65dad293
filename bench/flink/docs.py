#!/usr/bin/env python3
"""Document files as multisets of JSON objects, for bench/flink/bench.sh.

  docs.py FILE          one canonical line (keys sorted, no spaces) per JSON line of FILE,
                        sorted; duplicates are kept, so two files compare as multisets
  docs.py --diff A B    A and B printed by the first form: one line saying whether they
                        are identical, else how many documents each lacks, with examples;
                        exit 1 when they differ

Nothing is normalised: a number written as 50 and as 50.0, an id or a field that differs,
a document written twice: all are differences.
"""
import json
import sys
from collections import Counter


def canonical(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    doc = json.loads(line)
                except json.JSONDecodeError as e:
                    sys.exit(f"{path}:{n}: not JSON: {e}")
                out.append(json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    out.sort()
    return out


def diff(a_path, b_path):
    with open(a_path, encoding="utf-8") as f:
        a = Counter(f.read().splitlines())
    with open(b_path, encoding="utf-8") as f:
        b = Counter(f.read().splitlines())
    if a == b:
        print(f"identical: {sum(a.values())} documents")
        return 0
    only_a, only_b = a - b, b - a
    ex = lambda c: "; ".join(list(c.elements())[:2])
    print(f"DIFFER: {sum(a.values())} vs {sum(b.values())} documents; {sum(only_a.values())} only in {a_path} "
          f"(e.g. {ex(only_a)}), {sum(only_b.values())} only in {b_path} (e.g. {ex(only_b)})")
    return 1


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--diff":
        sys.exit(diff(sys.argv[2], sys.argv[3]))
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.stdout.write("".join(line + "\n" for line in canonical(sys.argv[1])))


if __name__ == "__main__":
    main()
