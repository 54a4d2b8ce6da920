#!/usr/bin/env bash
# ./autotest.sh [-v] [--list] [--slow] [--core] [--stress N] [--keep] [--as-user NAME] [case...]
# Runs every program of app-corpus through launch, checkpoint, kill and restart
# cycles (build first: mvn -B -DskipTests package). Ends with "N passed, N failed".
# (The harness's Maven module lives in autotest/, so the command carries a suffix,
# as DMTCP's own autotest.py does.)
root=$(dirname "$(readlink -f "$0")")
classes="$root/autotest/target/classes"
if [ ! -d "$classes" ] || [ ! -x "$root/bin/dmtcp_launch" ]; then
  echo "autotest: build first: mvn -B -DskipTests package" >&2
  exit 2
fi
exec java -XX:+UseSerialGC -Ddmtcp.root="$root" -cp "$classes:$root/autotest/target/lib/*" \
  org.dmtcpng.autotest.AutotestMain "$@"
