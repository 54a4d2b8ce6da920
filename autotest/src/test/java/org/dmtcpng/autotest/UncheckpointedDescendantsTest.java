package org.dmtcpng.autotest;

import static org.dmtcpng.autotest.LiveProcesses.await;
import static org.dmtcpng.autotest.LiveProcesses.bin;
import static org.dmtcpng.autotest.LiveProcesses.corpus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What cannot be checkpointed is said, not silently lost: dmtcp_launch refuses a statically linked
 * program (exit 99), a checkpointed process that execs one says so, and dmtcp_nocheckpoint runs a
 * command (and its descendants) outside the computation, saying so.
 */
class UncheckpointedDescendantsTest {
  @Test
  void dmtcpLaunchRefusesAStaticallyLinkedProgram() throws Exception {
    try (LiveProcesses live = new LiveProcesses("static")) {
      Process p = live.start("run", bin("dmtcp_launch"), "--no-coordinator", "-p", "0", corpus("counter-static"));
      assertTrue(p.waitFor(30, TimeUnit.SECONDS));
      String out = CaseRun.read(live.out("run"));
      assertEquals(99, p.exitValue(), out);
      assertTrue(out.contains("counter-static is statically linked") && out.lines().count() == 1, out);
    }
  }

  @Test
  void staticProgramsAndDmtcpNocheckpointRunOutsideTheComputationAndSaySo() throws Exception {
    try (LiveProcesses live = new LiveProcesses("nocheckpoint")) {
      String port = live.startCoordinator();
      // bash's loop uses builtins only, so bash is the computation's one lasting member
      String script = bin("dmtcp_nocheckpoint") + " sleep 1000 & " + corpus("counter-static") + " > static.out & "
          + "for i in $(seq 1 100000); do echo PROGRESS $i; read -t 0.05 < /dev/zero; done";
      Process bash = live.start("run", bin("dmtcp_launch"), "-j", "-p", port, "bash", "-c", script);
      Path out = live.out("run");
      Path staticOut = live.work.resolve("static.out");
      await(() -> ProgressLog.read(out).progress().size() >= 10 && Files.exists(staticOut)
          && CaseRun.read(staticOut).contains("PROGRESS 2"));
      String text = CaseRun.read(out);
      assertTrue(text.contains("[dmtcp] dmtcp_nocheckpoint: sleep runs without checkpointing"), text);
      assertTrue(text.contains("counter-static: statically linked; from here on this process is not checkpointed"), text);
      await(() -> status(live, port).contains("NUM_PEERS=1"));
      String sleeper = bash.descendants().filter(h -> h.info().command().orElse("").endsWith("sleep"))
          .findFirst().map(h -> {
            try {
              return Files.readString(Path.of("/proc/" + h.pid() + "/environ"));
            } catch (IOException e) {
              return "unreadable";
            }
          }).orElse("no sleep process");
      assertFalse(sleeper.contains("libdmtcp.so") || sleeper.contains("DMTCP_LAUNCHED"), sleeper);
      assertEquals(0, live.command(port, "-bc"), "a checkpoint with uncheckpointed descendants");
      live.alsoKill(bash.descendants().toList());
      assertEquals(0, live.command(port, "-q"));
    }
  }

  private static String status(LiveProcesses live, String port) {
    try {
      Process p = new ProcessBuilder(bin("dmtcp_command"), "-p", port, "-s").directory(live.work.toFile())
          .redirectErrorStream(true).start();
      String text = new String(p.getInputStream().readAllBytes());
      p.waitFor(60, TimeUnit.SECONDS);
      return text;
    } catch (IOException | InterruptedException e) {
      return "";
    }
  }
}
