package org.dmtcpng.autotest;

import static org.dmtcpng.autotest.LiveProcesses.await;
import static org.dmtcpng.autotest.LiveProcesses.bin;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * dmtcp_restart stands for the restarted computation towards whoever started it: it ends with
 * the restarted program's exit code, and a signal sent to it reaches the program.
 */
class RestartExitTest {
  @Test
  void theExitCodeAndSignalsPassThroughDmtcpRestart() throws Exception {
    try (LiveProcesses live = new LiveProcesses("restart-exit")) {
      String port = live.startCoordinator();
      // builtins only after the start, so bash is the one member; it ends with exit code 7
      String script = "for i in $(seq 1 40); do echo PROGRESS $i; read -t 0.05 < /dev/zero; done; exit 7";
      Process launched = live.start("run1", bin("dmtcp_launch"), "-j", "-p", port, "bash", "-c", script);
      await(() -> ProgressLog.read(live.out("run1")).progress().size() >= 3);
      assertEquals(0, live.command(port, "-bc"));
      assertEquals(0, live.command(port, "-k"));
      assertTrue(launched.waitFor(30, TimeUnit.SECONDS));
      List<String> restart = new ArrayList<>(List.of(bin("dmtcp_restart"), "-j", "-p", port));
      restart.addAll(live.images());

      Process again = live.start("run2", restart.toArray(String[]::new));
      assertTrue(again.waitFor(60, TimeUnit.SECONDS), "the restarted program did not finish");
      assertEquals(7, again.exitValue(), CaseRun.read(live.out("run2")));
      assertTrue(ProgressLog.read(live.out("run2")).progress().contains(40L));

      Process third = live.start("run3", restart.toArray(String[]::new));
      await(() -> ProgressLog.read(live.out("run3")).progress().size() >= 3);
      new ProcessBuilder("kill", "-TERM", Long.toString(third.pid())).start().waitFor();
      assertTrue(third.waitFor(30, TimeUnit.SECONDS), "SIGTERM did not reach the restarted program");
      assertEquals(128 + 15, third.exitValue(), CaseRun.read(live.out("run3")));
      assertEquals(0, live.command(port, "-q"));
    }
  }
}
