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
        Case.of("bigheap", "{corpus}/bigheap", "64"),
        // page-cache images without fsync: written buffered, the previous image swapped out by
        // name exchange (the default writes with O_DIRECT and fsyncs)
        Case.of("bigheap-cached", "{corpus}/bigheap", "64").env("DMTCP_CKPT_FSYNC", "0"),
        Case.of("recursion", "{corpus}/recursion", "50000"),
        Case.of("dlopen", "{corpus}/dlopen"),
        Case.of("fpsimd", "{corpus}/fpsimd").asCore(),
        Case.of("signals", "{corpus}/signals").asCore(),
        Case.of("signals-ckpt-signal", "{corpus}/signals").launchOptions("--ckpt-signal", "10"),
        Case.of("forked", "{corpus}/forked").processes(2).asCore(),
        // original pids, parent/child relations and signals by pid after restart
        Case.of("family", "{corpus}/family").processes(3).asCore(),
        // pipes between processes, with bytes in flight at every checkpoint
        Case.of("pipering", "{corpus}/pipering").processes(3).asCore(),
        Case.of("exec-clean-env", "env", "-i", "{corpus}/counter"),
        Case.of("python3", "python3", "{corpus}/compute.py").needs("python3").asCore(),
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
