#!/usr/bin/env bash
# Coordinator benchmark (issue 2): 1,000 and 10,000 simulated processes through one full
# checkpoint barrier against a real coordinator process, its peak memory (VmHWM), and the wall
# time of `dmtcp_command -s` (median of 5, JVM start included). Writes results.md here.
# Build first: mvn -B -DskipTests package
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
root=$(readlink -f "$here/../../..")
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d)
coord=""
trap '[ -n "$coord" ] && kill "$coord" 2>/dev/null; rm -rf "$work"' EXIT
cp="$root/lib/dmtcp/java/*"
rows=()
for n in 1000 10000; do
  rm -f "$work/port"
  "$root/bin/dmtcp_coordinator" -q -q -p 0 --port-file "$work/port" --ckptdir "$work" </dev/null &
  coord=$!
  for _ in $(seq 400); do [ -s "$work/port" ] && break; sleep 0.05; done
  port=$(cat "$work/port")
  line=$(java -Xss256k -cp "$cp" org.dmtcpng.coordinator.bench.BarrierBench "$port" "$n")
  jpid=$(pgrep -P "$coord" java || echo "$coord")
  hwm=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$coord/status" 2>/dev/null || echo "?")
  echo "$line coordinator_peak_rss_mib=$hwm"
  rows+=("| $n | $(sed -E 's/.*join_s=([0-9.]+).*/\1/' <<<"$line") | $(sed -E 's/.*barrier_s=([0-9.]+).*/\1/' <<<"$line") | $hwm |")
  kill "$coord"; wait "$coord" 2>/dev/null || true; coord=""
done
"$root/bin/dmtcp_coordinator" -q -q -p 0 --port-file "$work/port2" --ckptdir "$work" </dev/null &
coord=$!
for _ in $(seq 400); do [ -s "$work/port2" ] && break; sleep 0.05; done
port=$(cat "$work/port2")
times=()
for i in 1 2 3 4 5; do
  t0=$(date +%s%N); "$root/bin/dmtcp_command" -p "$port" -s >/dev/null; t1=$(date +%s%N)
  times+=($(( (t1 - t0) / 1000000 )))
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
{
  echo "# Coordinator benchmark"
  echo
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores with \`reports/bench/coordinator/run.sh\`."
  echo "Goals (issue 2): a full barrier with 1,000 clients < 2 s, 10,000 < 20 s, coordinator memory < 200 MiB"
  echo "at 10,000; \`dmtcp_command -s\` < 300 ms (median of 5, JVM start included)."
  echo
  echo "| simulated processes | join s | full checkpoint barrier s | coordinator peak RSS MiB |"
  echo "|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "\`dmtcp_command -s\` wall time, 5 runs: ${times[*]} ms; median **${median} ms**."
} > "$here/results.md"
cat "$here/results.md"
