#!/usr/bin/env bash
# Builds everything, then shows a program being launched, checkpointed, killed
# and restarted where it was: the counter of app-corpus prints one number a
# tick; after the restart it goes on from the number it had at the checkpoint.
set -euo pipefail
root=$(dirname "$(readlink -f "$0")")
cd "$root"
scripts/install-deps.sh
echo "== building (mvn -B -q -DskipTests package)"
mvn -B -q -Dstyle.color=never -DskipTests package

work=$(mktemp -d /tmp/dmtcp-demo.XXXXXX)
cleanup() {
  [ -f "$work/port" ] && "$root/bin/dmtcp_command" -p "$(cat "$work/port")" --quit >/dev/null 2>&1 || true
  pkill -KILL -f "$work" 2>/dev/null || true
}
trap cleanup EXIT
wait_for() { # wait_for SECONDS CMD...: poll until CMD succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { echo "demo: timed out waiting for: $*" >&2; exit 1; }
    sleep 0.1
  done
}
last_progress() { grep -a '^PROGRESS ' "$1" | tail -n 1 | awk '{print $2}'; }

echo "== starting a coordinator on a free port (checkpoint dir $work)"
bin/dmtcp_coordinator --daemon --exit-on-last -p 0 --port-file "$work/port" --ckptdir "$work" \
  --coord-logfile "$work/coordinator.log"
wait_for 20 test -s "$work/port"
port=$(cat "$work/port")
echo "   coordinator listening on port $port"

echo "== dmtcp_launch app-corpus/build/counter"
(cd "$work" && exec "$root/bin/dmtcp_launch" -j -p "$port" "$root/app-corpus/build/counter" >"$work/run1.out" 2>&1) &
launched=$!
wait_for 20 grep -q '^PROGRESS 5$' "$work/run1.out"
"$root/bin/dmtcp_command" -p "$port" --status

echo "== dmtcp_command --bcheckpoint"
"$root/bin/dmtcp_command" -p "$port" --bcheckpoint
at_ckpt=$(last_progress "$work/run1.out")
ls -l "$work"/ckpt_*.dmtcp "$work"/dmtcp_restart_script.sh
"$root/bin/readdmtcp" "$work"/ckpt_*.dmtcp | head -n 12

sleep 1
echo "== dmtcp_command --kill (the counter had reached $(last_progress "$work/run1.out"))"
"$root/bin/dmtcp_command" -p "$port" --kill
wait "$launched" 2>/dev/null || true
sleep 0.5

echo "== ./dmtcp_restart_script.sh"
(cd "$work" && exec ./dmtcp_restart_script.sh >"$work/run2.out" 2>&1) &
wait_for 30 grep -q '^PROGRESS ' "$work/run2.out"
sleep 1
first=$(grep -a '^PROGRESS ' "$work/run2.out" | head -n 1 | awk '{print $2}')
echo "   at the checkpoint the counter was at about $at_ckpt; after the restart it printed $first, $((first + 1)), ..."
head -n 3 "$work/run2.out"
"$root/bin/dmtcp_command" -p "$port" --status
"$root/bin/dmtcp_command" -p "$port" --quit >/dev/null 2>&1 || true
echo "== demo done (files in $work)"
