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
 * A process that forks a short-lived child every 10 ms is checkpointed again and again: forks
 * wait for a checkpoint and checkpoints for a fork, children join and leave the computation
 * around the barrier, and every checkpoint succeeds. The last generation restarts (with whatever
 * children it caught) and the parent goes on counting.
 */
class ForkDuringCheckpointTest {
  static final Path ROOT = Path.of(System.getProperty("dmtcp.root", "..")).toAbsolutePath().normalize();
  private final List<Process> started = new ArrayList<>();

  @Test
  void checkpointsOfAProcessThatForksAllTheTimeSucceedAndRestart() throws Exception {
    Path work = Files.createTempDirectory("forkstorm");
    Path portFile = work.resolve("port");
    try {
      start(work, "coordinator", ROOT.resolve("bin/dmtcp_coordinator").toString(), "-p", "0",
          "--port-file", portFile.toString(), "--ckptdir", work.toString());
      await(() -> Files.exists(portFile) && CaseRun.read(portFile).strip().matches("\\d+"));
      String port = CaseRun.read(portFile).strip();
      start(work, "run1", ROOT.resolve("bin/dmtcp_launch").toString(), "-j", "-p", port,
          ROOT.resolve("app-corpus/build/forkstorm").toString());
      Path out = work.resolve("run1.out");
      await(() -> ProgressLog.read(out).progress().size() >= 20);
      long low = 0;
      long high = 0;
      for (int i = 0; i < 6; i++) {
        low = ProgressLog.read(out).last();
        assertEquals(0, command(work, port, "-bc"), "checkpoint " + (i + 1));
        high = ProgressLog.read(out).last();
        long seen = high;
        await(() -> ProgressLog.read(out).last() >= seen + 5);
      }
      ProgressLog before = ProgressLog.read(out);
      assertTrue(before.errors().isEmpty(), before.errors().toString());
      assertNull(before.checkConsecutive());
      assertEquals(0, command(work, port, "-k"));
      assertTrue(started.get(1).waitFor(30, TimeUnit.SECONDS), "the process died on --kill");
      start(work, "run2", work.resolve("dmtcp_restart_script.sh").toString());
      Path out2 = work.resolve("run2.out");
      await(() -> ProgressLog.read(out2).progress().size() >= 20);
      assertNull(ProgressLog.read(out2).checkContinues(low, high + 1), CaseRun.read(out2));
      assertEquals(0, command(work, port, "-bc"), "a checkpoint after restart");
      assertEquals(0, command(work, port, "-q"));
    } finally {
      for (Process p : started) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
      }
      AutotestMain.deleteTree(work);
    }
  }

  private void start(Path work, String name, String... cmd) throws IOException {
    started.add(new ProcessBuilder(cmd).directory(work.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectOutput(work.resolve(name + ".out").toFile()).redirectErrorStream(true).start());
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
