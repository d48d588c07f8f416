#!/usr/bin/env bash
# Runs a command against a fresh, private emulator stack:
#
#   scripts/with-stack.sh CMD [ARGS...]
#
# Starts the stack in test mode (data in memory, free random ports) in a new
# temporary STACK_DIR, runs CMD with the stack's environment exported (see
# scripts/stack.sh), then stops the stack and removes the directory, whatever
# happens. Exits with CMD's exit code. Does not disturb a dev stack running on
# the default ports. Stack messages go to stderr; CMD's output is untouched.
set -euo pipefail

if (($# == 0)); then
  sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi

STACK_SH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/stack.sh"

STACK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/stack.XXXXXXXX")"
export STACK_DIR
export STACK_MODE=test
# Ports inherited from a sourced dev environment must not leak into this stack.
unset DYNAMODB_PORT MOTO_PORT STRIPE_PORT SMTP_PORT

child=""

# shellcheck disable=SC2329 # run from the traps below
cleanup() {
  "$STACK_SH" stop >/dev/null 2>&1 || true
  rm -rf "$STACK_DIR"
}

# Passes INT/TERM on to CMD, waits for it, then exits (which runs cleanup).
# shellcheck disable=SC2329 # run from the traps below
on_signal() {
  if [[ -n "$child" ]] && kill -0 "$child" 2>/dev/null; then
    kill -s "$1" "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  exit "$2"
}

trap 'rc=$?; trap - EXIT; cleanup; exit "$rc"' EXIT
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM

"$STACK_SH" start >&2
# shellcheck source=/dev/null
source "$STACK_DIR/env"

# CMD runs in the background so that a signal to this script is handled at
# once; it keeps this script's stdin, and the default INT/QUIT handling that
# bash would otherwise turn off for background commands.
(
  trap - INT QUIT
  exec "$@"
) <&0 &
child=$!
set +e
wait "$child"
rc=$?
set -e
exit "$rc"
