package org.dmtcpng.autotest;

import static org.dmtcpng.autotest.LiveProcesses.await;
import static org.dmtcpng.autotest.LiveProcesses.bin;
import static org.dmtcpng.autotest.LiveProcesses.corpus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.dmtcpng.coordinator.protocol.Frame;
import org.junit.jupiter.api.Test;

/**
 * The coordinator's f ("force a restart even if there are missing processes"): two counters are
 * checkpointed and killed, and only one of the two images is restarted. The restart waits for
 * the other; f typed on the coordinator's standard input lets the one that came go on, and the
 * missing one is refused when it comes later.
 */
class ForcedRestartTest {
  @Test
  void fRestartsTheProcessesThatCameAndRefusesTheMissingOneLater() throws Exception {
    try (LiveProcesses live = new LiveProcesses("forced")) {
      Path portFile = live.work.resolve("coordinator.port");
      Process coordinator = live.startWithInput("coordinator", bin("dmtcp_coordinator"), "-p", "0",
          "--port-file", portFile.toString(), "--ckptdir", live.work.toString());
      await(() -> Files.exists(portFile) && CaseRun.read(portFile).strip().matches("\\d+"));
      String port = CaseRun.read(portFile).strip();
      List<String> names = List.of("a", "b");
      List<Process> launched = List.of(
          live.start("a", bin("dmtcp_launch"), "-j", "-p", port, corpus("counter")),
          live.start("b", bin("dmtcp_launch"), "-j", "-p", port, corpus("counter")));
      await(() -> names.stream().allMatch(n -> ProgressLog.read(live.out(n)).progress().size() >= 3));
      long[] before = names.stream().mapToLong(n -> ProgressLog.read(live.out(n)).last()).toArray();
      assertEquals(0, live.command(port, "-bc"));
      long[] atCheckpoint = names.stream().mapToLong(n -> ProgressLog.read(live.out(n)).last()).toArray();
      assertEquals(0, live.command(port, "-k"));
      for (Process p : launched) {
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
      }
      List<String> images = live.images();
      assertEquals(2, images.size());

      live.start("again", bin("dmtcp_restart"), "-j", "-p", port, images.get(0));
      await(() -> {
        Frame s = LiveProcesses.status(port);
        return s != null && "1".equals(s.get("num_peers")) && "no".equals(s.get("running"));
      });
      type(coordinator, "f");
      await(() -> ProgressLog.read(live.out("again")).progress().size() >= 5);
      ProgressLog again = ProgressLog.read(live.out("again"));
      String asA = again.checkContinues(before[0], atCheckpoint[0]);
      String asB = again.checkContinues(before[1], atCheckpoint[1]);
      assertTrue(asA == null || asB == null, "neither counter went on: " + asA + "; " + asB);
      assertEquals("yes", LiveProcesses.status(port).get("running"));

      Process late = live.start("late", bin("dmtcp_restart"), "-j", "-p", port, images.get(1));
      assertTrue(late.waitFor(60, TimeUnit.SECONDS), "the missing process is refused, not left waiting");
      assertEquals(99, late.exitValue(), CaseRun.read(live.out("late")));
      assertTrue(CaseRun.read(live.out("late")).contains("refused"), CaseRun.read(live.out("late")));
      assertEquals("1", LiveProcesses.status(port).get("num_peers"));
      assertTrue(CaseRun.read(live.out("coordinator"))
          .contains("restart forced without its 1 missing process"), CaseRun.read(live.out("coordinator")));
      type(coordinator, "q");
      assertTrue(coordinator.waitFor(30, TimeUnit.SECONDS), "q quits");
    }
  }

  private static void type(Process coordinator, String line) throws java.io.IOException {
    OutputStream in = coordinator.getOutputStream();
    in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    in.flush();
  }
}
