package org.dmtcpng.autotest;

import static org.dmtcpng.autotest.LiveProcesses.await;
import static org.dmtcpng.autotest.LiveProcesses.bin;
import static org.dmtcpng.autotest.LiveProcesses.corpus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * dmtcp_launch --no-coordinator: the process answers dmtcp_command itself, checkpoints, and after
 * dmtcp_restart (which starts no coordinator) goes on where it was and can be checkpointed again.
 * The restarted process also shows its own command line and program break to the kernel's readers
 * ({@code ps}, {@code /proc/<pid>/cmdline}, {@code /proc/<pid>/stat}), not dmtcp_restart's.
 */
class StandaloneModeTest {
  @Test
  void aStandaloneProcessCheckpointsAndRestartsWithoutACoordinator() throws Exception {
    try (LiveProcesses live = new LiveProcesses("standalone")) {
      Path portFile = live.work.resolve("port");
      Process launched = live.start("run1", bin("dmtcp_launch"), "--no-coordinator", "-p", "0",
          "--port-file", portFile.toString(), "--ckptdir", live.work.toString(),
          corpus("counter"), "alpha", "beta gamma");
      await(() -> Files.exists(portFile) && CaseRun.read(portFile).strip().matches("\\d+")
          && ProgressLog.read(live.out("run1")).progress().size() >= 3);
      String port = CaseRun.read(portFile).strip();
      String cmdline = cmdline(launched.pid());
      assertTrue(cmdline.endsWith("counter\0alpha\0beta gamma\0"), cmdline);
      long low = ProgressLog.read(live.out("run1")).last();
      assertEquals(0, live.command(port, "-bc"));
      long high = ProgressLog.read(live.out("run1")).last();
      assertEquals(0, live.command(port, "-k"));
      assertTrue(launched.waitFor(30, TimeUnit.SECONDS), "the process died on --kill");
      Files.delete(portFile);
      Path image;
      try (var s = Files.list(live.work)) {
        image = s.filter(p -> p.getFileName().toString().matches("ckpt_counter_.*\\.dmtcp")).findFirst().orElseThrow();
      }
      Process restarted = live.start("run2", bin("dmtcp_restart"), image.toString());
      await(() -> Files.exists(portFile) && ProgressLog.read(live.out("run2")).progress().size() >= 3);
      assertNull(ProgressLog.read(live.out("run2")).checkContinues(low, high));
      // dmtcp_restart waits outside the restarted process's pid namespace; the program is below it
      long program = restarted.descendants().map(ProcessHandle::pid)
          .filter(pid -> cmdline(pid).startsWith(corpus("counter"))).findFirst().orElse(-1L);
      assertEquals(cmdline, cmdline(program), "the command line after restart");
      String port2 = CaseRun.read(portFile).strip();
      assertEquals(0, live.command(port2, "-bc"), "a second generation");
      try (var s = Files.list(live.work)) {
        List<String> images = s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".dmtcp")).sorted()
            .toList();
        String name = image.getFileName().toString();
        assertEquals(List.of(name, name + ".old"), images,
            "the image and the previous generation (DMTCP_CKPT_KEEP_PREVIOUS); no .part left behind");
      }
      assertEquals(0, live.command(port2, "-q"));
      assertTrue(restarted.waitFor(30, TimeUnit.SECONDS), "the restarted process died on --quit");
    }
  }

  @Test
  void aStandaloneScriptRunsItsChildrenAndSaysTheyAreNotCheckpointed() throws Exception {
    try (LiveProcesses live = new LiveProcesses("standalone-children")) {
      Path portFile = live.work.resolve("port");
      // Every command the script runs is an exec'd descendant: it must run normally (the embedded
      // coordinator belongs to the launched process alone), not fail to take the port.
      String script = "sleep 1000 & for i in $(seq 1 100000); do echo PROGRESS $i;"
          + " /bin/true || echo ERROR child exited $?; sleep 0.02; done";
      Process bash = live.start("run1", bin("dmtcp_launch"), "--no-coordinator", "-p", "0",
          "--port-file", portFile.toString(), "--ckptdir", live.work.toString(), "bash", "-c", script);
      await(() -> Files.exists(portFile) && CaseRun.read(portFile).strip().matches("\\d+")
          && ProgressLog.read(live.out("run1")).progress().size() >= 5);
      String port = CaseRun.read(portFile).strip();
      assertEquals(0, live.command(port, "-bc"));
      long after = ProgressLog.read(live.out("run1")).last();
      await(() -> ProgressLog.read(live.out("run1")).last() >= after + 5);
      String out = CaseRun.read(live.out("run1"));
      assertTrue(out.contains("child process") && out.contains("not in this checkpoint"), out);
      assertTrue(!out.contains("ERROR") && !out.contains("cannot listen"), out);
      live.alsoKill(bash.descendants().toList());  // -k kills the launched process only
      assertEquals(0, live.command(port, "-k"));
    }
  }

  private static String cmdline(long pid) {
    try {
      return Files.readString(Path.of("/proc/" + pid + "/cmdline"));
    } catch (IOException e) {
      return "";
    }
  }
}
