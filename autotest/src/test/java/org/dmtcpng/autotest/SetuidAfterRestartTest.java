package org.dmtcpng.autotest;

import static org.dmtcpng.autotest.LiveProcesses.await;
import static org.dmtcpng.autotest.LiveProcesses.bin;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * setuid() in a program with threads (the checkpoint thread is one) returns only once every
 * thread has taken glibc's SIGSETXID. dmtcp_restart blocks every signal, glibc's too, while it
 * brings the threads back; the checkpoint thread must take SIGSETXID again afterwards.
 */
class SetuidAfterRestartTest {
  private static final String PROGRAM = String.join("\n",
      "import os, sys, time",
      "trigger = sys.argv[1]",
      "n = 0",
      "while True:",
      "    print('PROGRESS', n, flush=True)",
      "    n += 1",
      "    if os.path.exists(trigger):",
      "        os.remove(trigger)",
      "        os.setresuid(-1, -1, -1)",
      "        print('SETUID returned', flush=True)",
      "    time.sleep(0.1)");

  @Test
  void setuidReturnsBeforeAndAfterARestart() throws Exception {
    try (LiveProcesses live = new LiveProcesses("setuid-after-restart")) {
      String port = live.startCoordinator();
      Path trigger = live.work.resolve("setuid-now");
      Process launched = live.start("run0", bin("dmtcp_launch"), "-j", "-p", port, "python3", "-c", PROGRAM,
          trigger.toString());
      await(() -> ProgressLog.read(live.out("run0")).progress().size() >= 3);
      assertSetuidReturns(live, trigger, "run0");
      assertEquals(0, live.command(port, "-bc"));
      assertEquals(0, live.command(port, "-k"));
      assertTrue(launched.waitFor(30, TimeUnit.SECONDS));

      List<String> restart = new ArrayList<>(List.of(bin("dmtcp_restart"), "-j", "-p", port));
      restart.addAll(live.images());
      Process restarted = live.start("run1", restart.toArray(String[]::new));
      await(() -> ProgressLog.read(live.out("run1")).progress().size() >= 3 || !restarted.isAlive());
      assertSetuidReturns(live, trigger, "run1");
      assertEquals(0, live.command(port, "-k"));
      assertTrue(restarted.waitFor(30, TimeUnit.SECONDS));
      assertEquals(0, live.command(port, "-q"));
    }
  }

  private static void assertSetuidReturns(LiveProcesses live, Path trigger, String run) throws Exception {
    Files.writeString(trigger, "");
    await(() -> CaseRun.read(live.out(run)).contains("SETUID returned"));
    long before = ProgressLog.read(live.out(run)).last();
    await(() -> ProgressLog.read(live.out(run)).last() >= before + 3);
  }
}
