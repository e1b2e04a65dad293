# The dependency check behind `make run` / `make test` on a fresh machine
# (scripts/ensure-deps.sh and the Makefile's use of it), with fake tools in
# PATH: nothing real is installed or removed.  A fake pkg-config hides the
# modules in $FAKE_MISSING until a fake apt-get "installs" them; a fake id
# plays a non-root user; a fake sudo runs its command.
source tests/integration/common.bash
REPO=$PWD
real_pkg=$(command -v pkg-config)
mkdir -p "$T/bin" "$T/nosudo"
cat > "$T/bin/pkg-config" <<EOF
#!/bin/sh
# like pkg-config, but the modules in \$FAKE_MISSING are absent until $T/installed exists
if [ ! -e "$T/installed" ]; then
  for a in "\$@"; do
    for m in \$FAKE_MISSING; do
      [ "\$a" = "\$m" ] && { echo "Package \$m was not found in the pkg-config search path." >&2; exit 1; }
    done
  done
fi
out=\$("$real_pkg" "\$@") || exit \$?
case " \$* " in *" --cflags "*) [ -e "$T/installed" ] && out="\$out -DSH_FAKE_INSTALLED" ;; esac
[ -n "\$out" ] && echo "\$out"
exit 0
EOF
cat > "$T/bin/apt-get" <<EOF
#!/bin/sh
echo "apt-get \$*" >> "$T/apt.log"
case " \$* " in *" install "*) touch "$T/installed" ;; esac
exit 0
EOF
cat > "$T/bin/sudo" <<EOF
#!/bin/sh
echo "sudo \$*" >> "$T/sudo.log"
exec "\$@"
EOF
printf '#!/bin/sh\necho 1000\n' > "$T/fakeid"
chmod +x "$T/bin/"* "$T/fakeid"
# a PATH without sudo (whatever the machine has), for the non-root case
for c in bash sh dirname cc; do ln -s "$(command -v $c)" "$T/nosudo/$c"; done
ln -s "$T/bin/pkg-config" "$T/nosudo/pkg-config"
ln -s "$T/fakeid" "$T/nosudo/id"
export PATH="$T/bin:$PATH"
reset_logs() { rm -f "$T/apt.log" "$T/sudo.log" "$T/installed"; }
ensure() { scripts/ensure-deps.sh "$@" > "$T/out" 2>&1; }

# --- the script ---------------------------------------------------------------
reset_logs
check "all present: exit 0" ensure build unit integration
check "all present: prints nothing" test ! -s "$T/out"
check "all present: runs no installer" test ! -e "$T/apt.log"

reset_logs
set +e; FAKE_MISSING="rdkafka cmocka" STREAMHOST_NO_INSTALL=1 ensure build unit; rc=$?; set -e
cat "$T/out"
check "missing, STREAMHOST_NO_INSTALL=1: exit 1" test "$rc" -eq 1
check "missing: names each missing library" grep -q "missing build dependencies: libraries (pkg-config) rdkafka cmocka$" "$T/out"
check "STREAMHOST_NO_INSTALL=1: apt never runs" test ! -e "$T/apt.log"

reset_logs
set +e; CC=no-such-compiler STREAMHOST_NO_INSTALL=1 ensure build integration; rc=$?; set -e
check "missing command: exit 1 and named" sh -c "[ $rc -eq 1 ] && grep -q 'commands no-such-compiler$' '$T/out'"

reset_logs
FAKE_MISSING=avro-c ensure build; rc=$?
cat "$T/out"
check "missing as root: installs with scripts/install-deps.sh, then exit 0" test "$rc" -eq 0
check "missing as root: apt-get install ran, with the Debian packages" grep -q "^apt-get install .*libavro-dev" "$T/apt.log"
[ "$(id -u)" -ne 0 ] || check "as root: no sudo" test ! -e "$T/sudo.log"
check "installing: says what and how" grep -q "installing them with scripts/install-deps.sh$" "$T/out"

reset_logs
ln -sf "$T/fakeid" "$T/bin/id"
FAKE_MISSING=avro-c ensure build; rc=$?
check "missing, not root, sudo present: installs through sudo" sh -c "[ $rc -eq 0 ] && grep -q 'sudo apt-get install' '$T/sudo.log' && grep -q 'through sudo' '$T/out'"
rm -f "$T/bin/id"

reset_logs
set +e; env -i PATH="$T/nosudo" FAKE_MISSING=avro-c bash scripts/ensure-deps.sh build > "$T/out" 2>&1; rc=$?; set -e
cat "$T/out"
check "not root, no sudo: exit 1 with one line saying what to run as root" sh -c "[ $rc -eq 1 ] && grep -q '^streamhost: to install them, run as root: .*/install-deps.sh$' '$T/out'"
check "not root, no sudo: apt never runs" test ! -e "$T/apt.log"

# --- through the Makefile (a copy of it, so nothing here touches build/) --------
R="$T/repo"
mkdir -p "$R/scripts" "$R/host" "$R/include/streamhost"
cp Makefile "$R/"
cp scripts/ensure-deps.sh scripts/install-deps.sh "$R/scripts/"
cp include/streamhost/*.h "$R/include/streamhost/"   # what the object rules depend on
echo 'int sh_dep_probe;' > "$R/host/dep_probe.c"
mk() { make -C "$R" --no-print-directory BUILD=build SANITIZE= RDKAFKA=system "$@" > "$T/out" 2>&1; }  # (librdkafka.sh is not copied)

reset_logs
for goal in clean help; do
  FAKE_MISSING=rdkafka STREAMHOST_NO_INSTALL=1 mk $goal
  check "make $goal: checks nothing, installs nothing, no pkg-config noise" sh -c "! grep -q 'streamhost: missing\|not found' '$T/out' && [ ! -e '$T/apt.log' ]"
done

set +e; FAKE_MISSING=rdkafka STREAMHOST_NO_INSTALL=1 mk V=1 build/obj/host/dep_probe.o; rc=$?; set -e
cat "$T/out"
check "make with a library missing (no install): stops, naming it" sh -c "[ $rc -ne 0 ] && grep -q 'missing build dependencies: libraries (pkg-config) rdkafka' '$T/out'"
check "make: the check runs before any pkg-config flags are computed" sh -c "! grep -q 'Package rdkafka was not found' '$T/out'"
check "make: nothing compiled" test ! -e "$R/build/obj/host/dep_probe.o"

set +e; FAKE_MISSING=rdkafka mk -n build/obj/host/dep_probe.o; set -e
check "make -n installs nothing" test ! -e "$T/apt.log"

FAKE_MISSING=rdkafka mk V=1 build/obj/host/dep_probe.o
cat "$T/out"
check "make with a library missing: runs scripts/install-deps.sh itself" grep -q "^apt-get install .*librdkafka-dev" "$T/apt.log"
check "make: the flags come from after the install (compiled with them)" grep -q -- "-DSH_FAKE_INSTALLED.*dep_probe.c" "$T/out"
check "make: built" test -e "$R/build/obj/host/dep_probe.o"

rm -f "$T/apt.log" "$R/build/obj/host/dep_probe.o"
FAKE_MISSING=rdkafka mk build/obj/host/dep_probe.o
check "make with everything present: no message, no installer" sh -c "! grep -q 'streamhost:' '$T/out' && [ ! -e '$T/apt.log' ] && [ -e '$R/build/obj/host/dep_probe.o' ]"

# which goal needs what: a build does not need cmocka, the tests do
reset_logs
FAKE_MISSING=cmocka STREAMHOST_NO_INSTALL=1 mk build/obj/host/dep_probe.o
check "make (a build) does not ask for the test libraries" sh -c "! grep -q 'streamhost: missing' '$T/out'"
set +e; FAKE_MISSING=cmocka STREAMHOST_NO_INSTALL=1 mk test; rc=$?; set -e
check "make test asks for cmocka first, before building anything" sh -c "[ $rc -ne 0 ] && grep -q 'libraries (pkg-config) cmocka' '$T/out'"
