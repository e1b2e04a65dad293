#!/usr/bin/env python3
"""Derive a test config from a shared one: ini_extend.py BASE.ini EXTRA.ini > OUT.ini

Copies BASE line by line (comments, order and ${VAR} references unchanged) and
applies EXTRA, a small INI file of the same shape:

- a key of EXTRA whose section exists in BASE is added at the end of that
  section, unless BASE already sets it (BASE wins; a note goes to stderr);
- a key written `!key = value` replaces BASE's value (or is added);
- a section of EXTRA that BASE lacks is appended whole.

So a test runs "the same config" as users do (conf/clickstream.ini), plus
only what it must add (a file sink beside OpenSearch, an index prefix), and
picks up whatever the shared config gains later.  Only `key = value` lines,
`[section]` headers, blank lines and `;`/`#` comments are understood, which is
all conf/*.ini use.
"""
import re
import sys

HEADER = re.compile(r"^\s*\[([^\]]+)\]\s*$")
KEYVAL = re.compile(r"^\s*(!?)([^=;#\s][^=]*?)\s*=(.*)$")


def parse_extra(path):
    sections, order = {}, []
    cur = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            s = line.strip()
            if not s or s[0] in ";#":
                continue
            m = HEADER.match(line)
            if m:
                cur = m.group(1).strip()
                if cur not in sections:
                    sections[cur] = []
                    order.append(cur)
                continue
            m = KEYVAL.match(line)
            if not m or cur is None:
                sys.exit(f"ini_extend: {path}: cannot read line: {line.rstrip()}")
            sections[cur].append((m.group(1) == "!", m.group(2).strip(), m.group(3).strip()))
    return sections, order


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: ini_extend.py BASE.ini EXTRA.ini")
    extra, order = parse_extra(sys.argv[2])
    with open(sys.argv[1], encoding="utf-8") as f:
        base = f.read().splitlines()
    out, cur, seen = [], None, set()

    def close_section():
        if cur is None or cur not in extra:
            return
        # insert before the section's trailing blank lines
        tail = []
        while out and not out[-1].strip():
            tail.append(out.pop())
        for force, key, value in extra[cur]:
            if (cur, key) in seen:
                continue
            out.append(f"{key} = {value}")
        out.extend(tail)

    for line in base:
        m = HEADER.match(line)
        if m:
            close_section()
            cur = m.group(1).strip()
            out.append(line)
            continue
        m = KEYVAL.match(line)
        if m and cur is not None and cur in extra:
            key = m.group(2).strip()
            for force, k, value in extra[cur]:
                if k != key:
                    continue
                seen.add((cur, key))
                if force:
                    line = f"{key} = {value}   ; set by the test (was: {m.group(3).strip()})"
                else:
                    print(f"ini_extend: [{cur}] {key} is already set in {sys.argv[1]}; keeping its value",
                          file=sys.stderr)
        out.append(line)
    close_section()
    present = {HEADER.match(l).group(1).strip() for l in base if HEADER.match(l)}
    for name in order:
        if name in present:
            continue
        out.append("")
        out.append(f"[{name}]")
        out.extend(f"{k} = {v}" for _, k, v in extra[name])
    print("\n".join(out))


if __name__ == "__main__":
    main()
