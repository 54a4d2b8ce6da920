package org.dmtcpng.autotest;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * dmtcp_restart stands for the restarted computation towards whoever started it: it ends with
 * the restarted program's exit code, and a signal sent to it reaches the program.
 */
class RestartExitTest {
  static final Path ROOT = Path.of(System.getProperty("dmtcp.root", "..")).toAbsolutePath().normalize();
  private final List<Process> started = new ArrayList<>();

  @Test
  void theExitCodeAndSignalsPassThroughDmtcpRestart() throws Exception {
    Path work = Files.createTempDirectory("restart-exit");
    Path portFile = work.resolve("port");
    try {
      start(work, "coordinator", ROOT.resolve("bin/dmtcp_coordinator").toString(), "-p", "0",
          "--port-file", portFile.toString(), "--ckptdir", work.toString());
      await(() -> Files.exists(portFile) && CaseRun.read(portFile).strip().matches("\\d+"));
      String port = CaseRun.read(portFile).strip();
      // builtins only after the start, so bash is the one member; it ends with exit code 7
      String script = "for i in $(seq 1 40); do echo PROGRESS $i; read -t 0.05 < /dev/zero; done; exit 7";
      Process launched = start(work, "run1", ROOT.resolve("bin/dmtcp_launch").toString(), "-j", "-p", port,
          "bash", "-c", script);
      await(() -> ProgressLog.read(work.resolve("run1.out")).progress().size() >= 3);
      assertEquals(0, command(work, port, "-bc"));
      assertEquals(0, command(work, port, "-k"));
      assertTrue(launched.waitFor(30, TimeUnit.SECONDS));
      List<String> restart = new ArrayList<>(List.of(ROOT.resolve("bin/dmtcp_restart").toString(), "-j", "-p", port));
      try (var s = Files.list(work)) {
        s.filter(p -> p.getFileName().toString().matches("ckpt_.*\\.dmtcp")).forEach(p -> restart.add(p.toString()));
      }

      Process again = start(work, "run2", restart.toArray(String[]::new));
      assertTrue(again.waitFor(60, TimeUnit.SECONDS), "the restarted program did not finish");
      assertEquals(7, again.exitValue(), CaseRun.read(work.resolve("run2.out")));
      assertTrue(ProgressLog.read(work.resolve("run2.out")).progress().contains(40L));

      Process third = start(work, "run3", restart.toArray(String[]::new));
      await(() -> ProgressLog.read(work.resolve("run3.out")).progress().size() >= 3);
      new ProcessBuilder("kill", "-TERM", Long.toString(third.pid())).start().waitFor();
      assertTrue(third.waitFor(30, TimeUnit.SECONDS), "SIGTERM did not reach the restarted program");
      assertEquals(128 + 15, third.exitValue(), CaseRun.read(work.resolve("run3.out")));
      assertEquals(0, command(work, port, "-q"));
    } finally {
      for (Process p : started) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
      }
      AutotestMain.deleteTree(work);
    }
  }

  private Process start(Path work, String name, String... cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).directory(work.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectOutput(work.resolve(name + ".out").toFile()).redirectErrorStream(true).start();
    started.add(p);
    return p;
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
