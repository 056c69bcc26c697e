#!/usr/bin/env bash
# CPU used by the terminal UI over 10 idle seconds, on the demo database, in a
# 120x40 tmux session: with no refresh due (--interval 600), and with the
# default 10 s refresh. Needs tmux.
#
#   benches/tui_idle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
home=$(mktemp -d)
socket="tether-idle-$$"
trap 'tmux -L "$socket" kill-server 2>/dev/null || true; rm -rf "$home"' EXIT
XDG_DATA_HOME="$home" ./target/release/tether demo >/dev/null
ticks=$(getconf CLK_TCK)

measure() {
  local interval=$1
  tmux -L "$socket" new-session -d -x 120 -y 40 \
    "XDG_DATA_HOME=$home ./target/release/tether --interval $interval"
  sleep 3 # the first refresh
  local pid
  pid=$(pgrep -n -x tether)
  local before after
  before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  sleep 10
  after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  local rss
  rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  tmux -L "$socket" send-keys q
  sleep 1
  tmux -L "$socket" kill-server 2>/dev/null || true
  awk -v d=$((after - before)) -v t="$ticks" -v i="$interval" -v r="$rss" \
    'BEGIN { printf "interval %4s s: %.2f s of CPU in 10 s idle (%.1f%%), peak RSS %d MB\n", i, d / t, d / t * 10, r / 1024 }'
}

measure 600
measure 10
