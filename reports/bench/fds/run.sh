#!/usr/bin/env bash
# Checkpoint and restart of a process holding many descriptors of mixed kinds
# (issue 6's figure: 1,000 descriptors, checkpoint and restart each under 1 s).
# The process checks every descriptor after every restart. Writes results.md here.
#
# usage: reports/bench/fds/run.sh [--fds N] [--dir DIR]
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
root=$(readlink -f "$here/../../..")
nfds=1000 dir=${TMPDIR:-/tmp}
while [ $# -gt 0 ]; do
  case $1 in
    --fds) nfds=$2; shift 2;;
    --dir) dir=$2; shift 2;;
    *) echo "usage: $0 [--fds N] [--dir DIR]" >&2; exit 2;;
  esac
done
work=$(mktemp -d "$dir/dmtcp-fds.XXXXXX")
ctl="python3 $root/reports/bench/checkpoint/coordctl.py"
gcc -std=c11 -O2 -Wall -Wextra -Werror "$here/manyfds.c" -o "$work/manyfds"
prog="$work/manyfds"
. "$root/reports/bench/common.sh"

port=$(coordinator coord)
"$root/bin/dmtcp_launch" -j -p "$port" --ckptdir "$work" "$work/manyfds" "$nfds" "$work" >"$work/run.out" 2>&1 &
for _ in $(seq 1200); do grep -q '^READY' "$work/run.out" 2>/dev/null && break; sleep 0.05; done
held=$(sed -n 's/^READY \([0-9]*\).*/\1/p' "$work/run.out")
$ctl "$port" wait-running 60 1 >/dev/null
ckpts=()
for gen in 1 2 3; do
  ckpts+=("$($ctl "$port" timed-bcheckpoint)")
done
recorded=$("$root/bin/readdmtcp" "$work"/ckpt_*.dmtcp | sed -n 's/^  descriptors: //p')
bytes=$(cat "$work"/ckpt_*.dmtcp | wc -c)
$ctl "$port" kill >/dev/null || true
gone
rstrs=() verified=yes
for run in 1 2 3; do
  rstrs+=("$($ctl "$port" restart-until-running 60 1 "$work/restart.out" \
    "$root/bin/dmtcp_restart" -q -j -p "$port" "$work"/ckpt_*.dmtcp)")
  pkill -USR1 -f "$work/manyfds" || true
  for _ in $(seq 600); do grep -q '^VERIFY' "$work/restart.out" && break; sleep 0.05; done
  grep -q '^VERIFY ok' "$work/restart.out" || { verified=no; cat "$work/restart.out" >&2; }
  $ctl "$port" kill >/dev/null || true
  gone
done
row="| $held | $recorded | $bytes | ${ckpts[*]} | $(min "${ckpts[@]}") | ${rstrs[*]} | $(min "${rstrs[@]}") | $verified |"
{
  echo "# Checkpoint and restart of a process with many descriptors"
  echo
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores with \`reports/bench/fds/run.sh --fds $nfds\`,"
  echo "images in \`$dir\`, default settings (compressed, durable). The process (\`manyfds.c\`) holds"
  echo "regular files at their own offsets and dups of them, pipes with bytes in flight, eventfds,"
  echo "armed timerfds, epoll sets with a registration each, memfds, directories and /dev/null."
  echo
  echo "- checkpoint: a blocking checkpoint request, generations 1, 2 and 3."
  echo "- restart: \`dmtcp_restart\` until the coordinator reports the process RUNNING, three times;"
  echo "  the process checks every descriptor after each restart."
  echo "- Goal (issue 6): under 1 s each."
  echo
  echo "| descriptors held | in the image | image bytes | checkpoints s | best | restarts s | best | verified |"
  echo "|---|---|---|---|---|---|---|---|"
  echo "$row"
} >"$here/results.md"
cat "$here/results.md"
