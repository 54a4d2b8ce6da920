# producer | filter | consumer: numbers in sequence through two pipes; the
# consumer checks that each arrives once, in order, and reports PROGRESS.
python3 -c 'import itertools, time
for i in itertools.count():
    print(i, flush=True)
    time.sleep(0.005)' | cat | python3 -c 'import sys
n = 0
for line in sys.stdin:
    if int(line) != n:
        print("ERROR sequence", line.strip(), "expected", n, flush=True)
        sys.exit(1)
    n += 1
    if n % 20 == 0:
        print("PROGRESS", n // 20, flush=True)'
