# needs: kafka opensearch
# Scale-out (issue 9): N analytics processes in one consumer group write
# exactly the documents of one process.  300,000 seeded events (simulated
# clock) are put into an 8-partition topic before any analytics starts; one
# process (bounded) gives the reference document set, by (index, id) ->
# content, from its file and from OpenSearch.  Then, each case in a consumer
# group of its own, every process running the same config (conf/clickstream.ini
# plus a file sink; only environment variables differ) with its own file sink
# file and the case's OpenSearch index prefix:
#   (a)  3 processes started together; (a2) the same with 2;
#   (b1) 3 processes, one SIGKILLed while it writes documents, then restarted;
#   (b2) 3 processes, a 4th joins while they write documents;
#   (c)  3 processes, one stopped with SIGTERM mid-run (hands its partitions over);
# and for each: every process exits 0, no id is written with two different
# contents (in one file or across files: a conflict OpenSearch would hide by
# overwriting), the union of the files equals the reference, and so do the
# OpenSearch indices.  Then the internal topic GROUP.<tumble name>.partials:
#   (d0) created by the processes with the source topic's partition count (in (a));
#   (d1) deleted mid-run: every process stops with exit 1 and an ERROR line naming
#        it, and no document differs from the reference;
#   (d2) already there with 4 partitions (what the broker's auto-creation gives):
#        exit 1, an ERROR line naming it, no wrong document;
#   (d3) holding messages that are not partials: either exit 1 with an ERROR line
#        naming it, or exit 0 with the reference's documents and a WARN/ERROR line
#        naming it; never a wrong document.
# Cases go on after a failed check; the script fails at the end if any did.
# SCALE_OUT_CASES="a a2 b1 b2 c d1 d2 d3" picks cases (the reference always runs;
# see scale_out.bash for the other knobs).
source tests/integration/common.bash
source tests/integration/pipeline.bash
SO_NAME=scale_out
source tests/integration/scale_out.bash
KILL_AT=${SCALE_OUT_KILL_AT:-150} # lines of a process's file before it is disturbed
t_all=$SECONDS
all_positive() { local v; for v; do [[ $v =~ ^[0-9]+$ ]] && [ "$v" -gt 0 ] || return 1; done; }
either() { # either CMD1... -- CMD2...: one of the two succeeds
  local a=()
  while [ "$1" != -- ]; do a+=("$1"); shift; done
  shift
  "${a[@]}" || "$@"
}
timed_case() { local t=$SECONDS; "$@"; echo "== $1 took $((SECONDS - t)) s"; }

# --- input ------------------------------------------------------------------------------
t=$SECONDS
check "topic $SO_TOPIC created with $SO_PARTITIONS partitions" topic_create "$SO_TOPIC" "$SO_PARTITIONS"
check "$SO_EVENTS events produced by the generator (conf/produce.ini, seed $SO_SEED, $SO_USERS users, simulated clock) and all in the topic" \
  produce_events "$SO_TOPIC" "$SO_EVENTS"
echo "end offsets: $(topic_offsets "$SO_TOPIC" | cut -d: -f2- | tr '\n' ' ')"
SO_CONF="$D/analytics.ini"
check "the test config (conf/clickstream.ini + file sink + index prefix, $SO_CONF) passes streamhost check" so_config "$SO_CONF"
TUMBLE=$(tumble_name)
echo "== input took $((SECONDS - t)) s; tumble transform: [transform.$TUMBLE]"

# --- reference: one process --------------------------------------------------------------
case_ref() {
  so_start ref "$RID-ref" "$RID-ref-" RATE_LIMIT=0
  so_wait "$SO_TIMEOUT" ref
  check "reference: one process exits 0" exited ref 0
  check "reference: it read all $SO_EVENTS events" test "$(reads ref)" = "$SO_EVENTS"
  docset "$D/ref.jsonl" > "$D/ref.set"
  docset --opensearch "$OS_URL" "$RID-ref-" > "$D/ref.os.set"
  for i in user_session_details user_session_counts departments_count; do
    echo "reference $i: $(grep -c "\"_index\":\"$i\"" "$D/ref.set" || true) documents"
    check "reference: $i has documents" grep -q "\"_index\":\"$i\"" "$D/ref.set"
  done
  check "reference: one process writes each document once (no id with two contents)" no_conflicts "$D/ref.jsonl"
  check "reference: OpenSearch ($RID-ref-*) equals its file" same_docs "$D/ref.set" "$D/ref.os.set"
  if STREAMHOST_PLUGIN_PATH="$BUILD/plugins" "$SH" plugins describe tumble | grep -qE '^ +exchange '; then
    so_config "$D/analytics-local.ini" "[transform.$TUMBLE]
!exchange = local"
    so_start ref-local "$RID-rl" "$RID-rl-" RATE_LIMIT=0 CONF="$D/analytics-local.ini"
    so_wait "$SO_TIMEOUT" ref-local
    docset "$D/ref-local.jsonl" > "$D/ref-local.set"
    expect "reference: exchange = local exits 0" exited ref-local 0
    expect "reference: one process with exchange = local writes the same documents as with the default exchange" \
      same_docs "$D/ref.set" "$D/ref-local.set"
  else
    echo "(tumble has no exchange key yet: the exchange = local comparison is skipped)"
  fi
}

# --- (a) 3 processes started together --------------------------------------------------------
case_a() {
  local g="$RID-a" n
  for n in a1 a2 a3; do so_start $n "$g" "$g-"; done
  so_wait "$SO_TIMEOUT" a1 a2 a3
  for n in a1 a2 a3; do expect "(a) $n exits 0" exited $n 0; done
  expect "(a) each of the 3 processes read part of the topic (read: $(reads a1) $(reads a2) $(reads a3))" \
    all_positive "$(reads a1)" "$(reads a2)" "$(reads a3)"
  compare_run a "(a) 3 processes" "$g-" a1 a2 a3
  # (d0) the internal topic was missing: the processes created it
  local parts
  parts=$(topic_partitions "$g.$TUMBLE.partials")
  expect "(d0) the missing internal topic $g.$TUMBLE.partials was created with the source topic's $SO_PARTITIONS partitions (has: ${parts:-none})" \
    test "$parts" = "$SO_PARTITIONS"
}

# --- (a2) 2 processes started together ------------------------------------------------------------
case_a2() {
  local g="$RID-b" n
  for n in p1 p2; do so_start $n "$g" "$g-"; done
  so_wait "$SO_TIMEOUT" p1 p2
  for n in p1 p2; do expect "(a2) $n exits 0" exited $n 0; done
  expect "(a2) each of the 2 processes read part of the topic (read: $(reads p1) $(reads p2))" \
    all_positive "$(reads p1)" "$(reads p2)"
  compare_run a2 "(a2) 2 processes" "$g-" p1 p2
}

# --- (b1) one of 3 SIGKILLed mid-run and restarted ----------------------------------------------
case_b1() {
  local g="$RID-k" n landed=0 at=0
  for n in k1 k2 k3; do so_start $n "$g" "$g-"; done
  if mid_run k2 "$KILL_AT" 60 && running k1 && running k3; then
    kill -KILL "${PID[k2]}"
    landed=1 at=$(lines k2)
    echo "$(date -u +%T.%3N) SIGKILL k2 after $at lines (k1 $(lines k1), k3 $(lines k3))"
  fi
  expect "(b1) the SIGKILL landed mid-run (k1, k2 and k3 running)" test $landed = 1
  expect "(b1) k2 was writing documents when it was killed ($at lines)" test "$at" -gt 0
  so_wait 10 k2
  so_start k2b "$g" "$g-"
  so_wait "$SO_TIMEOUT" k1 k2b k3
  for n in k1 k2b k3; do expect "(b1) $n exits 0" exited $n 0; done
  compare_run b1 "(b1) SIGKILL + restart" "$g-" k1 k2 k2b k3
}

# --- (b2) a 4th process joins mid-run -----------------------------------------------------------
case_b2() {
  local g="$RID-j" n landed=0 at=0
  for n in j1 j2 j3; do so_start $n "$g" "$g-"; done
  if mid_run j1 "$KILL_AT" 60 && running j2 && running j3; then
    landed=1 at=$(lines j1)
    so_start j4 "$g" "$g-"
  fi
  expect "(b2) the 4th process joined mid-run (j1..j3 running)" test $landed = 1
  expect "(b2) j1 was writing documents when the 4th joined ($at lines)" test "$at" -gt 0
  [ $landed = 1 ] || so_start j4 "$g" "$g-"
  so_wait "$SO_TIMEOUT" j1 j2 j3 j4
  for n in j1 j2 j3 j4; do expect "(b2) $n exits 0" exited $n 0; done
  expect "(b2) the 4th process was assigned partitions of the topic" grep -q '\[clicks\] assigned [1-9]' "$D/j4.log"
  compare_run b2 "(b2) 4th process joins" "$g-" j1 j2 j3 j4
}

# --- (c) SIGTERM hands the partitions over -------------------------------------------------------
case_c() {
  local g="$RID-t" n landed=0 at=0 t0 ms
  for n in t1 t2 t3; do so_start $n "$g" "$g-"; done
  if mid_run t2 "$KILL_AT" 60 && running t1 && running t3; then
    t0=$(now_ms)
    kill -TERM "${PID[t2]}"
    landed=1 at=$(lines t2)
    echo "$(date -u +%T.%3N) SIGTERM t2 after $at lines (t1 $(lines t1), t3 $(lines t3))"
  fi
  expect "(c) the SIGTERM landed mid-run (t1, t2 and t3 running)" test $landed = 1
  expect "(c) t2 was writing documents when it was stopped ($at lines)" test "$at" -gt 0
  so_wait 40 t2
  if [ $landed = 1 ]; then
    ms=$(($(now_ms) - t0))
    expect "(c) t2 stopped by SIGTERM exits 0 (in ${ms} ms; shutdown.timeout is 30 s)" exited t2 0
    expect "(c) t2 printed its summary" grep -q "summary after" "$D/t2.log"
  fi
  so_wait "$SO_TIMEOUT" t1 t3
  for n in t1 t3; do expect "(c) $n exits 0" exited $n 0; done
  if [ $landed = 1 ]; then
    expect "(c) the survivors were assigned partitions after the stop (t2's partitions moved)" \
      either assigned_after t1 "$t0" -- assigned_after t3 "$t0"
  fi
  compare_run c "(c) SIGTERM hand-over" "$g-" t1 t2 t3
}

# --- (d1) the internal topic deleted mid-run ------------------------------------------------------
case_d1() {
  local g="$RID-d" n topic seen=0 deleted=0 deadline
  topic="$g.$TUMBLE.partials"
  # a third of the others' rate: the run lasts ~30 s, so the deletion (two JVM tool
  # runs after the processes are mid-run, ~6 s here, more on a slow CI machine)
  # lands well before they could finish (at the default rate they end after ~10 s)
  for n in d1 d2; do so_start $n "$g" "$g-" RATE_LIMIT=$((SO_RATE / 3)); done
  if mid_run d1 "$KILL_AT" 60 && mid_run d2 "$KILL_AT" 30; then
    deadline=$((SECONDS + 15))
    while [ $SECONDS -lt $deadline ] && running d1 && running d2; do
      topic_offsets "$topic" >/dev/null && { seen=1; break; }
      sleep 0.5
    done
  fi
  expect "(d1) mid-run (d1: $(lines d1) lines, d2: $(lines d2)), the internal topic $topic exists" test $seen = 1
  if [ $seen = 1 ] && running d1 && running d2; then
    echo "$(date -u +%T.%3N) deleting $topic (d1 $(lines d1) lines, d2 $(lines d2))"
    topic_delete "$topic" && deleted=1
  fi
  expect "(d1) $topic deleted while both processes ran" test $deleted = 1
  so_wait "$SO_TIMEOUT" d1 d2
  if [ $deleted = 1 ]; then
    for n in d1 d2; do
      expect "(d1) $n stops with exit 1 after the deletion" exited $n 1
      expect "(d1) $n logs an ERROR line naming $topic" error_names $n "$topic"
    done
  fi
  grep -h -F "$topic" "$D/d1.log" "$D/d2.log" | grep -E ' (ERROR|WARN) ' | head -4 || true
  compare_run d1 "(d1) internal topic deleted" "$g-" --allow-missing d1 d2
}

# --- (d2) the internal topic exists with the wrong partition count ----------------------------------
case_d2() {
  local g="$RID-w" n topic
  topic="$g.$TUMBLE.partials"
  expect "(d2) $topic pre-created with 4 partitions" topic_create "$topic" 4
  for n in w1 w2; do so_start $n "$g" "$g-"; done
  so_wait "$SO_TIMEOUT" w1 w2
  for n in w1 w2; do
    expect "(d2) $n stops with exit 1 (internal topic with 4 partitions, source has $SO_PARTITIONS)" exited $n 1
    expect "(d2) $n logs an ERROR line naming $topic" error_names $n "$topic"
  done
  grep -h -F "$topic" "$D/w1.log" "$D/w2.log" | grep -E ' (ERROR|WARN) ' | head -2 || true
  compare_run d2 "(d2) internal topic with 4 partitions" "$g-" --allow-missing w1 w2
}

# --- (d3) the internal topic holds messages that are not partials -------------------------------------
case_d3() {
  local g="$RID-g" n topic put="$BUILD/tests/tools/kafka_put" ok
  topic="$g.$TUMBLE.partials"
  expect "(d3) $topic pre-created with $SO_PARTITIONS partitions" topic_create "$topic" "$SO_PARTITIONS"
  if [ ! -x "$put" ]; then
    expect "(d3) $put exists (make BUILD=$BUILD integration-test builds it)" false
    return
  fi
  # keys spread over the partitions; values: garbage, an empty value, a Confluent-framed
  # header with nothing behind it, bytes that look like text
  for k in $(seq 0 15); do
    printf '%s %s\n' "$(printf 'junk-%d' "$k" | od -An -tx1 | tr -d ' \n')" \
      "$(case $((k % 4)) in 0) echo ffffffffffffffff ;; 1) echo 00 ;; 2) echo 0000000001 ;; 3) printf 'not a partial %d' "$k" | od -An -tx1 | tr -d ' \n' ;; esac)"
  done > "$D/junk.hex"
  expect "(d3) 16 messages that are not partials put into $topic" bash -c "'$put' '$BOOT' '$topic' < '$D/junk.hex' > '$D/junk.out' 2>&1"
  for n in g1 g2; do so_start $n "$g" "$g-"; done
  so_wait "$SO_TIMEOUT" g1 g2
  grep -h -F "$topic" "$D/g1.log" "$D/g2.log" | grep -E ' (ERROR|WARN) ' | head -4 || true
  if exited g1 1 && exited g2 1; then
    echo "(d3) both processes stopped with exit 1"
    for n in g1 g2; do expect "(d3) $n (exit 1) logs an ERROR line naming $topic" error_names $n "$topic"; done
    compare_run d3 "(d3) unreadable internal topic, stopped" "$g-" --allow-missing g1 g2
  elif exited g1 0 && exited g2 0; then
    echo "(d3) both processes finished with exit 0: they must have set the bad messages aside"
    for n in g1 g2; do expect "(d3) $n (exit 0) logs a WARN or ERROR line naming $topic" log_names $n "$topic"; done
    compare_run d3 "(d3) unreadable internal topic, skipped" "$g-" g1 g2
  else
    expect "(d3) both processes stop with exit 1, or both finish with exit 0 (got ${RC[g1]} and ${RC[g2]})" false
    compare_run d3 "(d3) unreadable internal topic" "$g-" --allow-missing g1 g2
  fi
}

# the reference always runs (every comparison needs it)
timed_case case_ref
for c in a a2 b1 b2 c d1 d2 d3; do
  want_case "$c" || continue
  if [ $((SECONDS - t_all)) -ge "$SO_BUDGET" ]; then
    expect "case ($c) not run: the test's time budget (SCALE_OUT_BUDGET=$SO_BUDGET s) is spent" false
    continue
  fi
  timed_case "case_$c"
done
echo "== scale_out took $((SECONDS - t_all)) s"
so_finish
