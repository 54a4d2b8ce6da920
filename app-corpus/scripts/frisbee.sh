#!/bin/bash
# Three players of frisbee in a ring over TCP, each its own program.
d=$(dirname "$0")
base=$((20000 + RANDOM % 12000)) # below the ephemeral ports (32768-), which other connections take
"$d/frisbee" $base $((base + 1)) 0 &
"$d/frisbee" $((base + 1)) $((base + 2)) 0 &
"$d/frisbee" $((base + 2)) $base 1 &
wait
