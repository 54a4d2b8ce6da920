#!/bin/bash
# python3's http.server and a client fetching from it, both in the computation.
d=$(cd "$(dirname "$0")" && pwd)
port=$((20000 + RANDOM % 12000)) # below the ephemeral ports (32768-), which other connections take
dir=$(mktemp -d)
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$dir" >/dev/null 2>&1 &
python3 "$d/httpclient.py" "$port" "$dir"
