#!/usr/bin/env python3
"""Runs each command plain and under dmtcp_launch, alternating, and prints median times.

usage: measure.py ROOT PORT RUNS LABEL -- command [args...]
       measure.py ROOT PORT warm N   (N launches of /bin/true: a coordinator that has run a while)
Prints: LABEL plain_median_s dmtcp_median_s (one line).
"""
import statistics
import subprocess
import sys
import time


def timed(cmd):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main():
    if sys.argv[3] == "warm":
        for _ in range(int(sys.argv[4])):
            timed([f"{sys.argv[1]}/bin/dmtcp_launch", "-j", "-p", sys.argv[2], "-q", "/bin/true"])
        return
    root, port, runs, label = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    launch = [f"{root}/bin/dmtcp_launch", "-j", "-p", port, "-q"] + cmd
    timed(cmd), timed(launch)  # warm the page cache and the coordinator
    plain, under = [], []
    for _ in range(runs):
        plain.append(timed(cmd))
        under.append(timed(launch))
    print(f"{label} {statistics.median(plain):.4f} {statistics.median(under):.4f}")


if __name__ == "__main__":
    main()
