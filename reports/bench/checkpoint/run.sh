#!/usr/bin/env bash
# Checkpoint and restart time of a process holding N MiB (default 1024) of
# incompressible, compressible-text and compressible-pattern data, against the
# best of 3 `dd` runs writing the same amount into the same directory, all
# measured side by side in one run. Writes results.md here.
#
# Each kind of data is measured in three write modes (DMTCP_CKPT_FSYNC):
#   default   written into the page cache, as `dd` (and DMTCP) write; fsync'd
#             once the program runs again, the previous image kept until then.
#             The next checkpoint is requested once that is done (an fsync
#             of the image returns), and the "on disk" column gives the time
#             from the request until then;
#   before    DMTCP_CKPT_FSYNC=1: O_DIRECT and fsync while the program is
#             stopped, before the image replaces the previous one;
#   never     DMTCP_CKPT_FSYNC=0: page cache, left to the kernel's writeback.
# A process is checkpointed 3 times (generations 1-3) and restarted 3 times
# from its last image; the tables give the first time and the best of 3, the
# way `dd` is measured: on this virtual machine a page the guest has not used
# recently costs a host fault, which the first run of anything pays.
#
# usage: reports/bench/checkpoint/run.sh [--mib N] [--dir DIR] [--no-gzip] [--gzip-size] [--kinds "random text pattern"] [--modes "default before never"]
#   --gzip-size  also measure what gzip -6 makes of the data (slow: ~45 s per GiB)
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
root=$(readlink -f "$here/../../..")
mib=1024 dir=${TMPDIR:-/tmp} gzipflag="" gzipsize=0 kinds="random text pattern" modes="default before never"
usage() { echo "usage: $0 [--mib N] [--dir DIR] [--no-gzip] [--gzip-size] [--kinds LIST] [--modes LIST]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --mib) mib=$2; shift 2;;
    --dir) dir=$2; shift 2;;
    --no-gzip) gzipflag=--no-gzip; shift;;
    --gzip-size) gzipsize=1; shift;;
    --kinds) kinds=$2; shift 2;;
    --modes) modes=$2; shift 2;;
    *) usage;;
  esac
done
work=$(mktemp -d "$dir/dmtcp-bench.XXXXXX")
ctl="python3 $here/coordctl.py"
gcc -std=c11 -O2 -Wall -Wextra -Werror "$here/holdmem.c" -o "$work/holdmem"
coord_pid=""
cleanup() {
  [ -n "$coord_pid" ] && kill -KILL "$coord_pid" 2>/dev/null || true
  pkill -KILL -f "$work/holdmem" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.3f}')"; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
min() { python3 -c "import sys; print(min(float(x) for x in sys.argv[1:]))" "$@"; }

dd_times=()
for i in 1 2 3; do
  t0=$(now); dd if=/dev/zero of="$work/ddtest" bs=1M count="$mib" status=none; t1=$(now)
  rm -f "$work/ddtest"
  dd_times+=("$(elapsed "$t0" "$t1")")
done
best_dd=$(min "${dd_times[@]}")
echo "dd of $mib MiB into $dir: ${dd_times[*]} s, best $best_dd s"

wait_gone() { for _ in $(seq 400); do pgrep -f "$work/holdmem" >/dev/null || return 0; sleep 0.025; done; return 1; }

rows=()
for kind in $kinds; do
  for mode in $modes; do
    case $mode in
      default) unset DMTCP_CKPT_FSYNC;;
      before) export DMTCP_CKPT_FSYNC=1;;
      never) export DMTCP_CKPT_FSYNC=0;;
      *) usage;;
    esac
    "$root/bin/dmtcp_coordinator" -p 0 --port-file "$work/port" --ckptdir "$work" \
      --coord-logfile "$work/coord.log" -q </dev/null >"$work/coord.out" 2>&1 &
    coord_pid=$!
    for _ in $(seq 200); do [ -s "$work/port" ] && break; sleep 0.05; done
    port=$(cat "$work/port")
    "$root/bin/dmtcp_launch" -j -p "$port" --ckptdir "$work" $gzipflag "$work/holdmem" "$mib" "$kind" \
      >"$work/run.out" 2>&1 &
    for _ in $(seq 1200); do grep -q '^READY' "$work/run.out" 2>/dev/null && break; sleep 0.05; done
    $ctl "$port" wait-running 60 >/dev/null
    ckpts=() ondisk=()
    for gen in 1 2 3; do
      t0=$(now)
      ckpts+=("$($ctl "$port" timed-bcheckpoint)")
      if [ "$mode" = default ]; then
        # the runtime fsyncs the image once the program runs again; an fsync
        # of our own returns when that is done
        sync "$work"/ckpt_holdmem_*.dmtcp
        ondisk+=("$(elapsed "$t0" "$(now)")")
      fi
    done
    image=$(ls "$work"/ckpt_holdmem_*.dmtcp)
    size=$(stat -c %s "$image")
    $ctl "$port" kill >/dev/null || true
    wait_gone
    rstrs=() verified=yes
    for run in 1 2 3; do
      rstrs+=("$($ctl "$port" restart-until-running 60 1 "$work/restart.out" \
        "$root/bin/dmtcp_restart" -j -p "$port" "$image")")
      pkill -USR1 -f "^$work/holdmem " || true
      for _ in $(seq 600); do grep -q '^VERIFY' "$work/restart.out" && break; sleep 0.05; done
      grep -q '^VERIFY ok' "$work/restart.out" || verified=no
      $ctl "$port" kill >/dev/null || true
      wait_gone
    done
    $ctl "$port" quit >/dev/null 2>&1 || true
    wait "$coord_pid" 2>/dev/null || true; coord_pid=""
    rm -f "$work"/ckpt_* "$work/port" "$work"/dmtcp_restart_script*
    gz="-"
    [ "$gzipsize" = 1 ] && [ "$mode" = default ] && gz=$("$work/holdmem" "$mib" "$kind" dump | gzip -6 | wc -c)
    cb=$(min "${ckpts[@]}") rb=$(min "${rstrs[@]}")
    od="-"
    [ ${#ondisk[@]} -gt 0 ] && od=$(min "${ondisk[@]}")
    rows+=("| $kind | $mode | ${ckpts[0]} | $cb | $(ratio "$cb" "$best_dd") | $od | ${rstrs[0]} | $rb | $(ratio "$rb" "$best_dd") | $size | $gz | $verified |")
    echo "${rows[-1]}   (checkpoints ${ckpts[*]}; on disk ${ondisk[*]:-}; restarts ${rstrs[*]})"
  done
done
unset DMTCP_CKPT_FSYNC

{
  echo "# Checkpoint and restart of a process holding $mib MiB"
  echo
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores with \`reports/bench/checkpoint/run.sh --mib $mib${gzipflag:+ $gzipflag}$([ $gzipsize = 1 ] && echo " --gzip-size")\`,"
  echo "images in \`$dir\`. \`dd if=/dev/zero bs=1M count=$mib\` into the same directory: ${dd_times[*]} s, best of 3 = **${best_dd} s**."
  echo
  echo "- checkpoint: wall time of a blocking checkpoint request (protocol client, no JVM start), for"
  echo "  generations 1, 2 and 3 of one process; first and best of 3."
  echo "- restart: from starting \`dmtcp_restart\` on the last image to the coordinator reporting the"
  echo "  process RUNNING, 3 times; first and best of 3. The data is verified after every restart."
  echo "- default: page cache, like \`dd\`; fsync once the program runs again; the previous image is"
  echo "  kept as \`.old\` and the next checkpoint is written over it in place. on disk: best time from"
  echo "  the request until an fsync of the image returned (it includes starting the Python client)."
  echo "  before: \`DMTCP_CKPT_FSYNC=1\`, O_DIRECT and fsync while the program is stopped."
  echo "  never: \`DMTCP_CKPT_FSYNC=0\`, page cache, left to the kernel."
  echo "- Goals (issue 3): checkpoint ≤ 1.5× dd, restart ≤ 2.0× dd, compressible image ≤ gzip -6 of the data."
  echo
  echo "| data | mode | checkpoint first s | best s | × best dd | on disk s | restart first s | best s | × best dd | image bytes | gzip -6 bytes | verified |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} >"$here/results.md"
cat "$here/results.md"
