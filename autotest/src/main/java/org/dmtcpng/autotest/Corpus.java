package org.dmtcpng.autotest;

import java.util.List;

/** The table of cases: every program of app-corpus, real interpreters included. */
public final class Corpus {
  private Corpus() {}

  public static List<Case> all() {
    return List.of(
        Case.of("counter", "{corpus}/counter").asCore(),
        Case.of("counter-nogzip", "{corpus}/counter").launchOptions("--no-gzip").asCore(),
        Case.of("counter-restart-options", "{corpus}/counter").restartOptions("--no-strict-checking", "-q"),
        Case.of("threads16", "{corpus}/threads16").asCore(),
        // original tids after restart: gettid, tgkill and pthread_kill by tid, /proc/self/task/<tid>
        Case.of("tids", "{corpus}/tids").asCore(),
        Case.of("bigheap", "{corpus}/bigheap", "64"),
        // page-cache images without fsync: written buffered, the previous image swapped out by
        // name exchange (the default writes with O_DIRECT and fsyncs)
        Case.of("bigheap-cached", "{corpus}/bigheap", "64").env("DMTCP_CKPT_FSYNC", "0"),
        Case.of("recursion", "{corpus}/recursion", "50000"),
        Case.of("dlopen", "{corpus}/dlopen"),
        Case.of("fpsimd", "{corpus}/fpsimd").asCore(),
        Case.of("signals", "{corpus}/signals").asCore(),
        Case.of("signals-ckpt-signal", "{corpus}/signals").launchOptions("--ckpt-signal", "10"),
        // itimers, POSIX timers of every notification and clock, firing on after each restart
        // with their own ids, values and target threads
        Case.of("timers", "{corpus}/timers").asCore(),
        // glibc's SIGEV_THREAD too, every 5 ms: it fires while the restart is under way, when its
        // helper thread must still block SIGTIMER (the JVM starts the program with it ignored: else
        // Linux parks the timer for good); -dfl: at SIG_DFL, as from a shell (else it kills)
        Case.of("timers-sigev-thread", "{corpus}/timers", "sigev-thread").asCore(),
        Case.of("timers-sigev-thread-dfl", "{corpus}/timers", "sigev-thread", "sigtimer-dfl"),
        // a thread that sets its mask with raw system calls as glibc's own threads do (SIGSETXID
        // blocked too, most of the time): the checkpoint signal reaches it once it is let in
        Case.of("maskedthread", "{corpus}/maskedthread").asCore(),
        Case.of("timers-alarm", "{corpus}/timers", "alarm"),
        // timer ids given back without PR_TIMER_CREATE_RESTORE_IDS (kernels before 6.15)
        Case.of("timers-linear-ids", "{corpus}/timers").env("DMTCP_TIMER_IDS_LINEAR", "1"),
        // blocked signals pending for the process and for two threads at every checkpoint
        Case.of("pendingsig", "{corpus}/pendingsig").asCore(),
        Case.of("forked", "{corpus}/forked").processes(2).asCore(),
        // original pids, parent/child relations and signals by pid after restart
        Case.of("family", "{corpus}/family").processes(3).asCore(),
        // children that had ended and were not reaped at every checkpoint (an exit code, a signal,
        // a core dump): after restart the same pids with the same statuses for waitpid, wait4, waitid
        Case.of("zombies", "{corpus}/zombies").asCore(),
        // pipes between processes, with bytes in flight at every checkpoint
        Case.of("pipering", "{corpus}/pipering").processes(3).asCore(),
        // System V shared memory, semaphores and message queues keep their ids, keys and contents
        Case.of("sysvipc", "{corpus}/sysvipc").processes(2).asCore(),
        // POSIX message queues with messages of several priorities in flight, one of them unlinked
        Case.of("posixmq", "{corpus}/posixmq").processes(2).asCore(),
        Case.of("exec-clean-env", "env", "-i", "{corpus}/counter"),
        // offsets, O_APPEND, dup'ed and inherited descriptors sharing one offset, close-on-exec,
        // flock/POSIX/OFD locks, a file unlinked while open, a directory descriptor, /dev/null
        Case.of("files", "{corpus}/files").processes(2).asCore(),
        // named pipes with bytes in flight
        Case.of("fifo", "{corpus}/fifo").processes(2).asCore(),
        // eventfd, timerfd, signalfd, epoll, inotify, a sealed memfd mapped shared
        Case.of("eventfds", "{corpus}/eventfds").asCore(),
        // the same with the events of an inotify change queued, not read, at every checkpoint: lost
        // at a restart (docs/descriptors.md), the watch must report the change made again
        Case.of("eventfds-unread", "{corpus}/eventfds", "unread").asCore(),
        // a pty pair made by the program: raw mode, window size, the child's controlling terminal
        Case.of("ptypair", "{corpus}/ptypair").processes(2).asCore(),
        // Unix stream, seqpacket and datagram socketpairs with bytes in flight, descriptors
        // passed with SCM_RIGHTS, a connection waiting in a named listener's backlog
        Case.of("sockets", "{corpus}/sockets").processes(2).asCore(),
        // a TCP client and server with megabytes in flight
        Case.of("tcpseq", "{corpus}/tcpseq").processes(2).asCore(),
        Case.of("tcpseq-ipv6", "{corpus}/tcpseq", "v6").processes(2),
        // TCP bytes in flight sent and acknowledged at every checkpoint: copied from the queues,
        // not taken, and put back only at restart
        Case.of("tcpqueued", "{corpus}/tcpqueued").processes(2).asCore(),
        Case.of("tcpclosed", "{corpus}/tcpclosed").processes(2).asCore(),
        // three programs passing a token around a ring of TCP connections (DMTCP's frisbee)
        Case.of("frisbee", "bash", "{corpus}/frisbee.sh").processes(4).needs("bash"),
        // bound and connected UDP sockets; a datagram lost at a restart is sent again
        Case.of("udppingpong", "{corpus}/udppingpong").processes(2).asCore(),
        // python3's http.server and a client fetching from it
        Case.of("http-server", "bash", "{corpus}/http.sh").processes(3).needs("python3"),
        // files mapped shared read-only (left as they are), shared read-write (still the file),
        // private with a page of its own
        Case.of("mapfiles", "{corpus}/mapfiles").asCore(),
        // 64 GiB of MAP_NORESERVE with a few pages used, and an mremap'ed region
        Case.of("bigreserve", "{corpus}/bigreserve").maxImageBytes(100L << 20).asCore(),
        Case.of("mapgrow", "{corpus}/mapgrow").asCore(),
        Case.of("python3", "python3", "{corpus}/compute.py").needs("python3").asCore(),
        // python3 through a version-manager shim (env, then a bash script that runs helper processes
        // and execs the interpreter) under dmtcp_launch --new-coordinator: an exec chain is one
        // process, so the coordinator (--exit-on-last) lives as long as the program
        Case.of("python3-shim", "env", "PATH={corpus}/shim:/usr/bin:/bin", "python3", "{corpus}/compute.py")
            .withOwnCoordinator().needs("python3").asCore(),
        // forked workers, queues (pipes and a semaphore in shared memory), a feeder thread
        Case.of("python3-multiprocessing", "python3", "{corpus}/mpqueue.py").processes(3).needs("python3").asCore(),
        Case.of("bash", "bash", "{corpus}/loop.sh").needs("bash"),
        Case.of("daemon", "python3", "{corpus}/daemon.py").needs("python3"),
        // bash, python3 | cat | python3: a pipeline with bytes in flight
        Case.of("bash-pipeline", "bash", "{corpus}/pipeline.sh").processes(4).needs("python3"),
        Case.of("java", "java", "-XX:+UseSerialGC", "-cp", "{corpus}", "Counter").needs("java"),
        Case.of("bigheap-512", "{corpus}/bigheap", "512").asSlow());
  }
}
