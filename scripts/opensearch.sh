#!/usr/bin/env bash
# scripts/opensearch.sh - fetch and run a real OpenSearch node for development
# and tests: one node, security off, HTTP on loopback.
#
#   scripts/opensearch.sh fetch       download the distribution once (mvn)
#   scripts/opensearch.sh start       start and wait for cluster health yellow
#   scripts/opensearch.sh stop        SIGTERM, wait, SIGKILL if needed
#   scripts/opensearch.sh restart     stop + start
#   scripts/opensearch.sh status      exit 0 iff running and answering _cluster/health
#   scripts/opensearch.sh logs [-f]   show (or follow) the node's log
#   scripts/opensearch.sh url         print the base URL (http://127.0.0.1:9200)
#
# The distribution is OpenSearch's own test distribution from Maven Central,
# org.opensearch.distribution.integ-test-zip:opensearch:<version>:zip: the
# server with the transport-netty4 module and no plugins (so no security
# plugin).  The script adds the modules named in OPENSEARCH_MODULES, built from
# their Maven Central jars (org.opensearch.plugin:<artifact>:<version>).
#
# OpenSearch refuses to run as root.  When this script runs as root (CI does),
# it creates a system user `streamhost` (no login, no home) if missing and runs
# the node as that user; only the node's run dir (data, logs, config) is
# chowned to it.  The distribution itself stays read-only.
#
# Environment (all optional):
#   OPENSEARCH_VERSION         distribution version (default 2.19.6; 2.19.x runs on Java 17)
#   OPENSEARCH_PORT            HTTP port on 127.0.0.1 (default 9200)
#   OPENSEARCH_TRANSPORT_PORT  transport port on 127.0.0.1 (default OPENSEARCH_PORT+100)
#   OPENSEARCH_KEEP_DATA=1     keep the data dir on start (default: wiped, clean node)
#   OPENSEARCH_HEAP_MIN / OPENSEARCH_HEAP_MAX   heap (default 512m / 1g)
#   OPENSEARCH_START_TIMEOUT   seconds to wait for health yellow (default 180)
#   OPENSEARCH_USER            user to run as when started by root (default streamhost)
#   OPENSEARCH_MODULES         extra modules (default "analysis-common lang-painless
#                              mapper-extras reindex"; "" for the bare test zip)
#   OPENSEARCH_JAVA_HOME       JDK to use (else JAVA_HOME, java on PATH, /usr/lib/jvm);
#                              2.19.x needs Java 17..23 (it relies on the SecurityManager)
#   OPENSEARCH_JAVA_OPTS       extra JVM options, appended
#   STREAMHOST_CACHE           cache root (default <repo>/.cache)
#
# Secured mode (OPENSEARCH_SECURITY=1, or scripts/opensearch-secure.sh): a
# second, separate node that runs beside the plain one (its own distribution
# copy, run dir, ports and pid file; the plain node is never touched) with the
# security plugin org.opensearch.plugin:opensearch-security:<version>.0 (zip,
# Maven Central; installed with bin/opensearch-plugin install --batch):
#   - HTTPS and transport TLS with a CA and a node certificate made with
#     openssl at each start (subjectAltName DNS:localhost only, so
#     https://127.0.0.1:PORT is a host name mismatch);
#   - internal users (bcrypt hashes from the plugin's own Hasher, passwords
#     drawn at each start): admin (all_access); writer, whose role may only
#     write the three clickstream indices named <prefix>*user_session_details,
#     <prefix>*user_session_counts and <prefix>*departments_count and put index
#     templates; reader, who may only read them;
#   - the security index created from those files at first start
#     (plugins.security.allow_default_init_securityindex).
#   scripts/opensearch.sh env    (secured mode) shell assignments of the url,
#                                the CA file and each user's name and password:
#                                eval "$(scripts/opensearch-secure.sh env)"
# Defaults in secured mode: OPENSEARCH_VERSION 2.19.4 (the newest 2.19 whose
# security plugin is on Maven Central), OPENSEARCH_PORT 9250 (transport 9350),
# OPENSEARCH_SECURE_PREFIX "secured-" (the index name prefix the writer's role
# allows), cache dirs opensearch-secure/ and run/opensearch-secure/.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

OS_SECURE=0
[ "${OPENSEARCH_SECURITY:-0}" = 1 ] && OS_SECURE=1
if [ "$OS_SECURE" = 1 ]; then
    OPENSEARCH_VERSION="${OPENSEARCH_VERSION:-2.19.4}"
    OPENSEARCH_PORT="${OPENSEARCH_PORT:-9250}"
    OPENSEARCH_SECURE_PREFIX="${OPENSEARCH_SECURE_PREFIX:-secured-}"
    OS_NAME=opensearch-secure
else
    OS_NAME=opensearch
fi
OPENSEARCH_VERSION="${OPENSEARCH_VERSION:-2.19.6}"
OS_HOST="127.0.0.1"
OPENSEARCH_PORT="${OPENSEARCH_PORT:-9200}"
OPENSEARCH_TRANSPORT_PORT="${OPENSEARCH_TRANSPORT_PORT:-$((OPENSEARCH_PORT + 100))}"
OPENSEARCH_HEAP_MIN="${OPENSEARCH_HEAP_MIN:-512m}"
OPENSEARCH_HEAP_MAX="${OPENSEARCH_HEAP_MAX:-1g}"
OPENSEARCH_START_TIMEOUT="${OPENSEARCH_START_TIMEOUT:-180}"
OPENSEARCH_USER="${OPENSEARCH_USER:-streamhost}"
OPENSEARCH_MODULES="${OPENSEARCH_MODULES-analysis-common lang-painless mapper-extras reindex}"

# set_os_paths BASE: the distribution and the run dir live under BASE
# (normally the cache root; see resolve_os_base).
set_os_paths() {
    OS_BASE="$1"
    OS_DIST="$OS_BASE/$OS_NAME/$OPENSEARCH_VERSION"
    OS_HOME="$OS_DIST/opensearch-$OPENSEARCH_VERSION"
    ORUN="$OS_BASE/run/$OS_NAME"
    OCONF="$ORUN/config"
    ODATA="$ORUN/data"
    OLOGS="$ORUN/logs"
    OPID="$ORUN/opensearch.pid"
    OLOG="$ORUN/opensearch.log" # the node's stdout/stderr (everything it logs)
    # in the command line of the launcher script and then of the JVM it execs
    OMARK="$OS_BASE/$OS_NAME/"
    OCERTS="$ORUN/certs"           # secured mode: CA and node certificate (ca.pem for clients)
    OCREDS="$ORUN/credentials.env" # secured mode: the users' passwords (mode 600)
}
set_os_paths "$SH_CACHE"
if [ "$OS_SECURE" = 1 ]; then
    OS_URL="https://localhost:$OPENSEARCH_PORT"
else
    OS_URL="http://$OS_HOST:$OPENSEARCH_PORT"
fi

# Extra modules of the full distribution that the test zip lacks, assembled
# from their Maven Central jars (the module zips are not published there):
#   name | artifact (org.opensearch.plugin) | plugin class | description
OS_MODULE_TABLE='
analysis-common|analysis-common|org.opensearch.analysis.common.CommonAnalysisPlugin|Adds "built in" analyzers to OpenSearch.
lang-painless|lang-painless|org.opensearch.painless.PainlessPlugin|An easy, safe and fast scripting language for OpenSearch
mapper-extras|mapper-extras-client|org.opensearch.index.mapper.MapperExtrasPlugin|Adds advanced field mappers
reindex|reindex-client|org.opensearch.index.reindex.ReindexPlugin|The Reindex module adds APIs to reindex from one index to another or update documents in place.
'

fetch_dist() {
    if [ -f "$OS_DIST/.complete" ]; then
        return 0
    fi
    local t0 stage coord
    t0="$(now_ms)"
    coord="org.opensearch.distribution.integ-test-zip:opensearch:$OPENSEARCH_VERSION:zip"
    log "fetching OpenSearch $OPENSEARCH_VERSION ($coord) with mvn"
    mkdir -p "$OS_BASE/$OS_NAME"
    rm -rf "$OS_BASE/$OS_NAME/.stage-"* # leftovers of failed fetches
    stage="$OS_BASE/$OS_NAME/.stage-$OPENSEARCH_VERSION.$$"
    mvn_copy_artifact "$stage" "$stage/dl" "$coord"
    local zip="$stage/dl/opensearch-$OPENSEARCH_VERSION.zip"
    [ -f "$zip" ] || die "mvn finished but $zip is missing (see $stage/mvn.log)"
    if command -v unzip >/dev/null 2>&1; then
        unzip -q "$zip" -d "$stage"
    elif command -v python3 >/dev/null 2>&1; then
        python3 -m zipfile -e "$zip" "$stage"
    else
        die "unzip not found: apt-get install unzip"
    fi
    [ -f "$stage/opensearch-$OPENSEARCH_VERSION/lib/opensearch-$OPENSEARCH_VERSION.jar" ] ||
        die "unexpected layout in $zip"
    chmod -R a+rX "$stage/opensearch-$OPENSEARCH_VERSION"
    chmod a+rx "$stage/opensearch-$OPENSEARCH_VERSION"/bin/*
    rm -rf "$zip" "$stage/dl"
    rm -rf "$OS_DIST"
    mv "$stage" "$OS_DIST"
    touch "$OS_DIST/.complete"
    log "fetched OpenSearch $OPENSEARCH_VERSION into $OS_HOME in $(elapsed "$t0")"
}

# jar_base FILE.jar -> artifact name without version ("httpcore-nio-4.4.16.jar" -> "httpcore-nio")
jar_base() {
    basename "$1" .jar | sed -E 's/-[0-9][0-9A-Za-z.+_-]*$//'
}

# install_module NAME: builds modules/NAME from the Maven jars: the module jar
# and its runtime deps minus what the server's lib/ (or an extended module)
# already has, plus plugin-descriptor.properties and the security policy.
install_module() {
    local name="$1" line artifact class desc stage jar base extended=""
    line="$(printf '%s\n' "$OS_MODULE_TABLE" | grep "^$name|")" || die "unknown OpenSearch module '$name'"
    IFS='|' read -r _ artifact class desc <<<"$line"
    rm -rf "$OS_DIST/.module-$name."* # leftovers of failed fetches
    stage="$OS_DIST/.module-$name.$$"
    mvn_copy_deps "$stage" "$stage/jars" \
        "<dependency><groupId>org.opensearch.plugin</groupId><artifactId>$artifact</artifactId><version>$OPENSEARCH_VERSION</version></dependency>"
    if [ "$name" = "analysis-common" ] && [ -d "$OS_HOME/modules/lang-painless" ]; then
        extended="lang-painless" # its painless whitelist extension
    fi
    declare -A have=()
    for jar in "$OS_HOME"/lib/*.jar ${extended:+"$OS_HOME/modules/$extended"/*.jar}; do
        have["$(jar_base "$jar")"]=1
    done
    mkdir -p "$stage/module"
    for jar in "$stage"/jars/*.jar; do
        base="$(jar_base "$jar")"
        [ -n "${have[$base]:-}" ] && continue
        cp "$jar" "$stage/module/"
    done
    cat >"$stage/module/plugin-descriptor.properties" <<EOF
# written by scripts/opensearch.sh from $artifact-$OPENSEARCH_VERSION.jar (Maven Central)
description=$desc
version=$OPENSEARCH_VERSION
name=$name
classname=$class
java.version=11
opensearch.version=$OPENSEARCH_VERSION
custom.foldername=
extended.plugins=$extended
has.native.controller=false
EOF
    case "$name" in
    lang-painless)
        cat >"$stage/module/plugin-security.policy" <<'EOF'
grant {
  // needed to generate runtime classes
  permission java.lang.RuntimePermission "createClassLoader";
  // needed to find the classloader to load whitelisted classes from
  permission java.lang.RuntimePermission "getClassLoader";
};
EOF
        ;;
    reindex)
        cat >"$stage/module/plugin-security.policy" <<'EOF'
grant {
  // reindex from remote opens socket connections using the rest client
  permission java.net.SocketPermission "*", "connect";
};
grant codeBase "${codebase.opensearch-rest-client}" {
  permission java.net.NetPermission "getProxySelector";
};
grant codeBase "${codebase.httpasyncclient}" {
  permission java.net.NetPermission "getProxySelector";
};
EOF
        ;;
    esac
    chmod -R a+rX "$stage/module"
    rm -rf "${OS_HOME:?}/modules/$name"
    mv "$stage/module" "$OS_HOME/modules/$name"
    rm -rf "$stage"
}

# ensure_modules: of the modules in OS_MODULE_TABLE, modules/ holds exactly the
# OPENSEARCH_MODULES ones, next to the test zip's own (transport-netty4) (lang-painless before analysis-common, which extends
# it when both are there).
ensure_modules() {
    local m want=" " t0 added="" known change=""
    known=" $(printf '%s\n' "$OS_MODULE_TABLE" | cut -d'|' -f1 | xargs) "
    for m in $OPENSEARCH_MODULES; do
        case "$known" in *" $m "*) ;; *) die "unknown OpenSearch module '$m' in OPENSEARCH_MODULES (known:$known)" ;; esac
        want="$want$m "
        [ -f "$OS_HOME/modules/$m/plugin-descriptor.properties" ] || change=1
    done
    for m in $known; do
        [ -d "$OS_HOME/modules/$m" ] && case "$want" in *" $m "*) ;; *) change=1 ;; esac
    done
    [ -n "$change" ] || return 0
    if pid_alive "$OPID" "$OMARK" >/dev/null; then
        die "OpenSearch is running: stop it before changing its modules (OPENSEARCH_MODULES=\"$OPENSEARCH_MODULES\")"
    fi
    for m in $known; do
        [ -d "$OS_HOME/modules/$m" ] || continue
        case "$want" in *" $m "*) continue ;; esac
        log "removing module $m (not in OPENSEARCH_MODULES)"
        rm -rf "${OS_HOME:?}/modules/$m"
        # analysis-common extends lang-painless: rebuild it without
        [ "$m" = "lang-painless" ] && rm -rf "$OS_HOME/modules/analysis-common"
    done
    t0="$(now_ms)"
    for m in lang-painless $OPENSEARCH_MODULES; do
        case "$want" in *" $m "*) ;; *) continue ;; esac
        [ -f "$OS_HOME/modules/$m/plugin-descriptor.properties" ] && continue
        log "assembling module $m $OPENSEARCH_VERSION from Maven Central jars"
        install_module "$m"
        added="$added $m"
        # analysis-common extends lang-painless: rebuild it with
        [ "$m" = "lang-painless" ] && rm -rf "$OS_HOME/modules/analysis-common"
    done
    [ -z "$added" ] || log "modules ready ($(cd "$OS_HOME/modules" && echo *)) in $(elapsed "$t0")"
}

# install_security_plugin: secured mode only, into this mode's own copy of
# the distribution.  The plugin's default config files are kept beside it as
# the base of each start's config (security-config/).
install_security_plugin() {
    [ "$OS_SECURE" = 1 ] || return 0
    [ -f "$OS_HOME/plugins/opensearch-security/plugin-descriptor.properties" ] &&
        [ -f "$OS_DIST/security-config/config.yml" ] && return 0
    local coord stage jhome t0
    t0="$(now_ms)"
    coord="org.opensearch.plugin:opensearch-security:$OPENSEARCH_VERSION.0:zip"
    log "fetching the security plugin ($coord) with mvn"
    rm -rf "$OS_DIST/.security-"*
    stage="$OS_DIST/.security-$$"
    mvn_copy_artifact "$stage" "$stage/dl" "$coord"
    jhome="$(java_home_of "$(os_java)")"
    rm -rf "$OS_HOME/plugins/opensearch-security"
    cp -r "$OS_HOME/config" "$stage/config"
    if ! OPENSEARCH_JAVA_HOME="$jhome" OPENSEARCH_PATH_CONF="$stage/config" \
        "$OS_HOME/bin/opensearch-plugin" install --batch \
        "file:$stage/dl/opensearch-security-$OPENSEARCH_VERSION.0.zip" >"$stage/install.log" 2>&1; then
        show_log_tail "$stage/install.log"
        die "bin/opensearch-plugin install of the security plugin failed (log: $stage/install.log)"
    fi
    chmod -R a+rX "$OS_HOME/plugins"
    chmod a+rx "$OS_HOME/plugins/opensearch-security/tools/"*.sh
    rm -rf "$OS_DIST/security-config"
    mv "$stage/config/opensearch-security" "$OS_DIST/security-config"
    chmod -R a+rX "$OS_DIST/security-config"
    rm -rf "$stage"
    log "security plugin $OPENSEARCH_VERSION.0 installed in $(elapsed "$t0")"
}

cmd_fetch() {
    fetch_dist
    ensure_modules
    install_security_plugin
}

os_java() {
    local j
    j="$(find_java 17 23 "${OPENSEARCH_JAVA_HOME:-}")" ||
        die "no Java 17..23 found for OpenSearch $OPENSEARCH_VERSION (set OPENSEARCH_JAVA_HOME, or: apt-get install openjdk-17-jre-headless)"
    printf '%s\n' "$j"
}

write_configs() {
    mkdir -p "$OCONF" "$ODATA" "$OLOGS" "$ORUN/tmp"
    cat >"$OCONF/opensearch.yml" <<EOF
# generated by scripts/opensearch.sh on each start; edit the script, not this file
cluster.name: streamhost-dev
node.name: streamhost-dev-1
# single-node discovery on loopback: development mode, bootstrap checks
# (vm.max_map_count, file descriptors, heap size) are not enforced
discovery.type: single-node
network.host: $OS_HOST
http.port: $OPENSEARCH_PORT
transport.port: $OPENSEARCH_TRANSPORT_PORT
path.data: $ODATA
path.logs: $OLOGS
cluster.routing.allocation.disk.threshold_enabled: false
action.auto_create_index: true
action.destructive_requires_name: false
EOF
    cat >"$OCONF/jvm.options" <<EOF
# generated by scripts/opensearch.sh (the distribution's defaults, smaller heap,
# every path under the run dir)
-Xms$OPENSEARCH_HEAP_MIN
-Xmx$OPENSEARCH_HEAP_MAX
11-:-XX:+UseG1GC
11-:-XX:G1ReservePercent=25
11-:-XX:InitiatingHeapOccupancyPercent=30
-Djava.io.tmpdir=\${OPENSEARCH_TMPDIR}
-XX:ErrorFile=$OLOGS/hs_err_pid%p.log
9-:-Xlog:gc*,gc+age=trace,safepoint:file=$OLOGS/gc.log:utctime,pid,tags:filecount=4,filesize=16m
18-:-Djava.security.manager=allow
20-:--add-modules=jdk.incubator.vector
-Djava.util.concurrent.ForkJoinPool.common.threadFactory=org.opensearch.secure_sm.SecuredForkJoinWorkerThreadFactory
EOF
    cp "$OS_HOME/config/log4j2.properties" "$OCONF/log4j2.properties"
    if [ "$OS_SECURE" = 1 ]; then
        write_security_config
    fi
}

# make_certs: a CA and the node's certificate (DNS:localhost only), each start.
make_certs() {
    need_cmd openssl "apt-get install openssl"
    rm -rf "${OCERTS:?}"
    mkdir -p "$OCERTS"
    (
        cd "$OCERTS"
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days 30 \
            -subj "/O=streamhost/OU=test/CN=streamhost test CA" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
        openssl req -newkey rsa:2048 -nodes -keyout node-key.pem -out node.csr \
            -subj "/O=streamhost/OU=node/CN=localhost"
        printf '%s\n' "subjectAltName=DNS:localhost" "basicConstraints=CA:FALSE" \
            "keyUsage=critical,digitalSignature,keyEncipherment" \
            "extendedKeyUsage=serverAuth,clientAuth" >node.ext
        openssl x509 -req -in node.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
            -out node.pem -days 30 -extfile node.ext
        rm -f node.csr node.ext ca.srl
        chmod 644 ca.pem
    ) >"$ORUN/certs.log" 2>&1 || {
        show_log_tail "$ORUN/certs.log"
        die "openssl could not make the certificates (log: $ORUN/certs.log)"
    }
}

# new_credentials: a password per user, drawn at each start with a clean
# data dir (the security index is made from the files only then).
new_credentials() {
    local u
    (
        umask 077
        {
            echo "# written by scripts/opensearch.sh (secured mode) at start: the users' passwords"
            for u in ADMIN WRITER READER; do
                echo "OPENSEARCH_${u}_PASSWORD=$(openssl rand -hex 12)"
            done
        } >"$OCREDS"
    )
}

# bcrypt_of VAR: the plugin's own Hasher reads the password from the
# environment variable VAR (so it is never on a command line).
bcrypt_of() {
    OPENSEARCH_JAVA_HOME="$OS_JHOME" "$OS_HOME/plugins/opensearch-security/tools/hash.sh" \
        -env "$1" 2>/dev/null | grep '^\$2' | tail -n1
}

write_security_config() {
    local sec="$OCONF/opensearch-security" p="$OPENSEARCH_SECURE_PREFIX" i u h var pats=""
    make_certs
    cp "$OCERTS/ca.pem" "$OCERTS/node.pem" "$OCERTS/node-key.pem" "$OCONF/"
    if [ "${OPENSEARCH_KEEP_DATA:-0}" != 1 ] || [ ! -f "$OCREDS" ]; then
        new_credentials
    fi
    cat >>"$OCONF/opensearch.yml" <<EOF
# secured mode: the security plugin, TLS on HTTP and transport
plugins.security.ssl.transport.pemcert_filepath: node.pem
plugins.security.ssl.transport.pemkey_filepath: node-key.pem
plugins.security.ssl.transport.pemtrustedcas_filepath: ca.pem
plugins.security.ssl.transport.enforce_hostname_verification: false
plugins.security.ssl.http.enabled: true
plugins.security.ssl.http.pemcert_filepath: node.pem
plugins.security.ssl.http.pemkey_filepath: node-key.pem
plugins.security.ssl.http.pemtrustedcas_filepath: ca.pem
plugins.security.allow_default_init_securityindex: true
plugins.security.nodes_dn: ["CN=localhost,OU=node,O=streamhost"]
plugins.security.audit.type: noop
plugins.security.restapi.roles_enabled: ["all_access"]
plugins.security.system_indices.enabled: true
EOF
    cp -r "$OS_DIST/security-config" "$sec"
    for i in user_session_details user_session_counts departments_count; do
        pats="$pats\"$p*$i\", "
    done
    pats="[${pats%, }]"
    cat >"$sec/config.yml" <<'EOF'
# generated by scripts/opensearch.sh (secured mode): HTTP basic auth against
# the internal users, nothing anonymous
_meta:
  type: "config"
  config_version: 2
config:
  dynamic:
    http:
      anonymous_auth_enabled: false
    authc:
      basic_internal_auth_domain:
        http_enabled: true
        transport_enabled: true
        order: 0
        http_authenticator:
          type: basic
          challenge: true
        authentication_backend:
          type: intern
EOF
    cat >"$sec/roles.yml" <<EOF
# generated by scripts/opensearch.sh (secured mode)
_meta:
  type: "roles"
  config_version: 2
# writes the three clickstream indices (and creates them), puts index
# templates; nothing else.  (Template permissions are cluster-wide in the
# security plugin: they cannot be narrowed to template names.)
streamhost_writer:
  cluster_permissions:
    - "indices:data/write/bulk"
    - "indices:admin/index_template/put"
  index_permissions:
    - index_patterns: $pats
      allowed_actions:
        - "indices:data/write/index"
        - "indices:data/write/bulk*"
        - "indices:admin/create"
        - "indices:admin/mapping/put"
# reads them, writes nothing
streamhost_reader:
  cluster_permissions: []
  index_permissions:
    - index_patterns: $pats
      allowed_actions:
        - "read"
EOF
    cat >"$sec/roles_mapping.yml" <<'EOF'
# generated by scripts/opensearch.sh (secured mode)
_meta:
  type: "rolesmapping"
  config_version: 2
all_access:
  users: ["admin"]
streamhost_writer:
  users: ["writer"]
streamhost_reader:
  users: ["reader"]
EOF
    {
        echo "# generated by scripts/opensearch.sh (secured mode); passwords in $OCREDS"
        echo "_meta:"
        echo "  type: \"internalusers\""
        echo "  config_version: 2"
        for u in admin writer reader; do
            var="OPENSEARCH_$(echo "$u" | tr '[:lower:]' '[:upper:]')_PASSWORD"
            # shellcheck disable=SC1090
            h="$(set -a && . "$OCREDS" && bcrypt_of "$var")"
            [ -n "$h" ] || die "the security plugin's tools/hash.sh gave no bcrypt hash for user $u"
            echo "$u:"
            echo "  hash: \"$h\""
            echo "  reserved: false"
        done
    } >"$sec/internal_users.yml"
    chmod 600 "$sec/internal_users.yml" "$OCONF/node-key.pem"
}

# resolve_os_base: as root, the node's user must reach the cache dir.  When a
# parent directory shuts it out (say the repo is cloned under /root), the
# OpenSearch part of the cache moves to /var/tmp/streamhost-<hash of the cache path>.
resolve_os_base() {
    need_user_switch || return 0
    id -u "$OPENSEARCH_USER" >/dev/null 2>&1 || return 0
    mkdir -p "$SH_CACHE"
    if ! as_node_user test -r "$SH_CACHE" -a -x "$SH_CACHE" 2>/dev/null; then
        set_os_paths "/var/tmp/streamhost-$(printf '%s' "$SH_CACHE" | cksum | cut -d' ' -f1)"
        OS_RELOCATED=1
    fi
}
OS_RELOCATED=0

# As root, the node runs as $OPENSEARCH_USER.
need_user_switch() { [ "$(id -u)" = "0" ]; }
ensure_user() {
    need_user_switch || return 0
    if ! id -u "$OPENSEARCH_USER" >/dev/null 2>&1; then
        need_cmd useradd "apt-get install passwd"
        log "running as root: creating system user '$OPENSEARCH_USER' to run OpenSearch (it refuses root)"
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
            --user-group "$OPENSEARCH_USER" 2>/dev/null ||
            useradd --system --no-create-home --shell /usr/sbin/nologin "$OPENSEARCH_USER" ||
            die "could not create user $OPENSEARCH_USER (useradd failed)"
    fi
}
# as_node_user CMD...: as root, run CMD as $OPENSEARCH_USER; otherwise as is.
as_node_user() {
    if need_user_switch; then
        if command -v setpriv >/dev/null 2>&1; then
            setpriv --reuid="$OPENSEARCH_USER" --regid="$(id -g "$OPENSEARCH_USER")" --init-groups -- "$@"
        elif command -v runuser >/dev/null 2>&1; then
            runuser -u "$OPENSEARCH_USER" -- "$@"
        else
            die "setpriv/runuser not found: apt-get install util-linux"
        fi
    else
        "$@"
    fi
}

healthy() {
    if [ "$OS_SECURE" = 1 ]; then
        [ -f "$OCREDS" ] && [ -f "$OCERTS/ca.pem" ] || return 1
        # the admin's password through curl's config on stdin, never on a command line
        (
            # shellcheck disable=SC1090
            . "$OCREDS"
            printf 'user = "admin:%s"\n' "$OPENSEARCH_ADMIN_PASSWORD" |
                curl -fsS -m 5 --config - --cacert "$OCERTS/ca.pem" \
                    "$OS_URL/_cluster/health?wait_for_status=yellow&timeout=3s" 2>/dev/null
        ) | grep -Eq '"status":"(green|yellow)"'
        return
    fi
    curl -fsS -m 5 "$OS_URL/_cluster/health?wait_for_status=yellow&timeout=3s" 2>/dev/null |
        grep -Eq '"status":"(green|yellow)"'
}

# env (secured mode): what a client needs, as shell assignments.
cmd_env() {
    [ "$OS_SECURE" = 1 ] || die "env is for the secured mode (OPENSEARCH_SECURITY=1)"
    [ -f "$OCREDS" ] || die "no credentials yet: start the secured node first"
    # shellcheck disable=SC1090
    . "$OCREDS"
    printf 'OPENSEARCH_SECURE_URL=%q\n' "$OS_URL"
    printf 'OPENSEARCH_SECURE_CA=%q\n' "$OCERTS/ca.pem"
    printf 'OPENSEARCH_SECURE_PREFIX=%q\n' "$OPENSEARCH_SECURE_PREFIX"
    printf 'OPENSEARCH_ADMIN_USER=admin\nOPENSEARCH_ADMIN_PASSWORD=%q\n' "$OPENSEARCH_ADMIN_PASSWORD"
    printf 'OPENSEARCH_WRITER_USER=writer\nOPENSEARCH_WRITER_PASSWORD=%q\n' "$OPENSEARCH_WRITER_PASSWORD"
    printf 'OPENSEARCH_READER_USER=reader\nOPENSEARCH_READER_PASSWORD=%q\n' "$OPENSEARCH_READER_PASSWORD"
}

cmd_status() {
    local pid
    if ! pid="$(pid_alive "$OPID" "$OMARK")"; then
        echo "opensearch: not running"
        return 1
    fi
    if healthy; then
        echo "opensearch: running (pid $pid) on $OS_URL, health yellow or green; log: $OLOG"
        return 0
    fi
    echo "opensearch: process $pid is alive but $OS_URL is not healthy; log: $OLOG"
    return 1
}

cmd_start() {
    local pid java jhome t0
    need_cmd curl "apt-get install curl"
    need_cmd setsid "apt-get install util-linux"
    mkdir -p "$ORUN"
    exec 9>"$ORUN/.lock"
    flock -w 300 9 || die "another scripts/opensearch.sh start is running (lock $ORUN/.lock)"

    if pid="$(pid_alive "$OPID" "$OMARK")"; then
        if healthy; then
            log "already running (pid $pid) on $OS_URL"
            return 0
        fi
        log "process $pid is alive but not healthy yet; waiting"
    else
        rm -f "$OPID"
        if port_open "$OS_HOST" "$OPENSEARCH_PORT"; then
            die "port $OPENSEARCH_PORT is already in use by another process (not ours); set OPENSEARCH_PORT"
        fi
        if port_open "$OS_HOST" "$OPENSEARCH_TRANSPORT_PORT"; then
            die "transport port $OPENSEARCH_TRANSPORT_PORT is already in use; set OPENSEARCH_TRANSPORT_PORT"
        fi
        cmd_fetch
        java="$(os_java)"
        jhome="$(java_home_of "$java")"
        OS_JHOME="$jhome"
        if [ "$OS_RELOCATED" = 1 ]; then
            log "user $OPENSEARCH_USER cannot enter $SH_CACHE, so OpenSearch lives in $OS_BASE"
        fi
        if [ "${OPENSEARCH_KEEP_DATA:-0}" != "1" ]; then
            rm -rf "$ODATA"
        fi
        rm -rf "$ORUN/tmp" "$OCONF"
        write_configs
        if need_user_switch; then
            chown -R "$OPENSEARCH_USER:" "$ORUN"
            as_node_user test -r "$OS_HOME/lib/opensearch-$OPENSEARCH_VERSION.jar" ||
                die "user $OPENSEARCH_USER cannot read $OS_HOME; set STREAMHOST_CACHE to a place it can read"
        fi
        [ -f "$OLOG" ] && mv -f "$OLOG" "$OLOG.1"
        : >"$OLOG"
        if need_user_switch; then chown "$OPENSEARCH_USER:" "$OLOG"; fi
        t0="$(now_ms)"
        # setsid: the node outlives this shell and its terminal; fd 9 (the lock)
        # must not leak into it.  bin/opensearch ends in `exec java`, so $! is the JVM.
        (
            cd "$ORUN"
            exec 9>&-
            export OPENSEARCH_JAVA_HOME="$jhome" OPENSEARCH_PATH_CONF="$OCONF" \
                OPENSEARCH_TMPDIR="$ORUN/tmp" HOME="$ORUN" \
                OPENSEARCH_JAVA_OPTS="${OPENSEARCH_JAVA_OPTS:-}"
            unset JAVA_TOOL_OPTIONS JAVA_OPTS
            if need_user_switch; then
                setsid setpriv --reuid="$OPENSEARCH_USER" --regid="$(id -g "$OPENSEARCH_USER")" \
                    --init-groups -- "$OS_HOME/bin/opensearch" >>"$OLOG" 2>&1 </dev/null &
            else
                setsid "$OS_HOME/bin/opensearch" >>"$OLOG" 2>&1 </dev/null &
            fi
            echo $! >"$OPID"
        )
        pid="$(cat "$OPID")"
        log "started OpenSearch $OPENSEARCH_VERSION (pid $pid$(need_user_switch && echo ", user $OPENSEARCH_USER")), waiting for $OS_URL; log: $OLOG"
    fi

    t0="${t0:-$(now_ms)}"
    local deadline=$((SECONDS + OPENSEARCH_START_TIMEOUT))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if ! pid_alive "$OPID" "$OMARK" >/dev/null; then
            show_log_tail "$OLOG"
            die "OpenSearch exited during startup; log: $OLOG"
        fi
        if healthy; then
            log "OpenSearch is up on $OS_URL (health yellow or green) after $(elapsed "$t0")"
            return 0
        fi
        sleep 1
    done
    show_log_tail "$OLOG"
    die "OpenSearch did not become healthy within ${OPENSEARCH_START_TIMEOUT}s (still running as pid $(cat "$OPID"); log: $OLOG)"
}

cmd_stop() {
    stop_pid "$OPID" "$OS_NAME" "$OMARK" "${OPENSEARCH_STOP_TIMEOUT:-30}"
}

cmd_logs() {
    [ -f "$OLOG" ] || die "no log yet at $OLOG"
    if [ "${1:-}" = "-f" ]; then
        exec tail -n 100 -F "$OLOG"
    fi
    cat "$OLOG"
}

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

main() {
    local cmd="${1:-}"
    [ $# -gt 0 ] && shift
    case "$cmd" in start | restart) ensure_user ;; esac
    resolve_os_base
    case "$cmd" in
    fetch) cmd_fetch ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart) cmd_stop && cmd_start ;;
    status) cmd_status ;;
    logs) cmd_logs "$@" ;;
    url) echo "$OS_URL" ;;
    env) cmd_env ;;
    -h | --help | help) usage ;;
    *)
        usage >&2
        exit 2
        ;;
    esac
}

main "$@"
