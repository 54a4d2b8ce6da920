"""A double-fork daemon: the launched process and the session leader it
forks both exit at once; the grandchild, reparented and in a session of its
own, counts on and checks that its pid does not change across restarts."""
import os, sys, time
if os.fork() > 0:
    sys.exit(0)          # the launched process exits at once
os.setsid()
if os.fork() > 0:
    os._exit(0)          # so does the session leader: the daemon is reparented
pid, ppid = os.getpid(), os.getppid()
n = 0
while True:
    if os.getpid() != pid:
        print("ERROR the daemon's pid changed", flush=True); sys.exit(1)
    print("PROGRESS", n, flush=True)
    n += 1
    time.sleep(0.1)
