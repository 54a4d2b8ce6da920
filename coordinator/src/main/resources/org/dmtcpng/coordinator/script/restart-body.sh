
# True if $1 names the machine this script was written on (and is meant to run on).
this_host() {
  case $1 in
    localhost|127.*|::1|"$local_host") return 0;;
  esac
  return 1
}

# The coordinator as host $1 reaches it. A coordinator on this machine is given by
# the address of this machine's interface that routes to $1: its loopback or its
# name (which may resolve to loopback) mean nothing over there.
coord_host_for() {
  this_host "$coord_host" || { echo "$coord_host"; return; }
  local addr src=""
  addr=$(getent ahosts "$1" 2>/dev/null | awk 'NR == 1 { print $1 }')
  [ -n "$addr" ] && src=$(ip route get "$addr" 2>/dev/null | sed -n 's/.* src \([^ ]*\).*/\1/p' | head -n 1)
  [ -n "$src" ] || src=$(hostname -I 2>/dev/null | awk '{ print $1 }')
  echo "${src:-$coord_host}"
}

local_images=""
remote_hosts=()
remote_images=()
for entry in "${worker_ckpts[@]}"; do
  host=${entry%%:*}
  if this_host "$host"; then
    local_images="$local_images ${entry#*:}"
  else
    remote_hosts+=("$host")
    remote_images+=("${entry#*:}")
  fi
done

# One host only: dmtcp_restart stands for the computation, in the foreground.
if [ ${#remote_hosts[@]} -eq 0 ]; then
  exec "$dmtcp_restart" --coord-host "$coord_host" --coord-port "$coord_port" $local_images
fi

# The other hosts join the coordinator: start it here first if it is not running.
if ! "$dmtcp_command" --coord-host "$coord_host" --coord-port "$coord_port" --status >/dev/null 2>&1 &&
   this_host "$coord_host"; then
  "$dmtcp_coordinator" --daemon --exit-on-last -q -p "$coord_port" --ckptdir "$ckpt_dir" ||
    { echo "$0: cannot start a coordinator on port $coord_port" >&2; exit 99; }
fi

pids=()
hosts=()
for i in "${!remote_hosts[@]}"; do
  host=${remote_hosts[$i]}
  # ssh joins its words with spaces for the remote shell: quote each one
  remote=$(printf '%q ' "$dmtcp_restart" --join-coordinator --coord-host "$(coord_host_for "$host")" \
    --coord-port "$coord_port" ${remote_images[$i]})
  ssh "$host" "$remote" </dev/null &
  pids+=($!)
  hosts+=("$host")
done
if [ -n "$local_images" ]; then
  # 0<&0: keeps the terminal as its input, which a command run with & would lose
  "$dmtcp_restart" --coord-host "$coord_host" --coord-port "$coord_port" $local_images 0<&0 &
  pids+=($!)
  hosts+=("$local_host")
fi

# Each host's restart is waited for. One that fails ends them all (the coordinator
# would wait for its processes forever): its dmtcp_restart exits with our failure
# code, or ssh exits 255 (the host could not be reached, or was lost). The script then
# exits with that code. Other exit codes are the programs' own: the script waits for
# every host and exits with the code of this host's restart (0 when there is none).
fail_rc=${DMTCP_FAIL_RC:-99}
status=0
while [ ${#pids[@]} -gt 0 ]; do
  wait -n -p done_pid "${pids[@]}"
  rc=$?
  [ -n "${done_pid:-}" ] || break
  for i in "${!pids[@]}"; do
    [ "${pids[$i]}" = "$done_pid" ] || continue
    host=${hosts[$i]}
    unset 'pids[i]' 'hosts[i]'
  done
  failed=0
  if this_host "$host"; then
    status=$rc
    [ "$rc" -eq "$fail_rc" ] && failed=1
  elif [ "$rc" -eq "$fail_rc" ] || [ "$rc" -eq 255 ]; then
    failed=1
  fi
  if [ $failed -eq 1 ]; then
    echo "$0: the restart on $host failed (exit code $rc); stopping the others" >&2
    "$dmtcp_command" --coord-host "$coord_host" --coord-port "$coord_port" --kill >/dev/null 2>&1
    [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null
    wait
    exit "$rc"
  fi
  [ "$rc" -eq 0 ] || echo "$0: the restart on $host ended with exit code $rc" >&2
done
exit "$status"
