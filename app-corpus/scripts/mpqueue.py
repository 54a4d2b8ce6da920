"""python3 multiprocessing: two forked workers square numbers taken from a
Queue and put the results on another; the main process checks every batch
(a Queue is a pipe plus a semaphore in shared memory, and a feeder thread).
Reports PROGRESS per batch and ERROR on a wrong or missing result."""
import multiprocessing as mp
import sys
import time


def worker(tasks, results):
    for n in iter(tasks.get, None):
        results.put((n, n * n))


def main():
    mp.set_start_method("fork")
    tasks, results = mp.Queue(), mp.Queue()
    workers = [mp.Process(target=worker, args=(tasks, results)) for _ in range(2)]
    for w in workers:
        w.start()
    n = 0
    while True:
        for k in range(10):
            tasks.put(n * 10 + k)
        got = sorted(results.get(timeout=30) for _ in range(10))
        want = [(n * 10 + k, (n * 10 + k) ** 2) for k in range(10)]
        if got != want:
            print("ERROR results", got, "expected", want, flush=True)
            sys.exit(1)
        print("PROGRESS", n, flush=True)
        n += 1
        time.sleep(0.05)


if __name__ == "__main__":
    main()
