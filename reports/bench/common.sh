# Shared by the benchmark scripts of reports/bench/{tree,fds,sockets}: source
# it once $root, $work and $prog (the benchmark program's path, as pgrep -f
# sees it) are set. Every coordinator started with `coordinator` and every
# process of $prog is killed on exit, and $work is removed.

bench_cleanup() {
  local f
  for f in "$work"/*.pid; do
    [ -e "$f" ] && { kill -KILL "$(cat "$f")" 2>/dev/null || true; }
  done
  pkill -KILL -f "$prog" 2>/dev/null || true
  rm -rf "$work"
}
trap bench_cleanup EXIT

min() { python3 -c "import sys; print(min(float(x) for x in sys.argv[1:]))" "$@"; }

# gone: waits up to 10 s for every process of $prog to be gone
gone() { for _ in $(seq 400); do pgrep -f "$prog" >/dev/null || return 0; sleep 0.025; done; return 1; }

# coordinator NAME: starts one with its images in $work; prints its port
coordinator() {
  "$root/bin/dmtcp_coordinator" -p 0 --port-file "$work/$1.port" --ckptdir "$work" -q </dev/null >"$work/$1.out" 2>&1 &
  echo $! >"$work/$1.pid"
  for _ in $(seq 200); do [ -s "$work/$1.port" ] && break; sleep 0.05; done
  cat "$work/$1.port"
}
