# (needs no service: tokens are compared offline; no live MSK is reachable)
# MSK IAM tokens (docs/msk-iam.md) against the reference signer,
# aws-msk-iam-sasl-signer-python (PyPI, in a virtualenv under
# .cache/venv/msk-iam made by pyvenv.bash), run by msk_iam_tokens.py with
# botocore's clock fixed by unittest.mock:
#  1. for fixed credentials and clocks - from the environment with and
#     without a session token, from a shared credentials file's default and
#     AWS_PROFILE-named profiles - the token the host builds
#     ($BUILD/tests/tools/msk_token, linking host/msk_iam.c) equals the
#     signer's byte for byte, and so does its expiry; the host is given the
#     signer's User-Agent for that, and with its own ("streamhost/VERSION")
#     the tokens differ only in that unsigned parameter;
#  2. the comparison can fail: another second or another secret key gives
#     another token;
#  3. `streamhost check` with sasl.mechanism = AWS_MSK_IAM: passes with
#     credentials; without credentials, without a region, with a bad
#     aws.msk.iam value or a non-SASL security.protocol it is one line and
#     exit 2; no secret in any output.
source tests/integration/common.bash
source tests/integration/pyvenv.bash
PY=$(pyvenv msk-iam aws-msk-iam-sasl-signer-python==1.0.2 boto3==1.44.8 botocore==1.44.8)
ORACLE=tests/integration/msk_iam_tokens.py
TOOL="$BUILD/tests/tools/msk_token"
[ -x "$TOOL" ] || { echo "no $TOOL: make BUILD=$BUILD $TOOL (make integration-test builds it)"; exit 1; }

SECRET='wJalrXUtnFEMI/K7MDENG+bPxRfiCY/msk+iam+test'
TOKEN='IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+msk/iam/session+token=='
FSECRET='file/Secret+Key/for+the/default/profile0'
PSECRET='profile/Secret+Key/for+msk/profile00000'
PTOKEN='FwoGZXIvYXdzEBYaDmsk+profile/token/with=signs=='
cat > "$T/credentials" <<INI
# a shared credentials file as the AWS CLI writes it
[default]
aws_access_key_id = AKIDFILEDEFAULT
aws_secret_access_key = $FSECRET

[msk]
aws_access_key_id=AKIDFILEPROFILE
aws_secret_access_key=$PSECRET
aws_session_token = $PTOKEN
INI
# nothing from this machine's own AWS setup
export HOME="$T/home" AWS_CONFIG_FILE="$T/no-config" AWS_SHARED_CREDENTIALS_FILE="$T/no-credentials"
export AWS_EC2_METADATA_DISABLED=true
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE
unset AWS_REGION AWS_DEFAULT_REGION

compare() { # compare WHAT REGION EPOCH [VAR=VALUE...]: ours equals the signer's
  local what=$1 region=$2 epoch=$3; shift 3
  local ref ours agent
  ref=$(env "$@" "$PY" "$ORACLE" "$region" "$epoch") || { echo "the reference signer failed ($what)"; return 1; }
  agent=${ref##* }
  ours=$(env "$@" "$TOOL" "$region" "$epoch" "$agent") || { echo "msk_token failed ($what)"; return 1; }
  echo "$what: reference ${ref:0:40}... expires ${ref#* }"
  echo "$what: ours      ${ours:0:40}... expires ${ours#* }"
  [ "$ours" = "${ref% *}" ] || { echo "MISMATCH: $what"; "$PY" "$ORACLE" decode "${ref%% *}"; "$PY" "$ORACLE" decode "${ours%% *}"; return 1; }
  echo "${ours%% *}" >> "$T/tokens"
}
ENV_KEYS=(AWS_ACCESS_KEY_ID=AKIDSTREAMHOSTMSK "AWS_SECRET_ACCESS_KEY=$SECRET")
check "environment, no session token, us-east-1: same token and expiry as the signer" \
  compare env us-east-1 1764600000 "${ENV_KEYS[@]}"
check "environment with a session token, eu-west-1, another day: same token and expiry" \
  compare env-token eu-west-1 1767225599 "${ENV_KEYS[@]}" "AWS_SESSION_TOKEN=$TOKEN"
check "the shared credentials file's [default] profile: same token and expiry" \
  compare file-default ap-southeast-2 1764601234 "AWS_SHARED_CREDENTIALS_FILE=$T/credentials"
check "AWS_PROFILE=msk in the file (with its session token): same token and expiry" \
  compare file-profile us-west-2 1764601234 "AWS_SHARED_CREDENTIALS_FILE=$T/credentials" AWS_PROFILE=msk
check "the environment beats the file, as botocore's default chain has it" \
  compare env-over-file us-east-1 1764600000 "${ENV_KEYS[@]}" "AWS_SHARED_CREDENTIALS_FILE=$T/credentials" AWS_PROFILE=msk
check "four different tokens" test "$(sort -u "$T/tokens" | wc -l)" -eq 4

# ---- the host's own User-Agent: only that parameter differs ------------------
ref=$(env "${ENV_KEYS[@]}" "$PY" "$ORACLE" us-east-1 1764600000)
ours=$(env "${ENV_KEYS[@]}" "$TOOL" us-east-1 1764600000)
url_ref=$("$PY" "$ORACLE" decode "${ref%% *}")
url_ours=$("$PY" "$ORACLE" decode "${ours%% *}")
echo "reference URL: $url_ref" | sed "s/Signature=[0-9a-f]*/Signature=.../"
echo "our URL:       $url_ours" | sed "s/Signature=[0-9a-f]*/Signature=.../"
check "our own token ends in &User-Agent=streamhost%2FVERSION" \
  bash -c "[[ '$url_ours' =~ \&User-Agent=streamhost%2F[0-9.]+$ ]]"
check "the reference's URL starts https://kafka.us-east-1.amazonaws.com/?Action=kafka-cluster%3AConnect&X-Amz-Algorithm=" \
  bash -c "[[ '$url_ref' == 'https://kafka.us-east-1.amazonaws.com/?Action=kafka-cluster%3AConnect&X-Amz-Algorithm='* ]]"
check "with the User-Agent parameter cut, our token's URL equals the reference's" \
  test "${url_ours%&User-Agent=*}" = "${url_ref%&User-Agent=*}"
check "and so does the expiry (signing second + 900 s)" test "${ours##* }" = "$(echo "$ref" | cut -d' ' -f2)"

# ---- the comparison can fail -------------------------------------------------
other=$(env "${ENV_KEYS[@]}" "$TOOL" us-east-1 1764600001 "${ref##* }")
check "one second later is another token" test "${other%% *}" != "${ref%% *}"
other=$(env AWS_ACCESS_KEY_ID=AKIDSTREAMHOSTMSK "AWS_SECRET_ACCESS_KEY=${SECRET}x" "$TOOL" us-east-1 1764600000 "${ref##* }")
check "another secret key is another token" test "${other%% *}" != "${ref%% *}"
check "no credentials: msk_token says so and fails" \
  bash -c "! '$TOOL' us-east-1 1764600000 2> '$T/tool.err' && grep -q 'no AWS credentials' '$T/tool.err'"

# ---- the host at start ---------------------------------------------------------
conf() { # conf NAME KAFKA-LINES...: a pipeline reading Kafka with [kafka] as given
  local name=$1; shift
  {
    echo "[kafka]"
    printf '%s\n' "$@"
    cat <<INI

[source.clicks]
plugin = kafka
topic = msk-clicks
group = msk-analytics
schema.file = conf/ClickEvent.avsc

[sink.out]
plugin = file
inputs = clicks
path = $T/msk-iam-never-written.jsonl
INI
  } > "$T/$name.ini"
}
MSK=b-1.streamhost.abc123.c2.kafka.eu-central-1.amazonaws.com:9098,b-2.streamhost.abc123.c2.kafka.eu-central-1.amazonaws.com:9098
conf ok "bootstrap.servers = $MSK" "sasl.mechanism = AWS_MSK_IAM"
check "check passes with credentials in the environment and the region from the broker's name" \
  env "${ENV_KEYS[@]}" "$SH" check "$T/ok.ini"
conf alt "bootstrap.servers = $MSK" "aws.msk.iam = true"
check "aws.msk.iam = true is accepted too (credentials from the file's profile)" \
  env "AWS_SHARED_CREDENTIALS_FILE=$T/credentials" AWS_PROFILE=msk "$SH" check "$T/alt.ini"

refused() { # refused NAME PATTERN [VAR=VALUE...]: check exits 2 with one line matching PATTERN
  local name=$1 pattern=$2; shift 2
  local rc=0
  env "$@" "$SH" check "$T/$name.ini" > "$T/$name.out" 2> "$T/$name.err" || rc=$?
  cat "$T/$name.out" "$T/$name.err"
  [ "$rc" -eq 2 ] || { echo "exit $rc, not 2"; return 1; }
  [ "$(grep -c "^$T/$name.ini:[0-9]*: " "$T/$name.out" "$T/$name.err" | awk -F: '{s+=$NF} END {print s}')" -eq 1 ] ||
    { echo "not one FILE:LINE line"; return 1; }
  grep -q -- "$pattern" "$T/$name.out" "$T/$name.err"
}
check "no credentials: one line naming the variables and the file, exit 2" \
  refused ok "ok.ini:3: \[kafka\] sasl.mechanism = AWS_MSK_IAM: MSK IAM: no AWS credentials: set AWS_ACCESS_KEY_ID"
check "AWS_PROFILE names a profile the file lacks: one line, exit 2" \
  refused ok "AWS_PROFILE = nope, but .*has no such profile" "AWS_SHARED_CREDENTIALS_FILE=$T/credentials" AWS_PROFILE=nope
check "only AWS_ACCESS_KEY_ID: one line, exit 2" \
  refused ok "AWS_ACCESS_KEY_ID is set in the environment but AWS_SECRET_ACCESS_KEY is not" AWS_ACCESS_KEY_ID=AKIDSTREAMHOSTMSK
conf noregion "bootstrap.servers = localhost:9098" "sasl.mechanism = AWS_MSK_IAM"
check "no region anywhere: one line naming aws.region, exit 2" \
  refused noregion "noregion.ini:3: .*needs the cluster's AWS region: set aws.region" "${ENV_KEYS[@]}"
check "AWS_REGION gives it" env "${ENV_KEYS[@]}" AWS_REGION=us-east-1 "$SH" check "$T/noregion.ini"
conf badbool "bootstrap.servers = $MSK" "aws.msk.iam = maybe"
check "aws.msk.iam = maybe: one line, exit 2" refused badbool "badbool.ini:3: .*expected true or false" "${ENV_KEYS[@]}"
conf badproto "bootstrap.servers = $MSK" "sasl.mechanism = AWS_MSK_IAM" "security.protocol = SSL"
check "security.protocol = SSL: one line, exit 2" refused badproto "badproto.ini:4: .*MSK IAM is SASL; use SASL_SSL" "${ENV_KEYS[@]}"

check "no secret key, session token or token in any output" bash -c "
  ! grep -rqF -e '$SECRET' -e '$TOKEN' -e '$FSECRET' -e '$PSECRET' -e '$PTOKEN' '$T'/*.out '$T'/*.err"
