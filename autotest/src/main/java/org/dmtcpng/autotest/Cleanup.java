package org.dmtcpng.autotest;

import java.util.ArrayList;
import java.util.List;

/** Kills the processes of running cases when the JVM is stopped (Ctrl-C, a timeout). */
final class Cleanup {
  private static final List<CaseRun> RUNNING = new ArrayList<>();

  private Cleanup() {}

  static synchronized void register(CaseRun run) {
    RUNNING.add(run);
  }

  static synchronized void unregister(CaseRun run) {
    RUNNING.remove(run);
  }

  static synchronized void killAll() {
    RUNNING.forEach(CaseRun::close);
  }
}
