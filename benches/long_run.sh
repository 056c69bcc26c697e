#!/usr/bin/env bash
# Memory and CPU over a long session: the terminal UI (in tmux) and `watch`
# side by side on the demo database, both refreshing every second, for
# DURATION seconds (default 3600) and until each has completed REFRESHES
# refreshes (default 3600; a refresh takes a little time, so an hour at a 1 s
# interval holds fewer). Every SAMPLE seconds (default 60) it prints the
# resident memory of both and the refreshes each has completed (the UI's from
# its latency pane, `watch`'s from its metrics); at the end,
# the CPU each uses while idle: the UI paused (`p`), and `watch` between two
# runs at a 60 s interval. Needs tmux and curl.
#
#   benches/long_run.sh            # an hour
#   DURATION=300 benches/long_run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-3600}
refreshes=${REFRESHES:-3600}
sample=${SAMPLE:-60}
cargo build --release --quiet
home=$(mktemp -d)
socket="tether-long-$$"
watch_pid=""
cleanup() {
  tmux -L "$socket" kill-server 2>/dev/null || true
  [ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null || true
  rm -rf "$home"
}
trap cleanup EXIT
url="sqlite://$home/demo.sqlite"
./target/release/tether demo --url "$url" --scale 10000 >/dev/null
ticks=$(getconf CLK_TCK)
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

tmux -L "$socket" new-session -d -x 120 -y 40 \
  "./target/release/tether --url '$url' -p discovery-flow --interval 1"
./target/release/tether watch --url "$url" -p discovery-flow --interval 1 \
  --metrics-addr 127.0.0.1:0 >/dev/null 2>"$home/watch.err" &
watch_pid=$!
sleep 3
tui_pid=$(pgrep -n -f "tether --url $url -p discovery-flow --interval 1")
metrics=$(sed -n 's|^tether: metrics on \(http://.*\)$|\1|p' "$home/watch.err")
runs() { curl -s "$metrics" | awk '/^tether_runs_total/ {print $2}'; }
# The latency pane's title: `over 12 refreshes` or `last 60 of 3,612 refreshes`.
# While a refresh runs the title says how much of it is done: look again.
ui_refreshes() {
  for _ in 1 2 3 4 5; do
    n=$(tmux -L "$socket" capture-pane -p |
      sed -n 's/.*Latency (ms) · \(over\|last [0-9]* of\) \([0-9,]*\) refreshes.*/\2/p' |
      tr -d , | head -1)
    [ -n "$n" ] && { echo "$n"; return; }
    sleep 0.2
  done
}

echo "seconds  ui_rss_mb  watch_rss_mb  ui_refreshes  watch_runs"
start=$(date +%s)
while :; do
  now=$(($(date +%s) - start))
  ui=$(ui_refreshes); ui=${ui:-0}
  watched=$(runs); watched=${watched:-0}
  printf "%7d  %9s  %12s  %12s  %10s\n" "$now" "$(rss_mb "$tui_pid")" "$(rss_mb "$watch_pid")" "$ui" "$watched"
  if [ "$now" -ge "$duration" ] && [ "$ui" -ge "$refreshes" ] && [ "$watched" -ge "$refreshes" ]; then
    break
  fi
  sleep "$sample"
done

# Idle: the UI paused, then `watch` between two runs a minute apart.
tmux -L "$socket" send-keys p
sleep 2
before=$(cpu_ticks "$tui_pid"); sleep 30; after=$(cpu_ticks "$tui_pid")
awk -v d=$((after - before)) -v t="$ticks" \
  'BEGIN { printf "ui paused: %.2f s of CPU in 30 s\n", d / t }'
kill "$watch_pid"; wait "$watch_pid" 2>/dev/null || true
./target/release/tether watch --url "$url" -p discovery-flow --interval 60 >/dev/null 2>&1 &
watch_pid=$!
sleep 10
before=$(cpu_ticks "$watch_pid"); sleep 30; after=$(cpu_ticks "$watch_pid")
awk -v d=$((after - before)) -v t="$ticks" \
  'BEGIN { printf "watch between runs: %.2f s of CPU in 30 s\n", d / t }'
