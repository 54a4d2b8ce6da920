"""Fetches a file from python3 -m http.server (started by http.sh) again and
again, checking its contents; prints PROGRESS n every 20 fetches."""
import os
import sys
import time
import urllib.request

port, directory = int(sys.argv[1]), sys.argv[2]
body = b"".join(b"%08d dmtcp http corpus line\n" % i for i in range(20000))
with open(os.path.join(directory, "page.txt"), "wb") as f:
    f.write(body)
url = "http://127.0.0.1:%d/page.txt" % port
for _ in range(200):  # the server may still be starting
    try:
        urllib.request.urlopen(url, timeout=5).read()
        break
    except OSError:
        time.sleep(0.05)
n = 0
fetches = 0
while True:
    got = urllib.request.urlopen(url, timeout=30).read()
    if got != body:
        print("ERROR the page came back different (%d bytes)" % len(got), flush=True)
        sys.exit(1)
    fetches += 1
    if fetches % 20 == 0:
        print("PROGRESS %d" % n, flush=True)
        n += 1
        time.sleep(0.05)
