#!/usr/bin/env bash
# dashboard_browser.sh - the dashboard sink, looked at in a real browser.
#
# A pipeline reads a fixed input (click events made here with a fixed seed)
# through a file source over a FIFO, so that it keeps running, and serving
# the page, after the input: sessions, checkouts and 10 s counts go to BOTH a
# file sink and the dashboard sink.  A last event far ahead in event time
# moves the watermark past every window of the input, so the file sink ends
# up with exactly the documents a finite replay of the input writes
# (conf/replay.ini, checked).  Then headless Chromium loads the page and the
# series the page handed to its five charts (it mirrors them into
# <script id="chart-data">) are compared, number by number, with what the
# file sink wrote; a screenshot is kept as $BUILD/itest/dashboard.png.  The
# raw click stream is wired to the dashboard too: records it does not know
# are counted as ignored, not fatal.  Finally: closing the input ends the run
# with exit 0, and a second pipeline on the same port stops with one line
# naming the section and key.  No network beyond loopback; no Kafka.
source tests/integration/common.bash

CHROMIUM=${CHROMIUM:-chromium}
command -v "$CHROMIUM" >/dev/null || { echo "CHECK FAILED: $CHROMIUM is not installed (scripts/install-deps.sh)"; exit 1; }
SHOT="$BUILD/itest/dashboard.png"
mkdir -p "$BUILD/itest"

writer=""; live=""
cleanup() {
  [ -n "$writer" ] && kill "$writer" 2>/dev/null
  [ -n "$live" ] && kill "$live" 2>/dev/null && wait "$live" 2>/dev/null
  [ -n "${KEEP_TMP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT

# --- the input: 300 users, about 2 minutes of event time, fixed seed ------------
python3 - "$T/events.jsonl" <<'EOF'
import json, random, sys
rng = random.Random(20261201)
products = ["cell phones", "laptops", "ear phones", "soundbars", "cd players", "AirPods", "video games", "cameras"]
nxt = {"home_page": ["product_catalog"], "product_catalog": ["home_page", "product_detail"],
       "product_detail": ["product_catalog", "add_to_cart"],
       "add_to_cart": ["product_catalog", "remove_from_cart", "order"],
       "order": ["order_checkout", "remove_from_cart", "product_catalog"],
       "order_checkout": [None], "remove_from_cart": [None, "product_detail", "product_catalog"]}
events = []
for user in range(1001, 1301):
    t = 1_000_000 + rng.randint(0, 100_000)
    for _ in range(rng.randint(1, 3)):            # a few sessions per user
        kind, product, n = "home_page", "N/A", 0
        while kind and n < 30:
            n += 1
            if kind == "product_detail":
                product = rng.choice(products)
            elif kind in ("home_page", "product_catalog"):
                product = "N/A"
            events.append({"ip": "10.0.%d.%d" % (user // 256, user % 256), "eventtimestamp": t,
                           "devicetype": rng.choice(["mobile", "desktop", "tablet"]), "event_type": kind,
                           "product_type": product, "userid": user, "globalseq": 0, "prevglobalseq": 0})
            t += rng.randint(100, 900)                # within the 1 s gap: one session
            kind = rng.choice(nxt[kind])
        t += rng.randint(1500, 15000)                 # a pause: the next session
events.sort(key=lambda e: (e["eventtimestamp"], e["userid"]))
with open(sys.argv[1], "w") as f:
    for i, e in enumerate(events):
        e["globalseq"], e["prevglobalseq"] = i + 1, i
        f.write(json.dumps(e) + "\n")
EOF
nevents=$(wc -l <"$T/events.jsonl")
# far ahead in event time: the watermark passes every window of the input
TAIL='{"ip":"10.0.0.1","eventtimestamp":9000000,"devicetype":"mobile","event_type":"home_page","product_type":"N/A","userid":1,"globalseq":0,"prevglobalseq":0}'

# --- the oracle: a finite replay of the same input -----------------------------
INPUT="$T/events.jsonl" OUTPUT="$T/replay.jsonl" DEAD_LETTERS="$T/dl-replay.jsonl" "$SH" run conf/replay.ini
check "a finite replay of the input writes documents of every kind" \
  python3 -c 'import json,sys; k={json.loads(l)["_index"] for l in open(sys.argv[1])}; sys.exit(k!={"user_session_details","user_session_counts","departments_count"})' "$T/replay.jsonl"

# --- the live pipeline: file sink + dashboard, input kept open ------------------
mkfifo "$T/in.fifo"
cat >"$T/live.ini" <<EOF
[streamhost]
progress = off
dead_letter.file = $T/dl-live.jsonl

[source.clicks]
plugin = file
path = $T/in.fifo
schema.file = conf/ClickEvent.avsc

$(analytics_transforms)

[sink.documents]
plugin = file
inputs = checkouts, counts
path = $T/live.jsonl
flush.interval = 100ms

[sink.dashboard]
plugin = dashboard
inputs = checkouts, counts, clicks    ; clicks: not dashboard documents, ignored and counted
port = 0                              ; any free port: the start line says which
refresh = 500ms
EOF
"$SH" run "$T/live.ini" >"$T/live.log" 2>&1 &
live=$!
{ cat "$T/events.jsonl"; echo "$TAIL"; exec sleep 600; } >"$T/in.fifo" &
writer=$!

url=""
for _ in $(seq 1 100); do
  url=$(sed -n 's#.*\[dashboard\] dashboard on \(http://[^ ]*\)$#\1#p' "$T/live.log" | head -1)
  [ -n "$url" ] && break
  kill -0 "$live" 2>/dev/null || break
  sleep 0.1
done
cat "$T/live.log"
check "the dashboard sink logs its URL at start" test -n "$url"

# Every document of the input, in the file and in the dashboard's memory
# (bounded wait; nothing here measures time).
want=$(wc -l <"$T/replay.jsonl")
for _ in $(seq 1 300); do
  have=$(wc -l <"$T/live.jsonl" 2>/dev/null || echo 0)
  records=$(curl -sf "${url}api/windows" | python3 -c 'import json,sys; print(json.load(sys.stdin)["records"])' || echo 0)
  [ "$have" -ge "$want" ] && [ "$records" -ge $((want + nevents + 1)) ] && break
  kill -0 "$live" 2>/dev/null || break
  sleep 0.1
done
check "the pipeline still runs (input kept open)" kill -0 "$live"
check "the file sink wrote what the finite replay wrote ($want documents)" same_sorted "$T/replay.jsonl" "$T/live.jsonl"
cp "$T/live.jsonl" "$T/documents.jsonl"

# --- the browser --------------------------------------------------------------
chrome() {
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
    --no-default-browser-check --disable-background-networking --disable-component-update --disable-sync \
    --disable-extensions --hide-scrollbars --user-data-dir="$T/chrome" --window-size=1400,860 \
    --virtual-time-budget=8000 "$@" 2>>"$T/chrome.log"
}
chrome --dump-dom "$url" >"$T/dom.html"
curl -sf "${url}api/windows" >"$T/data.json"
check "the page rendered the data it was served (data-version in the DOM)" \
  python3 -c 'import json,re,sys; v=json.load(open(sys.argv[2]))["version"]; sys.exit(not re.search(r"data-version=\"%d\"" % v, open(sys.argv[1]).read()))' \
  "$T/dom.html" "$T/data.json"

python3 - "$T/dom.html" "$T/documents.jsonl" "$T/data.json" "$nevents" <<'EOF'
import html.parser, json, sys
from collections import defaultdict
dom_file, docs_file, data_file, nevents = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

class Grab(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.inside = False; self.text = None; self.status = ""; self.in_status = False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.inside = tag == "script" and a.get("id") == "chart-data"
        self.in_status = a.get("id") == "status"
    def handle_endtag(self, tag):
        self.inside = self.in_status = False
    def handle_data(self, d):
        if self.inside: self.text = (self.text or "") + d
        if self.in_status: self.status += d
g = Grab(); g.feed(open(dom_file).read())
page = json.loads(g.text)
charts = {c["id"]: c for c in page["charts"]}

docs = [json.loads(l) for l in open(docs_file)]
by = defaultdict(list)
for d in docs: by[d["_index"]].append(d["_source"])
W = 10000
failed = 0
def check(what, ok):
    global failed
    print("CHECK %s: %s" % ("ok" if ok else "FAILED", what))
    if not ok: failed = 1

# charts 1-3: one point per user_session_counts document, at its window end
counts = sorted(by["user_session_counts"], key=lambda s: s["windowEndTime"])
xs = [s["windowEndTime"] / 1000 for s in counts]
for cid, field in [("sessions", "userSessionCount"), ("withCheckout", "userSessionCountWithOrderCheckout"),
                   ("percent", "percentSessionswithBuy")]:
    c = charts[cid]
    check("chart '%s' holds the %d windows' %s exactly" % (c["title"], len(counts), field),
          c["x"] == xs and len(c["series"]) == 1 and c["series"][0]["values"] == [s[field] for s in counts])

# chart 4: mean orderCheckoutEventCount of the user_session_details documents
# per 10 s window, a session in the window holding windowEndTime - 1
acc = defaultdict(lambda: [0, 0])
for s in by["user_session_details"]:
    end = (s["windowEndTime"] - 1) // W * W + W
    acc[end][0] += s["orderCheckoutEventCount"]; acc[end][1] += 1
ends = sorted(acc)
c = charts["checkout"]
check("chart '%s' holds the mean checkout count of %d sessions in %d windows exactly"
      % (c["title"], len(by["user_session_details"]), len(ends)),
      c["x"] == [e / 1000 for e in ends] and c["series"][0]["values"] == [acc[e][0] / acc[e][1] for e in ends])

# chart 5: departmentCount per window for the 5 departments with the highest
# average count (ties by name), as the reference's terms aggregation
per = defaultdict(dict)
for s in by["departments_count"]:
    per[s["windowEndTime"]][s["departmentName"]] = s["departmentCount"]
names = sorted({n for w in per.values() for n in w})
avg = {n: sum(w[n] for w in per.values() if n in w) / sum(1 for w in per.values() if n in w) for n in names}
top = sorted(names, key=lambda n: (-avg[n], n))[:5]
dends = sorted(per)
c = charts["departments"]
check("chart '%s' shows the top 5 of %d departments: %s" % (c["title"], len(names), ", ".join(top)),
      [s["label"] for s in c["series"]] == top)
check("chart '%s' holds their counts in %d windows exactly (%d documents)"
      % (c["title"], len(dends), len(by["departments_count"])),
      c["x"] == [e / 1000 for e in dends]
      and all(s["values"] == [per[e].get(s["label"]) for e in dends] for s in c["series"]))

data = json.load(open(data_file))
check("the dashboard received %d documents and ignored the %d click events (plus the tail event) without harm"
      % (len(docs), nevents), data["records"] == len(docs) + nevents + 1 and data["ignored"] == nevents + 1)
check("the page says how many windows it shows (%r)" % g.status.strip(),
      g.status.strip().startswith("%d windows" % len({*xs, *[e / 1000 for e in ends], *[e / 1000 for e in dends]})))
sys.exit(failed)
EOF

chrome --screenshot="$SHOT" "$url"
check "a screenshot of the page is kept in $SHOT" \
  python3 -c 'import sys; b=open(sys.argv[1],"rb").read(); sys.exit(not (b[:8]==b"\x89PNG\r\n\x1a\n" and len(b)>20000))' "$SHOT"

# --- port in use: one clear line, naming the section and key --------------------
port=${url##*:}; port=${port%/}
sed -e "s#^port = 0 .*#port = $port#" -e "s#path = $T/in.fifo#path = $T/events.jsonl#" \
    -e "s#path = $T/live.jsonl#path = $T/second.jsonl#" "$T/live.ini" >"$T/second.ini"
rc=0; "$SH" run "$T/second.ini" >"$T/second.log" 2>&1 || rc=$?
cat "$T/second.log"
check "a second dashboard on port $port fails to start (exit $rc)" test "$rc" -ne 0
check "with one line naming the config line, [sink.dashboard] and port" \
  test "$(grep -c "second.ini:[0-9]*: \[sink.dashboard\] port: cannot serve the dashboard on 127.0.0.1:$port: Address already in use" "$T/second.log")" = 1

# --- the end of the input ends the run ----------------------------------------
kill "$writer"; writer=""
rc=0; wait "$live" || rc=$?; live=""
check "closing the input ends the live run with exit 0" test "$rc" = 0
