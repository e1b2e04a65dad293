#!/usr/bin/env python3
"""Exact Kafka messages for the schema-registry tests (input of kafka_put).

    schema_registry_frames.py EVENTS.jsonl WRITER:ID[,WRITER:ID...] [--from N] [--count N]

An ID with dashes is a Glue schema version UUID: that message is in Glue
framing (0x03, compression 0x00, the 16 bytes of the UUID, the body).

EVENTS.jsonl holds click events as the file sink writes records
({"_source": {...}}).  Message i (in file order) is written with the i-th
writer of the list, round robin, each one Avro binary in Confluent framing
(0x00, the 4-byte schema id, the body), keyed by userid as the Java
producer keys them.  Prints one "KEY_HEX VALUE_HEX" line per message.

Writers (hand-encoded, so that the bytes are exactly what the schema says):
  v1    conf/ClickEvent.avsc
  v2    conf/ClickEvent-v2.avsc: v1 + referrer ["null","string"] (a value)
  drop  v1 without prevglobalseq (an optional field, default 0)
  bad   v1 with eventtimestamp as a string (a type change)
"""
import json
import struct
import sys


def zigzag(n):
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def avro_long(n):
    return zigzag(int(n))


def avro_str(s):
    b = s.encode("utf-8")
    return avro_long(len(b)) + b


def union_str_null(s):  # ["string","null"]
    return avro_long(1) if s is None else avro_long(0) + avro_str(s)


def union_null_str(s):  # ["null","string"]
    return avro_long(0) if s is None else avro_long(1) + avro_str(s)


REFERRERS = ["direct", "search", "social"]


def body(e, writer):
    out = avro_str(e["ip"])
    out += avro_str(str(e["eventtimestamp"])) if writer == "bad" else avro_long(e["eventtimestamp"])
    out += avro_str(e["devicetype"])
    out += union_str_null(e.get("event_type"))
    out += union_str_null(e.get("product_type"))
    out += avro_long(e["userid"])
    out += avro_long(e["globalseq"])
    if writer != "drop":
        out += avro_long(e["prevglobalseq"])
    if writer == "v2":
        out += union_null_str(REFERRERS[e["userid"] % 3])
    return out


def main():
    args = sys.argv[1:]
    start, count = 0, None
    if "--from" in args:
        i = args.index("--from")
        start = int(args[i + 1])
        del args[i:i + 2]
    if "--count" in args:
        i = args.index("--count")
        count = int(args[i + 1])
        del args[i:i + 2]
    path, spec = args
    writers = []
    for item in spec.split(","):
        name, sid = item.split(":")
        if name not in ("v1", "v2", "drop", "bad"):
            sys.exit("unknown writer %s" % name)
        writers.append((name, sid))
    with open(path) as f:
        events = [json.loads(line)["_source"] for line in f if line.strip()]
    events = events[start:] if count is None else events[start:start + count]
    for i, e in enumerate(events):
        name, sid = writers[i % len(writers)]
        if "-" in sid:
            value = b"\x03\x00" + bytes.fromhex(sid.replace("-", "")) + body(e, name)
        else:
            value = b"\x00" + struct.pack(">I", int(sid)) + body(e, name)
        print(str(e["userid"]).encode().hex(), value.hex())


if __name__ == "__main__":
    main()
