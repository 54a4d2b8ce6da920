"""A Python computation for the corpus: extends a list of primes and a running
sum, checks both against each other every step, prints PROGRESS n."""
import sys
import time

primes = [2]
total = 2


def next_prime():
    candidate = primes[-1] + 1
    while any(candidate % p == 0 for p in primes if p * p <= candidate):
        candidate += 1
    return candidate


n = 0
while True:
    p = next_prime()
    primes.append(p)
    total += p
    if sum(primes) != total:
        print("ERROR the running sum differs from the primes", flush=True)
        sys.exit(1)
    print(f"PROGRESS {n}", flush=True)
    n += 1
    time.sleep(0.1)
