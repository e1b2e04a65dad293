#!/usr/bin/env bash
# scripts/kafka.sh - fetch and run a real Apache Kafka broker for development
# and tests: one KRaft node (combined broker + controller) on loopback.
#
#   scripts/kafka.sh fetch                      download the jars once (mvn)
#   scripts/kafka.sh start                      format storage, start, wait until healthy
#   scripts/kafka.sh stop                       SIGTERM, wait, SIGKILL if needed
#   scripts/kafka.sh restart                    stop + start
#   scripts/kafka.sh status                     exit 0 iff running and answering metadata
#   scripts/kafka.sh logs [-f]                  show (or follow) the broker log
#   scripts/kafka.sh topic-create NAME [PARTITIONS]
#   scripts/kafka.sh topics                     list topics
#   scripts/kafka.sh produce TOPIC              lines of stdin -> records (key:value with -k)
#   scripts/kafka.sh consume TOPIC [COUNT]      print records from the beginning
#   scripts/kafka.sh tool CLASS [ARGS...]       run any Kafka tool class on the classpath
#   scripts/kafka.sh classpath                  print the broker/tools classpath
#
# Environment (all optional):
#   KAFKA_VERSION          org.apache.kafka:kafka_2.13 version (default 4.1.1)
#   KAFKA_PORT             client listener port on 127.0.0.1 (default 9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller port on 127.0.0.1 (default KAFKA_PORT+1)
#   KAFKA_KEEP_DATA=1      keep the log dirs on start (default: wiped, clean broker)
#   KAFKA_HEAP_OPTS        broker heap (default "-Xms256m -Xmx1g")
#   KAFKA_START_TIMEOUT    seconds to wait for a healthy broker (default 120)
#   KAFKA_JAVA_HOME        JDK to use (else JAVA_HOME, java on PATH, /usr/lib/jvm); Java 17+
#   STREAMHOST_CACHE       cache root (default <repo>/.cache)
#
# Secured mode (docs/security.md): KAFKA_SECURITY=scram-tls runs a second,
# separate broker (port KAFKA_SECURE_PORT, default 9094, controller +1, own
# run dir) beside the plain one:
# a SASL_SSL listener (TLS from a CA made at start with openssl, broker
# certificate for localhost and 127.0.0.1), SCRAM-SHA-512 users created when
# the storage is formatted (admin = super user, analytics, generator; random
# passwords in <run dir>/credentials, mode 600), the standard authorizer and
# these ACLs, nothing else:
#   generator  Write on topic KAFKA_SECURE_TOPIC
#   analytics  Read on topic KAFKA_SECURE_TOPIC and on groups prefixed
#              KAFKA_SECURE_GROUP; Write on topic KAFKA_SECURE_DLQ; Read, Write,
#              Create on topics prefixed "KAFKA_SECURE_GROUP." (the internal
#              exchange topics <group>.<transform>.partials)
#   KAFKA_SECURE_TOPIC (default clickstream), KAFKA_SECURE_GROUP (default
#   streamhost-clickstream), KAFKA_SECURE_DLQ (default <group>.dead-letters)
# `KAFKA_SECURITY=scram-tls scripts/kafka.sh info` prints the CA file, the
# credentials file and a second CA (other-ca.pem, signed nothing) for tests.
# The tool commands (topics, topic-create, produce, consume) run as admin.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
SCALA_VERSION="2.13"
# log4j-core comes with kafka_2.13; Kafka logs through slf4j 1.7, so the broker
# needs the log4j2 binding for slf4j 1.x (the Kafka tarball ships it in libs/).
LOG4J_SLF4J_VERSION="${KAFKA_LOG4J_SLF4J_VERSION:-2.24.3}"
KAFKA_HOST="127.0.0.1"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}"
# A fixed cluster id (base64url of "streamhost-dev-1"): the data dir is ours alone.
KAFKA_CLUSTER_ID="c3RyZWFtaG9zdC1kZXYtMQ"

KAFKA_SECURITY="${KAFKA_SECURITY:-plain}"
case "$KAFKA_SECURITY" in
plain) ;;
scram-tls)
    KAFKA_PORT="${KAFKA_SECURE_PORT:-9094}" # not KAFKA_PORT: that one names the plain broker
    KAFKA_CONTROLLER_PORT="${KAFKA_SECURE_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
    KAFKA_CLUSTER_ID="c3RyZWFtaG9zdC1zZWMtMQ" # "streamhost-sec-1"
    KAFKA_SECURE_TOPIC="${KAFKA_SECURE_TOPIC:-clickstream}"
    KAFKA_SECURE_GROUP="${KAFKA_SECURE_GROUP:-streamhost-clickstream}"
    KAFKA_SECURE_DLQ="${KAFKA_SECURE_DLQ:-$KAFKA_SECURE_GROUP.dead-letters}"
    ;;
*) die "KAFKA_SECURITY=$KAFKA_SECURITY: use plain (default) or scram-tls" ;;
esac

KAFKA_DIST="$SH_CACHE/kafka/$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_DIST/libs"
KRUN="$SH_RUN/kafka"
[ "$KAFKA_SECURITY" = plain ] || KRUN="$SH_RUN/kafka-secure-$KAFKA_PORT"
KDATA="$KRUN/data"
KPID="$KRUN/kafka.pid"
KLOG="$KRUN/kafka.log"
KMARK="kafka.Kafka $KRUN/server.properties" # in the broker's command line
BOOTSTRAP="$KAFKA_HOST:$KAFKA_PORT"

cmd_fetch() {
    if [ -f "$KAFKA_DIST/.complete" ]; then
        return 0
    fi
    local t0 stage
    t0="$(now_ms)"
    log "fetching Kafka $KAFKA_VERSION (kafka_$SCALA_VERSION + kafka-tools + runtime deps) with mvn"
    mkdir -p "$SH_CACHE/kafka"
    rm -rf "$SH_CACHE/kafka/.stage-"* # leftovers of failed fetches
    stage="$SH_CACHE/kafka/.stage-$KAFKA_VERSION.$$"
    mvn_copy_deps "$stage" "$stage/libs" \
        "<dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_$SCALA_VERSION</artifactId><version>$KAFKA_VERSION</version></dependency>" \
        "<dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>" \
        "<dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_SLF4J_VERSION</version></dependency>"
    [ -f "$stage/libs/kafka_$SCALA_VERSION-$KAFKA_VERSION.jar" ] ||
        die "mvn finished but kafka_$SCALA_VERSION-$KAFKA_VERSION.jar is missing (see $stage/mvn.log)"
    rm -rf "$KAFKA_DIST"
    mv "$stage" "$KAFKA_DIST"
    touch "$KAFKA_DIST/.complete"
    log "fetched $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars into $KAFKA_LIBS in $(elapsed "$t0")"
}

kafka_java() {
    local j
    j="$(find_java 17 999 "${KAFKA_JAVA_HOME:-}")" ||
        die "no Java 17+ found (set KAFKA_JAVA_HOME, or: apt-get install openjdk-17-jre-headless)"
    printf '%s\n' "$j"
}

write_configs() {
    mkdir -p "$KRUN"
    cat >"$KRUN/server.properties" <<EOF
# generated by scripts/kafka.sh on each start; edit the script, not this file
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KDATA
num.partitions=4
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# no time-based retention: tests and benchmarks write events with simulated
# (past) timestamps, which a 7-day retention would delete at the next check
log.retention.ms=-1
log.segment.bytes=104857600
num.network.threads=2
num.io.threads=4
EOF
    cat >"$KRUN/log4j2.properties" <<'EOF'
# broker logging: everything to stdout, which scripts/kafka.sh sends to kafka.log
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.zk.name = org.apache.kafka.clients.NetworkClient
logger.zk.level = WARN
EOF
    cat >"$KRUN/tools-log4j2.properties" <<'EOF'
# logging of the command-line tools run by scripts/kafka.sh: warnings to stderr
status = error
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
EOF
    cat >"$KRUN/tools.properties" <<'EOF'
request.timeout.ms=5000
default.api.timeout.ms=10000
EOF
}

secure() { [ "$KAFKA_SECURITY" != plain ]; }

# Secured mode: a CA, the broker's certificate signed by it (SAN localhost,
# 127.0.0.1) in a PKCS#12 keystore, and a second CA that signed nothing (for
# tests of an unknown CA).  Made anew on each start.
make_certs() {
    need_cmd openssl "apt-get install openssl"
    local d="$KRUN/tls"
    rm -rf "$d"
    mkdir -p "$d"
    chmod 700 "$d"
    (
        cd "$d"
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=streamhost test CA" \
            -keyout ca.key -out ca.pem
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=streamhost other CA" \
            -keyout other-ca.key -out other-ca.pem
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout broker.key -out broker.csr
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >ext.cnf
        openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
            -extfile ext.cnf -out broker.pem
        openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker \
            -passout "file:$KRUN/keystore.pass" -out broker.p12
        rm -f broker.csr ca.key other-ca.key ca.srl
    ) >"$KRUN/tls.log" 2>&1 || {
        show_log_tail "$KRUN/tls.log"
        die "making the test CA and broker certificate failed (log: $KRUN/tls.log)"
    }
}

# The SCRAM users' passwords: random, made with the storage (kept with
# KAFKA_KEEP_DATA=1), in $KRUN/credentials (USER=PASSWORD lines, mode 600).
make_credentials() {
    if [ "${KAFKA_KEEP_DATA:-0}" = 1 ] && [ -s "$KRUN/credentials" ] && [ -f "$KDATA/meta.properties" ]; then
        return 0
    fi
    (
        umask 077
        for u in admin analytics generator; do
            printf '%s=%s\n' "$u" "$(openssl rand -hex 16)"
        done >"$KRUN/credentials"
        openssl rand -hex 16 >"$KRUN/keystore.pass"
    )
}
password_of() { sed -n "s/^$1=//p" "$KRUN/credentials"; }

write_secure_configs() {
    local admin_pw ks_pw
    admin_pw="$(password_of admin)"
    ks_pw="$(cat "$KRUN/keystore.pass")"
    (
        umask 077
        sed -e '/^listeners=/d' -e '/^advertised.listeners=/d' -e '/^inter.broker.listener.name=/d' \
            -e '/^listener.security.protocol.map=/d' "$KRUN/server.properties" >"$KRUN/server.properties.tmp"
        cat >>"$KRUN/server.properties.tmp" <<EOF
# secured mode (KAFKA_SECURITY=scram-tls): clients only through SASL_SSL with
# SCRAM-SHA-512; the controller listener is loopback-only plaintext (its
# principal, ANONYMOUS, is a super user so that the node can talk to itself)
listeners=SASL_SSL://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=SASL_SSL://$KAFKA_HOST:$KAFKA_PORT
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin_pw";
ssl.keystore.type=PKCS12
ssl.keystore.location=$KRUN/tls/broker.p12
ssl.keystore.password=$ks_pw
ssl.truststore.type=PEM
ssl.truststore.location=$KRUN/tls/ca.pem
ssl.client.auth=none
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin;User:ANONYMOUS
allow.everyone.if.no.acl.found=false
EOF
        mv "$KRUN/server.properties.tmp" "$KRUN/server.properties"
        cat >>"$KRUN/tools.properties" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin_pw";
ssl.truststore.type=PEM
ssl.truststore.location=$KRUN/tls/ca.pem
EOF
    )
}

# --add-scram arguments for the storage format: one per user.
scram_args() {
    local u
    for u in admin analytics generator; do
        printf '%s\n' "--add-scram" "SCRAM-SHA-512=[name=$u,password=$(password_of "$u")]"
    done
}

# The ACLs of the header, through the admin client (idempotent).
make_acls() {
    local t="$KAFKA_SECURE_TOPIC" g="$KAFKA_SECURE_GROUP" d="$KAFKA_SECURE_DLQ"
    : >"$KRUN/acl.log"
    acl --allow-principal User:generator --operation Write --topic "$t" &&
        acl --allow-principal User:analytics --operation Read --topic "$t" &&
        acl --allow-principal User:analytics --operation Read --group "$g" --resource-pattern-type prefixed &&
        acl --allow-principal User:analytics --operation Write --topic "$d" &&
        acl --allow-principal User:analytics --operation Read --operation Write --operation Create \
            --operation Describe --topic "$g." --resource-pattern-type prefixed || {
        show_log_tail "$KRUN/acl.log"
        die "creating the ACLs failed (log: $KRUN/acl.log)"
    }
    log "ACLs: generator writes $t; analytics reads $t and groups $g*, writes $d, owns topics $g.*"
}
acl() {
    TOOL_TIMEOUT=60 run_tool org.apache.kafka.tools.AclCommand --bootstrap-server "$BOOTSTRAP" \
        --command-config "$KRUN/tools.properties" --add --force "$@" >>"$KRUN/acl.log" 2>&1
}

cmd_info() {
    secure || die "info: only in secured mode (KAFKA_SECURITY=scram-tls)"
    [ -f "$KRUN/credentials" ] || die "not started yet (no $KRUN/credentials)"
    printf 'bootstrap=%s\nca=%s\nother_ca=%s\ncredentials=%s\ntopic=%s\ngroup=%s\ndead_letter_topic=%s\n' \
        "$BOOTSTRAP" "$KRUN/tls/ca.pem" "$KRUN/tls/other-ca.pem" "$KRUN/credentials" \
        "$KAFKA_SECURE_TOPIC" "$KAFKA_SECURE_GROUP" "$KAFKA_SECURE_DLQ"
}

# run_tool CLASS ARGS...: a short-lived JVM for Kafka's command-line tools.
# TOOL_TIMEOUT (seconds) bounds it when set.
run_tool() {
    local java cls="$1"
    shift
    cmd_fetch
    [ -f "$KRUN/tools-log4j2.properties" ] || write_configs
    java="$(kafka_java)"
    local -a pre=()
    [ -n "${TOOL_TIMEOUT:-}" ] && pre=(timeout "$TOOL_TIMEOUT")
    "${pre[@]}" "$java" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
        -Dlog4j2.configurationFile="$KRUN/tools-log4j2.properties" \
        -cp "$KAFKA_LIBS/*" "$cls" "$@"
}

# healthy: the port accepts connections and a metadata request (list topics) answers.
healthy() {
    port_open "$KAFKA_HOST" "$KAFKA_PORT" || return 1
    TOOL_TIMEOUT=30 run_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" \
        --command-config "$KRUN/tools.properties" --list >/dev/null 2>&1
}

cmd_status() {
    local pid
    if ! pid="$(pid_alive "$KPID" "$KMARK")"; then
        echo "kafka: not running"
        return 1
    fi
    if healthy; then
        echo "kafka: running (pid $pid) on $BOOTSTRAP, healthy; log: $KLOG"
        return 0
    fi
    echo "kafka: process $pid is alive but $BOOTSTRAP does not answer metadata requests; log: $KLOG"
    return 1
}

cmd_start() {
    local pid java t0
    need_cmd timeout "apt-get install coreutils"
    need_cmd setsid "apt-get install util-linux"
    mkdir -p "$KRUN"
    exec 9>"$KRUN/.lock"
    flock -w 300 9 || die "another scripts/kafka.sh start is running (lock $KRUN/.lock)"

    if pid="$(pid_alive "$KPID" "$KMARK")"; then
        if healthy; then
            log "already running (pid $pid) on $BOOTSTRAP"
            return 0
        fi
        log "process $pid is alive but not healthy yet; waiting"
    else
        rm -f "$KPID"
        if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
            die "port $KAFKA_PORT is already in use by another process (not ours); set KAFKA_PORT"
        fi
        if port_open "$KAFKA_HOST" "$KAFKA_CONTROLLER_PORT"; then
            die "controller port $KAFKA_CONTROLLER_PORT is already in use; set KAFKA_CONTROLLER_PORT"
        fi
        cmd_fetch
        java="$(kafka_java)"
        write_configs
        local -a scram=()
        if secure; then
            make_credentials
            make_certs
            write_secure_configs
            mapfile -t scram < <(scram_args)
        fi
        if [ "${KAFKA_KEEP_DATA:-0}" != "1" ]; then
            rm -rf "$KDATA"
        fi
        mkdir -p "$KDATA"
        if [ ! -f "$KDATA/meta.properties" ]; then
            if ! "$java" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
                -Dlog4j2.configurationFile="$KRUN/tools-log4j2.properties" \
                -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format \
                -t "$KAFKA_CLUSTER_ID" -c "$KRUN/server.properties" --ignore-formatted "${scram[@]}" \
                >"$KRUN/format.log" 2>&1; then
                show_log_tail "$KRUN/format.log"
                die "formatting the KRaft storage failed (log: $KRUN/format.log)"
            fi
        fi
        [ -f "$KLOG" ] && mv -f "$KLOG" "$KLOG.1"
        t0="$(now_ms)"
        # setsid: the broker outlives this shell and its terminal; fd 9 (the lock)
        # must not leak into it.
        # shellcheck disable=SC2086
        (
            cd "$KRUN"
            exec 9>&-
            setsid "$java" $KAFKA_HEAP_OPTS -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
                -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
                -Djava.awt.headless=true \
                -Dlog4j2.configurationFile="$KRUN/log4j2.properties" \
                -cp "$KAFKA_LIBS/*" kafka.Kafka "$KRUN/server.properties" \
                >"$KLOG" 2>&1 </dev/null &
            echo $! >"$KPID"
        )
        pid="$(cat "$KPID")"
        log "started Kafka $KAFKA_VERSION (pid $pid), waiting for $BOOTSTRAP; log: $KLOG"
    fi

    t0="${t0:-$(now_ms)}"
    local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if ! pid_alive "$KPID" "$KMARK" >/dev/null; then
            show_log_tail "$KLOG"
            die "Kafka exited during startup; log: $KLOG"
        fi
        if port_open "$KAFKA_HOST" "$KAFKA_PORT" && healthy; then
            log "Kafka is up on $BOOTSTRAP (controller $KAFKA_HOST:$KAFKA_CONTROLLER_PORT) after $(elapsed "$t0")"
            if secure; then
                make_acls
                log "secured: SASL_SSL + SCRAM-SHA-512 on $BOOTSTRAP; CA $KRUN/tls/ca.pem; passwords in $KRUN/credentials"
            fi
            return 0
        fi
        sleep 0.5
    done
    show_log_tail "$KLOG"
    die "Kafka did not become healthy within ${KAFKA_START_TIMEOUT}s (still running as pid $(cat "$KPID"); log: $KLOG)"
}

cmd_stop() {
    stop_pid "$KPID" kafka "$KMARK" "${KAFKA_STOP_TIMEOUT:-30}"
}

cmd_logs() {
    [ -f "$KLOG" ] || die "no log yet at $KLOG"
    if [ "${1:-}" = "-f" ]; then
        exec tail -n 100 -F "$KLOG"
    fi
    cat "$KLOG"
}

cmd_topic_create() {
    [ $# -ge 1 ] || die "usage: kafka.sh topic-create NAME [PARTITIONS] [REPLICATION]"
    run_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" \
        --command-config "$KRUN/tools.properties" --create --if-not-exists \
        --topic "$1" --partitions "${2:-4}" --replication-factor "${3:-1}"
}

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

main() {
    local cmd="${1:-}"
    [ $# -gt 0 ] && shift
    case "$cmd" in
    fetch) cmd_fetch ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart) cmd_stop && cmd_start ;;
    status) cmd_status ;;
    logs) cmd_logs "$@" ;;
    topic-create) cmd_topic_create "$@" ;;
    topics)
        run_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" \
            --command-config "$KRUN/tools.properties" --list
        ;;
    produce)
        [ $# -ge 1 ] || die "usage: kafka.sh produce TOPIC [-k]   (stdin lines; -k: key:value)"
        local topic="$1"
        shift
        local -a pc=()
        secure && pc=(--producer.config "$KRUN/tools.properties")
        if [ "${1:-}" = "-k" ]; then
            run_tool org.apache.kafka.tools.ConsoleProducer --bootstrap-server "$BOOTSTRAP" \
                "${pc[@]}" --topic "$topic" --property parse.key=true --property key.separator=:
        else
            run_tool org.apache.kafka.tools.ConsoleProducer --bootstrap-server "$BOOTSTRAP" "${pc[@]}" --topic "$topic"
        fi
        ;;
    consume)
        [ $# -ge 1 ] || die "usage: kafka.sh consume TOPIC [MAX_MESSAGES]"
        local -a extra=()
        [ -n "${2:-}" ] && extra=(--max-messages "$2")
        secure && extra+=(--consumer.config "$KRUN/tools.properties")
        run_tool org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "$BOOTSTRAP" \
            --topic "$1" --from-beginning --timeout-ms "${KAFKA_CONSUME_TIMEOUT_MS:-10000}" \
            --property print.key=true "${extra[@]}"
        ;;
    tool)
        [ $# -ge 1 ] || die "usage: kafka.sh tool CLASS [ARGS...]"
        run_tool "$@"
        ;;
    info) cmd_info ;;
    classpath)
        cmd_fetch
        echo "$KAFKA_LIBS/*"
        ;;
    -h | --help | help) usage ;;
    *)
        usage >&2
        exit 2
        ;;
    esac
}

main "$@"
