package org.dmtcpng.autotest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * dmtcp_launch --no-coordinator: the process answers dmtcp_command itself, checkpoints, and after
 * dmtcp_restart (which starts no coordinator) goes on where it was and can be checkpointed again.
 * The restarted process also shows its own command line and program break to the kernel's readers
 * ({@code ps}, {@code /proc/<pid>/cmdline}, {@code /proc/<pid>/stat}), not dmtcp_restart's.
 */
class StandaloneModeTest {
  static final Path ROOT = Path.of(System.getProperty("dmtcp.root", "..")).toAbsolutePath().normalize();
  private final List<Process> started = new ArrayList<>();
  private final List<ProcessHandle> children = new ArrayList<>();

  @Test
  void aStandaloneProcessCheckpointsAndRestartsWithoutACoordinator() throws Exception {
    Path work = Files.createTempDirectory("standalone");
    Path portFile = work.resolve("port");
    try {
      start(work, "run1", ROOT.resolve("bin/dmtcp_launch").toString(), "--no-coordinator", "-p", "0",
          "--port-file", portFile.toString(), "--ckptdir", work.toString(),
          ROOT.resolve("app-corpus/build/counter").toString(), "alpha", "beta gamma");
      await(() -> Files.exists(portFile) && CaseRun.read(portFile).strip().matches("\\d+")
          && ProgressLog.read(work.resolve("run1.out")).progress().size() >= 3);
      String port = CaseRun.read(portFile).strip();
      String cmdline = cmdline(started.get(0).pid());
      assertTrue(cmdline.endsWith("counter\0alpha\0beta gamma\0"), cmdline);
      long low = ProgressLog.read(work.resolve("run1.out")).last();
      assertEquals(0, command(work, port, "-bc"));
      long high = ProgressLog.read(work.resolve("run1.out")).last();
      assertEquals(0, command(work, port, "-k"));
      assertTrue(started.get(0).waitFor(30, TimeUnit.SECONDS), "the process died on --kill");
      Files.delete(portFile);
      Path image;
      try (var s = Files.list(work)) {
        image = s.filter(p -> p.getFileName().toString().matches("ckpt_counter_.*\\.dmtcp")).findFirst().orElseThrow();
      }
      start(work, "run2", ROOT.resolve("bin/dmtcp_restart").toString(), image.toString());
      await(() -> Files.exists(portFile) && ProgressLog.read(work.resolve("run2.out")).progress().size() >= 3);
      assertNull(ProgressLog.read(work.resolve("run2.out")).checkContinues(low, high));
      // dmtcp_restart waits outside the restarted process's pid namespace; the program is below it
      long program = started.get(1).descendants().map(ProcessHandle::pid)
          .filter(pid -> safeCmdline(pid).startsWith(ROOT.resolve("app-corpus/build/counter").toString()))
          .findFirst().orElse(-1L);
      assertEquals(cmdline, safeCmdline(program), "the command line after restart");
      String port2 = CaseRun.read(portFile).strip();
      assertEquals(0, command(work, port2, "-bc"), "a second generation");
      try (var s = Files.list(work)) {
        List<String> images = s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".dmtcp")).toList();
        assertEquals(List.of(image.getFileName().toString()), images,
            "one image, replaced in place; no .part or previous image left behind");
      }
      assertEquals(0, command(work, port2, "-q"));
      assertTrue(started.get(1).waitFor(30, TimeUnit.SECONDS), "the restarted process died on --quit");
    } finally {
      for (Process p : started) {
        p.destroyForcibly();
      }
      AutotestMain.deleteTree(work);
    }
  }

  @Test
  void aStandaloneScriptRunsItsChildrenAndSaysTheyAreNotCheckpointed() throws Exception {
    Path work = Files.createTempDirectory("standalone-children");
    Path portFile = work.resolve("port");
    try {
      // Every command the script runs is an exec'd descendant: it must run normally (the embedded
      // coordinator belongs to the launched process alone), not fail to take the port.
      String script = "sleep 1000 & for i in $(seq 1 100000); do echo PROGRESS $i;"
          + " /bin/true || echo ERROR child exited $?; sleep 0.02; done";
      start(work, "run1", ROOT.resolve("bin/dmtcp_launch").toString(), "--no-coordinator", "-p", "0",
          "--port-file", portFile.toString(), "--ckptdir", work.toString(), "bash", "-c", script);
      await(() -> Files.exists(portFile) && CaseRun.read(portFile).strip().matches("\\d+")
          && ProgressLog.read(work.resolve("run1.out")).progress().size() >= 5);
      String port = CaseRun.read(portFile).strip();
      assertEquals(0, command(work, port, "-bc"));
      long after = ProgressLog.read(work.resolve("run1.out")).last();
      await(() -> ProgressLog.read(work.resolve("run1.out")).last() >= after + 5);
      String out = CaseRun.read(work.resolve("run1.out"));
      assertTrue(out.contains("child process") && out.contains("not in this checkpoint"), out);
      assertTrue(!out.contains("ERROR") && !out.contains("cannot listen"), out);
      children.addAll(started.get(0).descendants().toList());  // -k kills the launched process only
      assertEquals(0, command(work, port, "-k"));
    } finally {
      for (Process p : started) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
      }
      children.forEach(ProcessHandle::destroyForcibly);
      AutotestMain.deleteTree(work);
    }
  }

  private void start(Path work, String name, String... cmd) throws IOException {
    started.add(new ProcessBuilder(cmd).directory(work.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectOutput(work.resolve(name + ".out").toFile()).redirectErrorStream(true).start());
  }

  private static String cmdline(long pid) throws IOException {
    return Files.readString(Path.of("/proc/" + pid + "/cmdline"));
  }

  private static String safeCmdline(long pid) {
    try {
      return cmdline(pid);
    } catch (IOException e) {
      return "";
    }
  }

  private static int command(Path work, String port, String what) throws Exception {
    Process p = new ProcessBuilder(ROOT.resolve("bin/dmtcp_command").toString(), "-p", port, what)
        .directory(work.toFile()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    return p.exitValue();
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out");
      Thread.sleep(50);
    }
  }
}
