#!/usr/bin/env bash
# Sockets with bytes in flight (issue 7's figures):
#  - a ring of 64 processes over TCP on one host, each with 1 MiB in flight to
#    the next: checkpoint and restart each under 3 s, nothing lost;
#  - a pair with 16 MiB in flight (8 MiB each way) against the same pair with nothing in
#    flight, each with its own coordinator, checkpointed alternately: the drain and refill
#    add under 50 ms.
# Every restart is followed by every process checking the bytes it gets.
# Writes results.md here.
#
# usage: reports/bench/sockets/run.sh [--procs N] [--mib M] [--pair-mib M] [--dir DIR]
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
root=$(readlink -f "$here/../../..")
procs=64 mib=1 pair_mib=8 dir=${TMPDIR:-/tmp}
while [ $# -gt 0 ]; do
  case $1 in
    --procs) procs=$2; shift 2;;
    --mib) mib=$2; shift 2;;
    --pair-mib) pair_mib=$2; shift 2;;
    --dir) dir=$2; shift 2;;
    *) echo "usage: $0 [--procs N] [--mib M] [--pair-mib M] [--dir DIR]" >&2; exit 2;;
  esac
done
work=$(mktemp -d "$dir/dmtcp-sockets.XXXXXX")
ctl="python3 $root/reports/bench/checkpoint/coordctl.py"
gcc -std=c11 -O2 -Wall -Wextra -Werror -I "$root/app-corpus/src" "$here/ring.c" -o "$work/ringprog"
prog="$work/ringprog"
. "$root/reports/bench/common.sh"
median() { python3 -c "import sys, statistics; print(f'{statistics.median(float(x) for x in sys.argv[1:]):.3f}')" "$@"; }

port=$(coordinator coord)

# launch N MIB BASE LOG SUBDIR [PORT]: a ring with its images in SUBDIR
launch() {
  local p=${6:-$port}
  mkdir -p "$work/$5"
  "$root/bin/dmtcp_launch" -j -p "$p" --ckptdir "$work/$5" "$work/ringprog" "$1" "$2" "$3" >"$work/$4" 2>&1 &
  for _ in $(seq 1200); do grep -q '^READY' "$work/$4" 2>/dev/null && break; sleep 0.05; done
  $ctl "$p" wait-running 120 "$1" >/dev/null
}
# checkpoint [PORT]: seconds a blocking checkpoint takes
checkpoint() { $ctl "${1:-$port}" timed-bcheckpoint; }
verify() { # LOG: every process checks what it got
  pkill -USR1 -f "$work/ringprog" || true
  for _ in $(seq 1200); do grep -q '^VERIFY' "$work/$1" && break; sleep 0.05; done
  grep -q '^VERIFY ok' "$work/$1"
}

# the ring
launch "$procs" "$mib" 31000 ring.out ring
ckpts=()
for gen in 1 2 3; do ckpts+=("$(checkpoint)"); done
$ctl "$port" kill >/dev/null || true
gone
rstrs=() verified=yes
for run in 1 2 3; do
  rstrs+=("$($ctl "$port" restart-until-running 120 "$procs" "$work/restart.out" \
    "$root/bin/dmtcp_restart" -q -j -p "$port" "$work"/ring/ckpt_*.dmtcp)")
  verify restart.out || { verified=no; tail -5 "$work/restart.out" >&2; }
  $ctl "$port" kill >/dev/null || true
  gone
done

# the pair: 16 MiB in flight against nothing, side by side (two computations), alternately
port2=$(coordinator coord2)
launch 2 "$pair_mib" 32000 full.out full
launch 2 0 32100 empty.out empty "$port2"
full=() empty=()
for round in $(seq 9); do
  full+=("$(checkpoint)")
  empty+=("$(checkpoint "$port2")")
done
verify full.out || verified=no
$ctl "$port" kill >/dev/null || true
$ctl "$port2" kill >/dev/null || true
gone
cost=$(python3 -c "print(f'{($(median "${full[@]}") - $(median "${empty[@]}")) * 1000:.0f}')")

{
  echo "# Sockets with bytes in flight"
  echo
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores with \`reports/bench/sockets/run.sh\`, images in \`$dir\`,"
  echo "default settings (compressed, durable). \`ring.c\`: processes in a ring of TCP connections on"
  echo "127.0.0.1, each with the given bytes written to the next and not yet read; after every"
  echo "restart every process reads what came to it and checks it."
  echo
  echo "- checkpoint: a blocking checkpoint request; restart: \`dmtcp_restart\` of all images until"
  echo "  the coordinator reports them all RUNNING."
  echo "- Goal (issue 7): the ring of 64 with 1 MiB in flight each, checkpoint and restart under 3 s."
  echo
  echo "| processes | MiB in flight each | checkpoints s | best | restarts s | best | verified |"
  echo "|---|---|---|---|---|---|---|"
  echo "| $procs | $mib | ${ckpts[*]} | $(min "${ckpts[@]}") | ${rstrs[*]} | $(min "${rstrs[@]}") | $verified |"
  echo
  echo "Drain and refill: a pair with $((2 * pair_mib)) MiB in flight ($pair_mib MiB each way: the two connections of a"
  echo "ring of 2) against a pair with nothing in flight, each with its own coordinator, checkpointed"
  echo "alternately, 9 checkpoints each, medians compared. The"
  echo "difference also holds writing the drained bytes into the images. Goal: under 50 ms."
  echo
  echo "| in flight | checkpoints s | median |"
  echo "|---|---|---|"
  echo "| $((2 * pair_mib)) MiB | ${full[*]} | $(median "${full[@]}") |"
  echo "| nothing | ${empty[*]} | $(median "${empty[@]}") |"
  echo
  echo "Drain and refill of $((2 * pair_mib)) MiB: **$cost ms**."
} >"$here/results.md"
cat "$here/results.md"
