#!/usr/bin/env bash
# Checks openapi.yaml against the running API with schemathesis:
#
#   scripts/with-stack.sh scripts/contract.sh
#
# Needs a stack's environment (DYNAMODB_ENDPOINT, ...), as with-stack.sh
# exports it. Installs schemathesis into .local/schemathesis on first use,
# loads the demo catalog and accounts, serves the API on a free port, then
# runs every operation of openapi.yaml as a customer and as an admin: the
# documented examples, the coverage and fuzzing phases and the stateful phase
# (following the document's links), with the server-error, status-code,
# content-type and response-schema checks. Prints one summary line per role
# and exits non-zero on any failure.
#
# CONTRACT_EXAMPLES (default 12) bounds the generated cases per operation and
# CONTRACT_STATEFUL_EXAMPLES (default 40) the scenarios of up to 10 steps that
# follow the document's links,
# CONTRACT_SEED fixes the random seed, CONTRACT_REPORT_DIR keeps the reports,
# CONTRACT_CHECKS replaces the list of checks and CONTRACT_ARGS adds
# schemathesis options (e.g. "--include-path-regex /cart --mode positive").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCHEMATHESIS="schemathesis==4.32.5"
VENV="$ROOT/.local/schemathesis"
EXAMPLES="${CONTRACT_EXAMPLES:-12}"
STATEFUL_EXAMPLES="${CONTRACT_STATEFUL_EXAMPLES:-40}"
SEED="${CONTRACT_SEED:-$RANDOM}"
REPORTS="${CONTRACT_REPORT_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/contract.XXXXXXXX")}"
mkdir -p "$REPORTS"
# Per-phase settings exist only in a configuration file.
cat >"$REPORTS/schemathesis.toml" <<TOML
[generation]
max-examples = $EXAMPLES
database = ":memory:"

[phases.stateful]
max-steps = 10

[phases.stateful.generation]
max-examples = $STATEFUL_EXAMPLES
TOML
CHECKS="${CONTRACT_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance}"

log() { printf '%s\n' "$*" >&2; }

[[ -n "${DYNAMODB_ENDPOINT:-}" ]] || {
  log "contract: no stack environment; run it as scripts/with-stack.sh scripts/contract.sh"
  exit 2
}

if [[ "$(cat "$VENV/.installed" 2>/dev/null)" != "$SCHEMATHESIS" ]]; then
  log "contract: installing $SCHEMATHESIS into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "$SCHEMATHESIS" >&2
  printf '%s\n' "$SCHEMATHESIS" >"$VENV/.installed"
fi

cd "$ROOT"
cargo build --quiet --locked -p shop-local
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/shop-local"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"

"$BIN" seed >"$REPORTS/seed.log" 2>&1
"$BIN" serve --port "$PORT" >"$REPORTS/server.log" 2>&1 &
server=$!
# shellcheck disable=SC2329 # run from the trap below
stop_server() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
trap stop_server EXIT

for _ in $(seq 1 120); do
  curl -fsS -o /dev/null "$BASE/api/v1/categories" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { log "contract: the API did not start:"; cat "$REPORTS/server.log" >&2; exit 1; }
  sleep 0.5
done

# The demo accounts of `shop-local seed`.
token() {
  curl -fsS -X POST "$BASE/api/v1/users/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"$2\"}" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["accessToken"])'
}
CUSTOMER_TOKEN="$(token jane@shop.local 'Customer-Pass-123!')"
ADMIN_TOKEN="$(token admin@shop.local 'Admin-Pass-123!')"

status=0
run_as() {
  local role="$1" bearer="$2" code=0
  # shellcheck disable=SC2086
  "$VENV/bin/st" --config-file "$REPORTS/schemathesis.toml" run openapi.yaml --url "$BASE" \
    --header "Authorization: Bearer $bearer" \
    --checks "$CHECKS" \
    --phases examples,coverage,fuzzing,stateful \
    --seed "$SEED" --workers 2 --request-timeout 30 --no-color \
    --report junit --report-junit-path "$REPORTS/$role.xml" \
    ${CONTRACT_ARGS:-} >"$REPORTS/$role.log" 2>&1 || code=$?
  python3 - "$role" "$code" "$REPORTS/$role.xml" "$SEED" <<'PY'
import sys, xml.etree.ElementTree as ET
role, code, path, seed = sys.argv[1:]
try:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    tests = sum(int(s.get("tests", 0)) for s in suites)
    failures = sum(int(s.get("failures", 0)) for s in suites)
    errors = sum(int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
except (OSError, ET.ParseError):
    tests = failures = errors = skipped = "?"
print(f"contract ({role}): schemathesis exit {code}, {tests} operations tested, "
      f"{failures} failures, {errors} errors, {skipped} skipped (seed {seed})")
PY
  grep -E '^(Test cases|API operations|Test Phases|  (✅|❌|⏭|🚫))|[0-9]+ generated' "$REPORTS/$role.log" | sed "s/^/  /" || true
  if ((code != 0)); then
    log "contract ($role): failures follow (full log: $REPORTS/$role.log)"
    sed -n '/^=* FAILURES =*$/,$p' "$REPORTS/$role.log" | head -n 200 >&2
    status=1
  fi
}

run_as customer "$CUSTOMER_TOKEN"
run_as admin "$ADMIN_TOKEN"
exit "$status"
