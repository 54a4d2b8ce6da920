#!/usr/bin/env bash
# Checkpoint and restart of a process tree (issue 5's figure: 32 processes of
# 16 MiB each, checkpoint and restart each under 1 s). The tree's data is
# verified after every restart. Writes results.md here.
#
# usage: reports/bench/tree/run.sh [--procs N] [--mib M] [--dir DIR]
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
root=$(readlink -f "$here/../../..")
procs=32 mib=16 dir=${TMPDIR:-/tmp}
while [ $# -gt 0 ]; do
  case $1 in
    --procs) procs=$2; shift 2;;
    --mib) mib=$2; shift 2;;
    --dir) dir=$2; shift 2;;
    *) echo "usage: $0 [--procs N] [--mib M] [--dir DIR]" >&2; exit 2;;
  esac
done
work=$(mktemp -d "$dir/dmtcp-tree.XXXXXX")
ctl="python3 $root/reports/bench/checkpoint/coordctl.py"
gcc -std=c11 -O2 -Wall -Wextra -Werror "$here/tree.c" -o "$work/tree"
prog="$work/tree"
. "$root/reports/bench/common.sh"

port=$(coordinator coord)
"$root/bin/dmtcp_launch" -j -p "$port" --ckptdir "$work" "$work/tree" "$procs" "$mib" >"$work/run.out" 2>&1 &
for _ in $(seq 1200); do grep -q '^READY' "$work/run.out" 2>/dev/null && break; sleep 0.05; done
$ctl "$port" wait-running 60 "$procs" >/dev/null
ckpts=()
for gen in 1 2 3; do
  ckpts+=("$($ctl "$port" timed-bcheckpoint)")
done
images=$(ls "$work"/ckpt_*.dmtcp | wc -l)
bytes=$(cat "$work"/ckpt_*.dmtcp | wc -c)
$ctl "$port" kill >/dev/null || true
gone
rstrs=() verified=yes
for run in 1 2 3; do
  rstrs+=("$($ctl "$port" restart-until-running 60 "$procs" "$work/restart.out" \
    "$root/bin/dmtcp_restart" -j -p "$port" "$work"/ckpt_*.dmtcp)")
  pkill -USR1 -f "$work/tree" || true
  for _ in $(seq 600); do grep -q '^VERIFY' "$work/restart.out" && break; sleep 0.05; done
  grep -q '^VERIFY ok' "$work/restart.out" || verified=no
  $ctl "$port" kill >/dev/null || true
  gone
done
row="| $procs | $mib | $images | $bytes | ${ckpts[*]} | $(min "${ckpts[@]}") | ${rstrs[*]} | $(min "${rstrs[@]}") | $verified |"
{
  echo "# Checkpoint and restart of a process tree"
  echo
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores with \`reports/bench/tree/run.sh --procs $procs --mib $mib\`,"
  echo "images in \`$dir\`, default settings (compressed, durable). The tree (\`tree.c\`): a root and"
  echo "$((procs - 1)) forked children, each holding $mib MiB (half random, half a repeated pattern)."
  echo
  echo "- checkpoint: a blocking checkpoint request, generations 1, 2 and 3 of the same tree."
  echo "- restart: \`dmtcp_restart\` on all images until the coordinator reports all $procs RUNNING, three"
  echo "  times; every process checks its data after each restart."
  echo "- Goal (issue 5): under 1 s each."
  echo
  echo "| processes | MiB each | images | image bytes | checkpoints s | best | restarts s | best | data verified |"
  echo "|---|---|---|---|---|---|---|---|---|"
  echo "$row"
} >"$here/results.md"
cat "$here/results.md"
