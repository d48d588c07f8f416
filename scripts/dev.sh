#!/usr/bin/env bash
# Runs the whole stack in the foreground: the emulators (installed on first
# run), the table, queues and secrets from template.yaml, the demo catalog and
# accounts (`shop-local seed`, skipped when already loaded), and the API on
# http://127.0.0.1:${PORT:-3000}. Ctrl-C stops everything this script started;
# a stack that was already running is left running.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_SH="$ROOT/scripts/stack.sh"
export STACK_DIR="${STACK_DIR:-$ROOT/.local/dev}"
export STACK_MODE=dev

running_services() {
  "$STACK_SH" status 2>/dev/null | grep -c 'running' || true
}

started_here=0
if [[ "$(running_services)" -lt 4 ]]; then
  "$STACK_SH" start
  started_here=1
else
  echo "dev: emulators already running in $STACK_DIR" >&2
fi

# shellcheck disable=SC2329 # run from the trap below
cleanup() {
  if ((started_here)); then
    echo "dev: stopping the emulators" >&2
    "$STACK_SH" stop >&2 || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# shellcheck source=/dev/null
source "$STACK_DIR/env"
cd "$ROOT"
cargo build --quiet -p shop-local
target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
"$target_dir/debug/shop-local" seed
# The functions' log, for `shop-local logs --order ID` and `shop-local metrics`.
export SHOP_LOG_FILE="${SHOP_LOG_FILE:-$STACK_DIR/logs/functions.jsonl}"
mkdir -p "$(dirname "$SHOP_LOG_FILE")"
echo "dev: API docs on http://127.0.0.1:${PORT:-3000}/docs; logs in $SHOP_LOG_FILE" >&2
"$target_dir/debug/shop-local" serve --port "${PORT:-3000}" &
server=$!
wait "$server"
