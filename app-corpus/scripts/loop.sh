#!/bin/bash
# A bash loop for the corpus: a counter and a string that grows with it. It
# sleeps with bash's loadable sleep builtin (Debian's bash-builtins), so the
# loop stays one process.
enable -f /usr/lib/bash/sleep sleep || { echo "ERROR cannot load the sleep builtin"; exit 1; }
n=0
trail=""
while :; do
  if [ "${#trail}" -ne "$n" ]; then echo "ERROR the trail length differs from the counter"; exit 1; fi
  echo "PROGRESS $n"
  n=$((n + 1))
  trail="${trail}x"
  sleep 0.1
done
