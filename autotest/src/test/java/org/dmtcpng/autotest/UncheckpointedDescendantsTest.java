package org.dmtcpng.autotest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
 * What cannot be checkpointed is said, not silently lost: dmtcp_launch refuses a statically linked
 * program (exit 99), a checkpointed process that execs one says so, and dmtcp_nocheckpoint runs a
 * command (and its descendants) outside the computation, saying so.
 */
class UncheckpointedDescendantsTest {
  static final Path ROOT = Path.of(System.getProperty("dmtcp.root", "..")).toAbsolutePath().normalize();
  private final List<Process> started = new ArrayList<>();
  private final List<ProcessHandle> descendants = new ArrayList<>();

  @Test
  void dmtcpLaunchRefusesAStaticallyLinkedProgram() throws Exception {
    Path work = Files.createTempDirectory("static");
    try {
      Process p = start(work, "run", ROOT.resolve("bin/dmtcp_launch").toString(), "--no-coordinator",
          "-p", "0", ROOT.resolve("app-corpus/build/counter-static").toString());
      assertTrue(p.waitFor(30, TimeUnit.SECONDS));
      String out = CaseRun.read(work.resolve("run.out"));
      assertEquals(99, p.exitValue(), out);
      assertTrue(out.contains("counter-static is statically linked") && out.lines().count() == 1, out);
    } finally {
      cleanup(work);
    }
  }

  @Test
  void staticProgramsAndDmtcpNocheckpointRunOutsideTheComputationAndSaySo() throws Exception {
    Path work = Files.createTempDirectory("nocheckpoint");
    Path portFile = work.resolve("port");
    try {
      start(work, "coordinator", ROOT.resolve("bin/dmtcp_coordinator").toString(), "-p", "0",
          "--port-file", portFile.toString(), "--ckptdir", work.toString());
      await(() -> Files.exists(portFile) && CaseRun.read(portFile).strip().matches("\\d+"));
      String port = CaseRun.read(portFile).strip();
      // bash's loop uses builtins only, so bash is the computation's one lasting member
      String script = ROOT.resolve("bin/dmtcp_nocheckpoint") + " sleep 1000 & "
          + ROOT.resolve("app-corpus/build/counter-static") + " > static.out & "
          + "for i in $(seq 1 100000); do echo PROGRESS $i; read -t 0.05 < /dev/zero; done";
      start(work, "run", ROOT.resolve("bin/dmtcp_launch").toString(), "-j", "-p", port, "bash", "-c", script);
      Path out = work.resolve("run.out");
      await(() -> ProgressLog.read(out).progress().size() >= 10 && Files.exists(work.resolve("static.out"))
          && CaseRun.read(work.resolve("static.out")).contains("PROGRESS 2"));
      String text = CaseRun.read(out);
      assertTrue(text.contains("[dmtcp] dmtcp_nocheckpoint: sleep runs without checkpointing"), text);
      assertTrue(text.contains("counter-static: statically linked; from here on this process is not checkpointed"), text);
      await(() -> status(work, port).contains("NUM_PEERS=1"));
      String sleeper = started.get(1).descendants().filter(h -> h.info().command().orElse("").endsWith("sleep"))
          .findFirst().map(h -> {
            try {
              return Files.readString(Path.of("/proc/" + h.pid() + "/environ"));
            } catch (IOException e) {
              return "unreadable";
            }
          }).orElse("no sleep process");
      assertFalse(sleeper.contains("libdmtcp.so") || sleeper.contains("DMTCP_LAUNCHED"), sleeper);
      assertEquals(0, command(work, port, "-bc"), "a checkpoint with uncheckpointed descendants");
      descendants.addAll(started.get(1).descendants().toList());
      assertEquals(0, command(work, port, "-q"));
    } finally {
      cleanup(work);
    }
  }

  private void cleanup(Path work) {
    for (Process p : started) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    descendants.forEach(ProcessHandle::destroyForcibly);
    AutotestMain.deleteTree(work);
  }

  private Process start(Path work, String name, String... cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).directory(work.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectOutput(work.resolve(name + ".out").toFile()).redirectErrorStream(true).start();
    started.add(p);
    return p;
  }

  private static String status(Path work, String port) {
    try {
      Process p = new ProcessBuilder(ROOT.resolve("bin/dmtcp_command").toString(), "-p", port, "-s")
          .directory(work.toFile()).redirectErrorStream(true).start();
      String text = new String(p.getInputStream().readAllBytes());
      p.waitFor(60, TimeUnit.SECONDS);
      return text;
    } catch (IOException | InterruptedException e) {
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
